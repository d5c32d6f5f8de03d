"""Layers against PyTorch: the same weights copied in (float64), the same outputs and gradients."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import deepprimer as dp  # noqa: E402
from deepprimer import nn  # noqa: E402

RTOL, ATOL = 1e-9, 1e-11


def pair(name, *args, **kwargs):
    """The same layer in both frameworks, float64, deepprimer's weights loaded from torch's."""
    tm = getattr(torch.nn, name)(*args, **kwargs).double()
    dm = getattr(nn, name)(*args, **kwargs).double()
    dm.load_state_dict(tm.state_dict())
    return tm, dm


def close(d, t, rtol=RTOL, atol=ATOL):
    t = t.detach().numpy() if isinstance(t, torch.Tensor) else t
    d = d.data if isinstance(d, dp.Tensor) else d
    np.testing.assert_allclose(d, t, rtol=rtol, atol=atol)


def run_both(tm, dm, x, seed=0, integer=False, rtol=RTOL, atol=ATOL):
    """Forward on the same input, backward of the same random output gradient; compare the
    outputs, the input gradients and every parameter's gradient by name."""
    xt = torch.tensor(x) if integer else torch.tensor(x, requires_grad=True)
    xd = dp.tensor(x) if integer else dp.tensor(x, requires_grad=True)
    yt, yd = tm(xt), dm(xd)
    assert tuple(yd.shape) == tuple(yt.shape)
    close(yd, yt, rtol, atol)
    g = np.random.default_rng(seed).standard_normal(tuple(yt.shape))
    yt.backward(torch.tensor(g))
    yd.backward(dp.tensor(g))
    if not integer:
        close(xd.grad, xt.grad, rtol, atol)
    tparams = dict(tm.named_parameters())
    dparams = dict(dm.named_parameters())
    assert list(dparams) == list(tparams)
    for name, tp in tparams.items():
        if tp.grad is None:
            assert dparams[name].grad is None, name
        else:
            close(dparams[name].grad, tp.grad, rtol, atol)
    return yt, yd


def randn(*shape, seed=1):
    return np.random.default_rng(seed).standard_normal(shape)


# ---- Linear and shape layers ---------------------------------------------------------------


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(7, 5), (2, 3, 5), (5,)])
def test_linear(bias, shape):
    tm, dm = pair("Linear", 5, 4, bias=bias)
    assert tuple(dm.weight.shape) == (4, 5)
    run_both(tm, dm, randn(*shape))


@pytest.mark.parametrize("name,args", [
    ("Identity", ()), ("Flatten", ()), ("Flatten", (0, 1)), ("Unflatten", (1, (3, 4))),
    ("Unflatten", (-1, (2, -1))),
])
def test_shape_layers(name, args):
    tm, dm = pair(name, *args)
    run_both(tm, dm, randn(2, 12, 1) if name != "Unflatten" else randn(2, 12))


# ---- activations --------------------------------------------------------------------------------


@pytest.mark.parametrize("name,args,kwargs", [
    ("ReLU", (), {}), ("LeakyReLU", (), {}), ("LeakyReLU", (0.2,), {}), ("Sigmoid", (), {}),
    ("Tanh", (), {}), ("Softmax", (), {"dim": 1}), ("Softmax", (), {"dim": 0}),
    ("LogSoftmax", (), {"dim": 1}), ("LogSoftmax", (), {"dim": -1}), ("GELU", (), {}),
    ("GELU", (), {"approximate": "tanh"}), ("ELU", (), {}), ("ELU", (0.7,), {}),
    ("Softplus", (), {}), ("Softplus", (), {"beta": 2.0, "threshold": 1.5}),
])
def test_activations(name, args, kwargs):
    tm, dm = pair(name, *args, **kwargs)
    run_both(tm, dm, randn(6, 5) * 3)


# ---- dropout --------------------------------------------------------------------------------------


def test_dropout_eval_is_identity_and_p0_too():
    tm, dm = pair("Dropout", 0.3)
    tm.eval(), dm.eval()
    run_both(tm, dm, randn(4, 6))
    tm, dm = pair("Dropout", 0.0)
    run_both(tm, dm, randn(4, 6))


