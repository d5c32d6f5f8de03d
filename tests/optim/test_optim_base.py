"""The Optimizer base: groups, state, zero_grad, state_dict, in-place float32 updates."""
import warnings

import numpy as np
import pytest

import deepprimer as dp
from deepprimer import optim
from deepprimer.serialization import load, save

ALL = [
    (optim.SGD, dict(lr=0.1, momentum=0.9)),
    (optim.SGD, dict(lr=0.1)),
    (optim.RMSprop, dict(lr=0.01, momentum=0.9, centered=True)),
    (optim.Adam, dict(lr=0.01, amsgrad=True, weight_decay=0.01)),
    (optim.AdamW, dict(lr=0.01)),
    (optim.Adagrad, dict(lr=0.1, lr_decay=0.01)),
]
IDS = [f"{cls.__name__}-{kw}" for cls, kw in ALL]


def params(seed=0):
    rng = np.random.default_rng(seed)
    w = dp.tensor(rng.standard_normal((4, 3)).astype(np.float32), requires_grad=True)
    b = dp.tensor(rng.standard_normal(3).astype(np.float32), requires_grad=True)
    return w, b


def loss_of(w, b, seed=1):
    rng = np.random.default_rng(seed)
    x = dp.tensor(rng.standard_normal((8, 4)).astype(np.float32))
    out = (x @ w + b).tanh()
    return (out * out).sum()


def train(opt, w, b, steps):
    for _ in range(steps):
        opt.zero_grad()
        loss_of(w, b).backward()
        opt.step()


@pytest.mark.parametrize("cls, kwargs", ALL, ids=IDS)
def test_updates_in_place_and_stay_float32(cls, kwargs):
    w, b = params()
    w_array, b_array = w.data, b.data
    opt = cls([w, b], **kwargs)
    train(opt, w, b, 3)
    assert w.data is w_array and b.data is b_array  # the same arrays, changed in place
    assert w.dtype == np.float32 and b.dtype == np.float32
    state_arrays = {}
    for p in (w, b):
        for key, value in opt.state[p].items():
            if key != "step":
                assert value.dtype == np.float32, key
                state_arrays[(id(p), key)] = value.data
    train(opt, w, b, 2)
    for p in (w, b):  # state arrays are updated in place too, not replaced
        for key, value in opt.state[p].items():
            if key != "step":
                assert value.data is state_arrays[(id(p), key)]


@pytest.mark.parametrize("cls, kwargs", ALL, ids=IDS)
def test_float64_parameters_stay_float64(cls, kwargs):
    w = dp.tensor(np.ones((3, 2)), dtype=dp.float64, requires_grad=True)
    opt = cls([w], **kwargs)
    for _ in range(2):
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()
    assert w.dtype == np.float64
    assert not np.allclose(w.data, 1.0)


