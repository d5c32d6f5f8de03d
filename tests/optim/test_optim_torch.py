"""Each optimizer against torch.optim: same start, same problem, 20 steps, same parameters."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import deepprimer as dp  # noqa: E402
from deepprimer import optim  # noqa: E402

pytestmark = pytest.mark.torch

STEPS = 20
RNG = np.random.default_rng(0)
X = RNG.standard_normal((16, 5)).astype(np.float32)
Y = RNG.standard_normal((16, 3)).astype(np.float32)
W0 = (0.5 * RNG.standard_normal((5, 3))).astype(np.float32)
B0 = (0.1 * RNG.standard_normal(3)).astype(np.float32)


def dp_loss(w, b):
    err = (dp.tensor(X) @ w + b).tanh() - dp.tensor(Y)
    return (err * err).sum() * (1.0 / err.shape[0])


def torch_loss(w, b):
    err = torch.tanh(torch.from_numpy(X) @ w + b) - torch.from_numpy(Y)
    return (err * err).sum() * (1.0 / err.shape[0])


def groups(params, group_kwargs):
    """One group per parameter when per-group settings are given, else a plain list."""
    if group_kwargs is None:
        return list(params)
    return [dict(params=[p], **kw) for p, kw in zip(params, group_kwargs)]


def run(name, kwargs, group_kwargs=None, steps=STEPS, sched=None):
    w = dp.tensor(W0.copy(), requires_grad=True)
    b = dp.tensor(B0.copy(), requires_grad=True)
    opt = getattr(optim, name)(groups([w, b], group_kwargs), **kwargs)
    tw = torch.tensor(W0.copy(), requires_grad=True)
    tb = torch.tensor(B0.copy(), requires_grad=True)
    topt = getattr(torch.optim, name)(groups([tw, tb], group_kwargs), **kwargs)
    scheds = None
    if sched is not None:
        cls, skw = sched
        scheds = (getattr(optim.lr_scheduler, cls)(opt, **skw),
                  getattr(torch.optim.lr_scheduler, cls)(topt, **skw))
    for _ in range(steps):
        opt.zero_grad()
        dp_loss(w, b).backward()
        opt.step()
        topt.zero_grad()
        torch_loss(tw, tb).backward()
        topt.step()
        if scheds:
            scheds[0].step()
            scheds[1].step()
    return (w, b, opt), (tw, tb, topt)


def assert_close(ours, theirs, rtol=2e-5, atol=2e-6):
    (w, b, opt), (tw, tb, topt) = ours, theirs
    assert w.dtype == np.float32 and b.dtype == np.float32
    # the parameters moved well away from the start, so the comparison means something
    assert np.abs(w.data - W0).max() > 1e-2
    np.testing.assert_allclose(w.data, tw.detach().numpy(), rtol=rtol, atol=atol)
    np.testing.assert_allclose(b.data, tb.detach().numpy(), rtol=rtol, atol=atol)
    # and the optimizer state agrees too, key by key
    ts = topt.state_dict()["state"]
    for idx, state in opt.state_dict()["state"].items():
        assert set(state) == set(ts[idx]), (state.keys(), ts[idx].keys())
        for key, value in state.items():
            if key == "step":
                assert value == int(ts[idx][key].item())
            else:
                assert value.dtype == np.float32
                ref = ts[idx][key].numpy()
                # relative to the array's scale: sqrt(s - a*a) in centered RMSprop cancels
                scale = max(atol, 1e-5 * float(np.abs(ref).max()))
                np.testing.assert_allclose(value.data, ref, rtol=rtol, atol=scale)


CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.1, momentum=0.8, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.05)),
    ("SGD", dict(lr=0.1, weight_decay=0.1, maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-6)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.005, centered=True, momentum=0.5, weight_decay=0.1)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.05, maximize=True)),
    ("Adam", dict(lr=0.01, betas=(0.3, 0.9))),  # beta1 < 0.5: the other branch of lerp
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.3)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5, eps=1e-6)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1, lr_decay=0.01)),
]


@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_matches_torch_after_20_steps(name, kwargs):
    assert_close(*run(name, kwargs))


@pytest.mark.parametrize("name, kwargs, group_kwargs", [
    ("SGD", dict(lr=0.1, momentum=0.9), [dict(lr=0.05, weight_decay=0.1), dict(momentum=0.5)]),
    ("Adam", dict(lr=0.01), [dict(weight_decay=0.1), dict(lr=0.03, betas=(0.5, 0.9))]),
    ("AdamW", dict(lr=0.01), [dict(weight_decay=0.5), dict(lr=0.02, weight_decay=0.0)]),
    ("RMSprop", dict(lr=0.01), [dict(centered=True), dict(momentum=0.9, lr=0.002)]),
    ("Adagrad", dict(lr=0.1), [dict(lr_decay=0.1), dict(weight_decay=0.2)]),
])
def test_param_groups_match_torch(name, kwargs, group_kwargs):
    ours, theirs = run(name, kwargs, group_kwargs)
    assert_close(ours, theirs)
    ours_groups = ours[2].state_dict()["param_groups"]
    theirs_groups = theirs[2].state_dict()["param_groups"]
    for g, tg in zip(ours_groups, theirs_groups):
        for key, value in g.items():  # every key we keep has torch's name and value
            assert tg[key] == value, key


@pytest.mark.parametrize("name, kwargs, sched", [
    ("SGD", dict(lr=0.1, momentum=0.9), ("StepLR", dict(step_size=5, gamma=0.5))),
    ("Adam", dict(lr=0.05), ("CosineAnnealingLR", dict(T_max=10, eta_min=0.001))),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True), ("OneCycleLR", dict(max_lr=0.2, total_steps=STEPS))),
    ("Adam", dict(lr=0.01), ("OneCycleLR", dict(max_lr=0.05, total_steps=STEPS, three_phase=True))),
    ("AdamW", dict(lr=0.05), ("LinearLR", dict(start_factor=0.1, total_iters=8))),
])
def test_with_scheduler_matches_torch(name, kwargs, sched):
    """Schedulers set group['lr'] (and momentum/betas); the optimizer must honour it."""
    assert_close(*run(name, kwargs, sched=sched))


def test_step_counts_per_parameter_like_torch():
    """A parameter without a gradient is skipped: its state and step count do not move."""
    (w, b, opt), _ = run("Adam", dict(lr=0.01), steps=3)
    b.grad = None
    w.grad = dp.ones_like(w)
    opt.step()
    assert opt.state[w]["step"] == 4 and opt.state[b]["step"] == 3