# ---- batch norm -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs", [
    {}, {"affine": False}, {"momentum": None}, {"momentum": 0.3, "eps": 1e-3}, {"bias": False},
])
@pytest.mark.parametrize("shape", [(8, 4), (6, 4, 5)])
def test_batchnorm1d_training_running_stats_and_eval(kwargs, shape):
    tm, dm = pair("BatchNorm1d", 4, **kwargs)
    if dm.weight is not None:  # non-trivial affine parameters
        w, b = randn(4, seed=5), randn(4, seed=6)
        with torch.no_grad():
            tm.weight.copy_(torch.tensor(w))
            if tm.bias is not None:
                tm.bias.copy_(torch.tensor(b))
        dm.load_state_dict(tm.state_dict())
    for step in range(3):  # three training steps: running statistics follow torch's
        run_both(tm, dm, randn(*shape, seed=10 + step) * 2 + 1, seed=step)
        for key, value in tm.state_dict().items():
            close(dm.state_dict()[key], value)
    assert int(dm.num_batches_tracked.item()) == 3
    tm.eval(), dm.eval()
    run_both(tm, dm, randn(*shape, seed=20))
    for key, value in tm.state_dict().items():  # eval leaves the statistics alone
        close(dm.state_dict()[key], value)


def test_batchnorm_without_running_stats_uses_batch_stats_in_eval():
    tm, dm = pair("BatchNorm1d", 3, track_running_stats=False)
    assert list(dm.state_dict()) == list(tm.state_dict()) == ["weight", "bias"]
    tm.eval(), dm.eval()
    run_both(tm, dm, randn(5, 3))


def test_batchnorm2d():
    tm, dm = pair("BatchNorm2d", 3)
    run_both(tm, dm, randn(4, 3, 5, 2))
    tm.eval(), dm.eval()
    run_both(tm, dm, randn(4, 3, 5, 2, seed=3))
    close(dm.running_var, tm.running_var)


def test_batchnorm_float32_matches_torch():
    tm = torch.nn.BatchNorm1d(6)
    dm = nn.BatchNorm1d(6)
    x = (randn(64, 6) * 3 + 2).astype(np.float32)
    yt, yd = tm(torch.tensor(x)), dm(dp.tensor(x))
    assert yd.dtype == dp.float32 and dm.running_mean.dtype == dp.float32
    close(yd, yt, rtol=1e-4, atol=1e-5)
    close(dm.running_var, tm.running_var, rtol=1e-5, atol=1e-6)


# ---- layer norm ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape,normalized", [((6, 5), 5), ((2, 3, 5), (5,)), ((2, 3, 4), (3, 4))])
@pytest.mark.parametrize("kwargs", [{}, {"elementwise_affine": False}, {"bias": False}, {"eps": 1e-2}])
def test_layernorm(shape, normalized, kwargs):
    tm, dm = pair("LayerNorm", normalized, **kwargs)
    if tm.weight is not None:
        with torch.no_grad():
            tm.weight.copy_(torch.tensor(randn(*tm.weight.shape, seed=7)))
            if tm.bias is not None:
                tm.bias.copy_(torch.tensor(randn(*tm.bias.shape, seed=8)))
        dm.load_state_dict(tm.state_dict())
    run_both(tm, dm, randn(*shape) * 2 + 0.5)


# ---- embedding --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs", [
    {}, {"padding_idx": 0}, {"padding_idx": -1}, {"scale_grad_by_freq": True},
    {"padding_idx": 2, "scale_grad_by_freq": True},
])
def test_embedding_repeated_indices(kwargs):
    tm, dm = pair("Embedding", 6, 3, **kwargs)
    idx = np.array([[0, 2, 2, 5], [2, 1, 0, 2]])  # repeated indices must accumulate
    run_both(tm, dm, idx, integer=True)


def test_embedding_padding_row_is_zero_at_init():
    dm = nn.Embedding(5, 4, padding_idx=3)
    assert np.all(dm.weight.data[3] == 0)


def test_embedding_max_norm_renormalises_like_torch():
    tm, dm = pair("Embedding", 6, 4, max_norm=1.0)
    idx = np.array([1, 3, 3, 4])
    run_both(tm, dm, idx, integer=True)
    close(dm.weight, tm.weight)  # rows 1, 3, 4 rescaled in place, the others untouched


def test_embedding_from_pretrained():
    w = randn(4, 3)
    tm = torch.nn.Embedding.from_pretrained(torch.tensor(w))
    dm = nn.Embedding.from_pretrained(dp.tensor(w))
    assert not dm.weight.requires_grad
    close(dm(dp.tensor([3, 0])), tm(torch.tensor([3, 0])))