def test_sgd_step_by_hand():
    w = dp.tensor([1.0, -2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=0.5)
    for _ in range(2):
        opt.zero_grad()
        (w * w).sum().backward()  # grad 2w
        opt.step()
    # step 1: b = 2w0 = [2, -4], w1 = w0 - 0.1 b = [0.8, -1.6]
    # step 2: b = 0.5 [2, -4] + 2 w1 = [2.6, -5.2], w2 = w1 - 0.1 b = [0.54, -1.08]
    np.testing.assert_allclose(w.data, [0.54, -1.08], rtol=1e-6)


def test_adam_first_step_is_lr_times_sign():
    """With bias correction, Adam's first step is lr * g / (|g| + eps): about lr * sign(g)."""
    w = dp.tensor([1.0, -3.0, 0.5], requires_grad=True)
    opt = optim.Adam([w], lr=0.01)
    (w * w).sum().backward()
    opt.step()
    np.testing.assert_allclose(w.data, [0.99, -2.99, 0.49], rtol=1e-6)


def test_adamw_decays_weights_even_with_zero_gradient():
    w = dp.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.AdamW([w], lr=0.1, weight_decay=0.5)
    w.grad = dp.zeros_like(w)
    opt.step()
    np.testing.assert_allclose(w.data, [0.95, 1.9], rtol=1e-6)  # p *= 1 - lr*wd


def test_parameters_without_grad_are_skipped():
    w, b = params()
    opt = optim.Adam([w, b], lr=0.1)
    w.grad = dp.ones_like(w)
    before = b.data.copy()
    opt.step()
    np.testing.assert_array_equal(b.data, before)
    assert b not in opt.state


def test_zero_grad_set_to_none_and_to_zero():
    w, b = params()
    opt = optim.SGD([w, b], lr=0.1)
    loss_of(w, b).backward()
    opt.zero_grad(set_to_none=False)
    assert w.grad is not None and not w.grad.data.any() and not b.grad.data.any()
    loss_of(w, b).backward()
    opt.zero_grad()
    assert w.grad is None and b.grad is None


def test_step_bumps_the_version_so_a_stale_graph_is_caught():
    w = dp.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    y = (w * w).sum()
    y.backward(retain_graph=True)
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()


def test_closure_is_called_and_its_loss_returned():
    w, b = params()
    opt = optim.SGD([w, b], lr=0.1)
    calls = []

    def closure():
        opt.zero_grad()
        loss = loss_of(w, b)
        loss.backward()
        calls.append(1)
        return loss

    loss = opt.step(closure)
    assert calls == [1] and isinstance(loss, dp.Tensor)


def test_param_groups_have_their_own_hyperparameters():
    w, b = params()
    opt = optim.SGD([{"params": [w]}, {"params": b, "lr": 0.5, "weight_decay": 0.1}], lr=0.1, momentum=0.9)
    assert len(opt.param_groups) == 2
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[0]["weight_decay"] == 0
    assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[1]["momentum"] == 0.9
    assert opt.param_groups[1]["params"][0] is b


def test_changing_group_lr_is_honoured():
    w = dp.tensor([1.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    opt.param_groups[0]["lr"] = 0.0
    w.grad = dp.ones_like(w)
    opt.step()
    assert w.data[0] == 1.0
    opt.param_groups[0]["lr"] = 0.25
    opt.step()
    assert w.data[0] == 0.75


def test_add_param_group():
    w, b = params()
    opt = optim.Adam([w], lr=0.01)
    opt.add_param_group({"params": [b], "lr": 0.1})
    assert opt.param_groups[1]["lr"] == 0.1 and opt.param_groups[1]["betas"] == (0.9, 0.999)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [w]})
    with pytest.raises(TypeError, match="must be a dict"):
        opt.add_param_group([b])


def test_named_parameters_are_accepted():
    w, b = params()
    opt = optim.SGD([("w", w), ("b", b)], lr=0.1)
    assert opt.param_groups[0]["params"] == [w, b]
    assert opt.param_groups[0]["param_names"] == ["w", "b"]


def test_bad_params_are_clear_errors():
    w, b = params()
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="iterable of Tensors"):
        optim.SGD(w, lr=0.1)
    with pytest.raises(TypeError, match="only optimize Tensors"):
        optim.SGD([np.ones(3)], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([w * 2], lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD({w, b}, lr=0.1)
    with pytest.raises(ValueError, match="Invalid learning rate"):
        optim.Adam([w], lr=-1)
    with pytest.raises(ValueError, match="beta parameter at index 1"):
        optim.Adam([w], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([w], lr=0.1, nesterov=True)
    with pytest.warns(UserWarning, match="duplicate"):
        optim.SGD([w, w], lr=0.1)


def test_generator_of_parameters_is_accepted():
    w, b = params()
    opt = optim.SGD((p for p in [w, b]), lr=0.1)
    assert opt.param_groups[0]["params"] == [w, b]


def test_defaults_match_torch():
    w, _ = params()
    assert optim.SGD([w]).defaults["lr"] == 1e-3
    assert optim.Adam([w]).defaults == dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                                            amsgrad=False, maximize=False, decoupled_weight_decay=False)
    assert optim.AdamW([w]).defaults["weight_decay"] == 1e-2
    assert optim.AdamW([w]).defaults["decoupled_weight_decay"] is True
    rms = optim.RMSprop([w]).defaults
    assert (rms["lr"], rms["alpha"], rms["eps"]) == (1e-2, 0.99, 1e-8)
    ada = optim.Adagrad([w]).defaults
    assert (ada["lr"], ada["eps"], ada["initial_accumulator_value"]) == (1e-2, 1e-10, 0)


def test_state_dict_structure_mirrors_torch():
    w, b = params()
    opt = optim.Adam([{"params": [w]}, {"params": [b], "lr": 0.1}], lr=0.01)
    train(opt, w, b, 2)
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert sorted(sd["state"]) == [0, 1]
    assert set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    assert sd["state"][0]["step"] == 2
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert sd["param_groups"][1]["lr"] == 0.1


def test_sgd_without_momentum_has_no_state():
    w, b = params()
    opt = optim.SGD([w, b], lr=0.1)
    train(opt, w, b, 2)
    assert opt.state_dict()["state"] == {}


def test_adagrad_state_exists_before_the_first_step():
    w, b = params()
    opt = optim.Adagrad([w, b], initial_accumulator_value=0.25)
    sd = opt.state_dict()["state"]
    assert sd[0]["step"] == 0 and np.all(sd[0]["sum"].data == 0.25)


@pytest.mark.parametrize("cls, kwargs", ALL, ids=IDS)
def test_state_dict_save_load_resumes_exactly(cls, kwargs, tmp_path):
    """Train 3 steps, checkpoint, train 4 more == train 3, load into a fresh one, train 4."""
    w, b = params()
    opt = cls([{"params": [w]}, {"params": [b], "lr": 0.05}], **kwargs)
    train(opt, w, b, 3)
    save({"params": [w, b], "optim": opt.state_dict()}, tmp_path / "ckpt.npz")
    train(opt, w, b, 4)

    ckpt = load(tmp_path / "ckpt.npz")
    w2 = dp.tensor(ckpt["params"][0].data, requires_grad=True)
    b2 = dp.tensor(ckpt["params"][1].data, requires_grad=True)
    opt2 = cls([{"params": [w2]}, {"params": [b2]}], lr=123.0)
    opt2.load_state_dict(ckpt["optim"])
    assert opt2.param_groups[1]["lr"] == 0.05
    assert opt2.param_groups[0]["params"][0] is w2
    train(opt2, w2, b2, 4)
    np.testing.assert_array_equal(w2.data, w.data)
    np.testing.assert_array_equal(b2.data, b.data)


def test_load_state_dict_copies_and_casts():
    w, b = params()
    opt = optim.Adam([w, b], lr=0.1)
    train(opt, w, b, 1)
    sd = opt.state_dict()
    sd["state"][0]["exp_avg"] = dp.tensor(sd["state"][0]["exp_avg"].data, dtype=dp.float64)
    opt2 = optim.Adam([w, b], lr=0.1)
    opt2.load_state_dict(sd)
    assert opt2.state[w]["exp_avg"].dtype == np.float32  # cast to the parameter's dtype
    assert opt2.state[b]["exp_avg"].data is not sd["state"][1]["exp_avg"].data  # a copy
    train(opt2, w, b, 1)  # and it steps


def test_load_state_dict_mismatches_are_clear_errors():
    w, b = params()
    opt = optim.Adam([w, b], lr=0.1)
    train(opt, w, b, 1)
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.Adam([{"params": [w]}, {"params": [b]}]).load_state_dict(sd)
    with pytest.raises(ValueError, match="doesn't match the size"):
        optim.Adam([w]).load_state_dict(sd)
    with pytest.raises(ValueError, match="has shape"):
        optim.Adam([b, w]).load_state_dict(sd)
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        optim.Adam([w]).load_state_dict({"weights": 1})


def test_repr_lists_hyperparameters():
    w, _ = params()
    text = repr(optim.SGD([w], lr=0.1, momentum=0.9))
    assert text.startswith("SGD (") and "Parameter Group 0" in text and "momentum: 0.9" in text


def test_no_float64_scalars_sneak_in():
    """NumPy float64 hyperparameters (e.g. from np.linspace) do not upcast the update."""
    w, b = params()
    opt = optim.Adam([w, b], lr=np.float64(0.01), betas=(np.float64(0.9), 0.999),
                     weight_decay=np.float64(0.1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        train(opt, w, b, 2)
    assert w.dtype == np.float32 and opt.state[w]["exp_avg"].dtype == np.float32