# ---- functional forms ------------------------------------------------------------------------------------


def test_functional_norms_match_torch():
    import torch.nn.functional as tF

    import deepprimer.nn.functional as F

    x = randn(5, 3, 4)
    rm, rv, w, b = randn(3, seed=2), np.abs(randn(3, seed=3)) + 0.5, randn(3, seed=4), randn(3, seed=5)
    for training in (True, False):
        trm, trv = torch.tensor(rm), torch.tensor(rv)
        drm, drv = dp.tensor(rm), dp.tensor(rv)
        yt = tF.batch_norm(torch.tensor(x), trm, trv, torch.tensor(w), torch.tensor(b), training, 0.2, 1e-4)
        yd = F.batch_norm(dp.tensor(x), drm, drv, dp.tensor(w), dp.tensor(b), training, 0.2, 1e-4)
        close(yd, yt)
        close(drm, trm)
        close(drv, trv)
    yt = tF.layer_norm(torch.tensor(x), [3, 4], torch.tensor(randn(3, 4)), None, 1e-3)
    yd = F.layer_norm(dp.tensor(x), [3, 4], dp.tensor(randn(3, 4)), None, 1e-3)
    close(yd, yt)
    idx = np.array([[1, 0], [2, 2]])
    table = randn(3, 2)
    close(F.embedding(dp.tensor(idx), dp.tensor(table)), tF.embedding(torch.tensor(idx), torch.tensor(table)))


# ---- losses ---------------------------------------------------------------------------------------------


def _loss_case(name):
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((6, 4))
    classes = rng.integers(0, 4, 6)
    probs = 1 / (1 + np.exp(-rng.standard_normal((6, 4))))
    binary = (rng.random((6, 4)) > 0.5).astype(np.float64)
    dist = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    return {
        "MSELoss": (logits, rng.standard_normal((6, 4))),
        "L1Loss": (logits, rng.standard_normal((6, 4))),
        "HuberLoss": (logits * 2, rng.standard_normal((6, 4))),
        "SmoothL1Loss": (logits * 2, rng.standard_normal((6, 4))),
        "CrossEntropyLoss": (logits, classes),
        "NLLLoss": (np.log(dist), classes),
        "BCELoss": (probs, binary),
        "BCEWithLogitsLoss": (logits, binary),
        "KLDivLoss": (np.log(dist), dist[::-1].copy()),
    }[name]


LOSS_CASES = [
    ("MSELoss", {}), ("L1Loss", {}), ("HuberLoss", {}), ("HuberLoss", {"delta": 0.5}),
    ("SmoothL1Loss", {}), ("SmoothL1Loss", {"beta": 0.4}), ("CrossEntropyLoss", {}),
    ("CrossEntropyLoss", {"weight": [1.0, 2.0, 0.5, 1.5]}), ("CrossEntropyLoss", {"ignore_index": 1}),
    ("CrossEntropyLoss", {"label_smoothing": 0.1}), ("NLLLoss", {}), ("NLLLoss", {"weight": [1.0, 2.0, 0.5, 1.5]}),
    ("NLLLoss", {"ignore_index": 2}), ("BCELoss", {}), ("BCELoss", {"weight": [1.0, 2.0, 0.5, 1.5]}),
    ("BCEWithLogitsLoss", {}), ("BCEWithLogitsLoss", {"pos_weight": [1.0, 3.0, 0.5, 2.0]}),
    ("KLDivLoss", {}), ("KLDivLoss", {"log_target": True}),
]


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides:UserWarning")  # torch's KLDivLoss note
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name,kwargs", LOSS_CASES)
def test_losses(name, kwargs, reduction):
    x, target = _loss_case(name)
    if kwargs.get("log_target"):
        target = np.log(target)
    tkw = {k: torch.tensor(v, dtype=torch.float64) if isinstance(v, list) else v for k, v in kwargs.items()}
    dkw = {k: dp.tensor(v, dtype=dp.float64) if isinstance(v, list) else v for k, v in kwargs.items()}
    tl = getattr(torch.nn, name)(reduction=reduction, **tkw)
    dl = getattr(nn, name)(reduction=reduction, **dkw)
    xt, xd = torch.tensor(x, requires_grad=True), dp.tensor(x, requires_grad=True)
    yt, yd = tl(xt, torch.tensor(target)), dl(xd, dp.tensor(target))
    close(yd, yt)
    g = np.random.default_rng(0).standard_normal(tuple(yt.shape))
    yt.backward(torch.tensor(g))
    yd.backward(dp.tensor(g))
    close(xd.grad, xt.grad)
    assert list(dl.state_dict()) == list(tl.state_dict())


def test_kldiv_batchmean_and_cross_entropy_spatial():
    x, target = _loss_case("KLDivLoss")
    close(nn.KLDivLoss(reduction="batchmean")(dp.tensor(x), dp.tensor(target)),
          torch.nn.KLDivLoss(reduction="batchmean")(torch.tensor(x), torch.tensor(target)))
    logits = randn(3, 4, 5)
    target = np.random.default_rng(0).integers(0, 4, (3, 5))
    close(nn.CrossEntropyLoss()(dp.tensor(logits), dp.tensor(target)),
          torch.nn.CrossEntropyLoss()(torch.tensor(logits), torch.tensor(target)))


@pytest.mark.filterwarnings("ignore:size_average and reduce args will be deprecated:UserWarning")
def test_legacy_size_average_reduce():
    for size_average, reduce in [(False, None), (None, False), (True, True)]:
        x, t = _loss_case("MSELoss")
        tl = torch.nn.MSELoss(size_average=size_average, reduce=reduce)
        dl = nn.MSELoss(size_average=size_average, reduce=reduce)
        assert dl.reduction == tl.reduction
        close(dl(dp.tensor(x), dp.tensor(t)), tl(torch.tensor(x), torch.tensor(t)))


# ---- whole models: state dicts, reprs -----------------------------------------------------------------


def build(lib):
    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = lib.nn.Embedding(10, 6, padding_idx=0)
            self.body = lib.nn.Sequential(
                lib.nn.Linear(6, 8), lib.nn.BatchNorm1d(8), lib.nn.ReLU(), lib.nn.Dropout(0.1),
                lib.nn.Linear(8, 8, bias=False), lib.nn.LayerNorm(8), lib.nn.GELU(),
            )
            self.heads = lib.nn.ModuleDict({"a": lib.nn.Linear(8, 3), "b": lib.nn.Linear(8, 2)})
            self.extra = lib.nn.ModuleList([lib.nn.Linear(3, 3), lib.nn.Tanh()])
            self.loss = lib.nn.CrossEntropyLoss(weight=lib.ones(3))

        def forward(self, idx):
            h = self.body(self.embed(idx).mean(1))
            return self.extra[1](self.extra[0](self.heads["a"](h))), self.heads["b"](h)

    return Net()


def test_state_dict_keys_and_shapes_equal_torch():
    t_sd = build(torch).state_dict()
    d_sd = build(dp).state_dict()
    assert [(k, tuple(v.shape)) for k, v in d_sd.items()] == [(k, tuple(v.shape)) for k, v in t_sd.items()]
    assert str(d_sd["body.1.num_batches_tracked"].dtype) == "int64"
    assert [n for n, _ in build(dp).named_parameters()] == [n for n, _ in build(torch).named_parameters()]
    assert [n for n, _ in build(dp).named_modules()] == [n for n, _ in build(torch).named_modules()]
    assert [n for n, _ in build(dp).named_buffers()] == [n for n, _ in build(torch).named_buffers()]


def test_torch_state_dict_loads_and_gives_torch_outputs():
    torch.manual_seed(0)
    tm, dm = build(torch).double(), build(dp).double()
    idx = np.random.default_rng(0).integers(0, 10, (5, 4))
    tm.train()
    tm(torch.tensor(idx))  # move the running statistics away from their defaults
    dm.load_state_dict(tm.state_dict())
    tm.eval(), dm.eval()
    for yt, yd in zip(tm(torch.tensor(idx)), dm(dp.tensor(idx))):
        close(yd, yt)
    # and back: deepprimer's state dict loads into torch
    tm2 = build(torch).double().eval()
    tm2.load_state_dict({k: torch.from_numpy(np.array(v.data)) for k, v in dm.state_dict().items()})
    for yt, yd in zip(tm2(torch.tensor(idx)), dm(dp.tensor(idx))):
        close(yd, yt)


def test_repr_equals_torch():
    assert repr(build(dp)) == repr(build(torch))
    for name, args, kwargs in [
        ("BatchNorm1d", (3,), {"momentum": None, "affine": False}), ("BatchNorm2d", (3,), {}),
        ("LayerNorm", ((2, 5),), {"elementwise_affine": False}), ("Embedding", (10, 3), {"max_norm": 1.0}),
        ("Softmax", (), {"dim": 1}), ("LeakyReLU", (0.2, True), {}), ("ELU", (), {"alpha": 0.5}),
        ("Softplus", (), {}), ("Unflatten", (1, (2, 3)), {}), ("KLDivLoss", (), {"reduction": "batchmean"}),
        ("Linear", (4, 3), {"bias": False}), ("Dropout", (0.25,), {}), ("GELU", ("tanh",), {}),
    ]:
        assert repr(getattr(nn, name)(*args, **kwargs)) == repr(getattr(torch.nn, name)(*args, **kwargs))


def test_load_state_dict_error_names_like_torch():
    tm, dm = torch.nn.Linear(3, 2), nn.Linear(3, 2)
    bad = {"weight": np.zeros((2, 4)), "extra": np.zeros(1)}
    with pytest.raises(RuntimeError) as t_err:
        tm.load_state_dict({k: torch.tensor(v) for k, v in bad.items()})
    with pytest.raises(RuntimeError) as d_err:
        dm.load_state_dict(bad)
    for fragment in ['Unexpected key(s) in state_dict: "extra"', 'Missing key(s) in state_dict: "bias"',
                     "size mismatch for weight"]:
        assert fragment in str(t_err.value) and fragment in str(d_err.value)


# ---- init and utils ----------------------------------------------------------------------------------


def test_calculate_gain_and_fans_equal_torch():
    for nl, param in [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
                      ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None)]:
        assert nn.init.calculate_gain(nl, param) == pytest.approx(torch.nn.init.calculate_gain(nl, param))
    for shape in [(3, 4), (8, 3, 5, 5), (2, 6, 7)]:
        assert nn.init._calculate_fan_in_and_fan_out(dp.zeros(*shape)) == \
            torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(*shape))


def test_linear_default_init_bounds_match_torch_formula():
    dm = nn.Linear(50, 400)
    bound = 1 / np.sqrt(50)
    for p in (dm.weight, dm.bias):
        assert np.abs(p.data).max() <= bound
        assert np.abs(p.data).max() > 0.95 * bound
    assert dm.weight.data.std() == pytest.approx(bound / np.sqrt(3), rel=0.03)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_equals_torch(norm_type, max_norm):
    grads = [randn(3, 4, seed=1), randn(5, seed=2), randn(2, 2, seed=3)]
    tps = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    dps = [nn.Parameter(dp.zeros(*g.shape, dtype=dp.float64)) for g in grads]
    for tp, d, g in zip(tps, dps, grads):
        tp.grad = torch.tensor(g)
        d.grad = dp.tensor(g)
    tn = torch.nn.utils.clip_grad_norm_(tps, max_norm, norm_type)
    dn = nn.utils.clip_grad_norm_(dps, max_norm, norm_type)
    close(dn, tn)
    for tp, d in zip(tps, dps):
        close(d.grad, tp.grad)


def test_clip_grad_value_equals_torch():
    g = randn(4, 5) * 3
    tp = torch.zeros(4, 5, dtype=torch.float64, requires_grad=True)
    d = nn.Parameter(dp.zeros(4, 5, dtype=dp.float64))
    tp.grad, d.grad = torch.tensor(g), dp.tensor(g)
    torch.nn.utils.clip_grad_value_(tp, 1.5)
    nn.utils.clip_grad_value_(d, 1.5)
    close(d.grad, tp.grad)


def test_parameters_to_vector_round_trip_equals_torch():
    tm, dm = pair("Linear", 3, 2)
    close(nn.utils.parameters_to_vector(dm.parameters()), torch.nn.utils.parameters_to_vector(tm.parameters()))
    nn.utils.vector_to_parameters(dp.arange(8, dtype=dp.float64), dm.parameters())
    torch.nn.utils.vector_to_parameters(torch.arange(8, dtype=torch.float64), tm.parameters())
    close(dm.weight, tm.weight)
    close(dm.bias, tm.bias)
