"""MaxPool2d / AvgPool2d / AdaptiveAvgPool2d / Upsample / Dropout2d against PyTorch
(float64): forward values, returned indices and input gradients for every option; and
the two-block CNN of the speed target, end to end, with the same weights."""
import itertools

import pytest

torch = pytest.importorskip("torch")

import numpy as np  # noqa: E402

import deepprimer as dp  # noqa: E402
from deepprimer.nn.channel_dropout import Dropout2d  # noqa: E402
from deepprimer.nn.conv import Conv2d  # noqa: E402
from deepprimer.nn.pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d, Upsample  # noqa: E402
from deepprimer.ops import pooling as P  # noqa: E402

pytestmark = pytest.mark.torch

F = torch.nn.functional



@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """These tensors are tiny: torch's thread pool only costs time (more so on a busy machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def close(a, b, what, exact=False):
    b = b.detach().numpy()
    assert a.shape == b.shape, f"{what}: shape {a.shape} vs torch {b.shape}"
    if exact:
        np.testing.assert_array_equal(a, b, err_msg=what)
    else:
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=what)


def check(ours, theirs, x, channels_last=False, seed=0):
    """Forward (and indices, if returned) and the input gradient, for the same x and grad."""
    xt = torch.tensor(x, requires_grad=True)
    if channels_last:
        x = np.ascontiguousarray(np.moveaxis(x, 1, -1))
        x = np.moveaxis(x, -1, 1)
    xd = dp.Tensor(x, requires_grad=True)  # no copy: keeps the memory layout
    out_d, out_t = ours(xd), theirs(xt)
    if isinstance(out_t, tuple):
        close(out_d[1].data, out_t[1], "indices", exact=True)
        out_d, out_t = out_d[0], out_t[0]
    close(out_d.data, out_t, "forward")
    g = np.random.default_rng(seed).standard_normal(tuple(out_t.shape))
    out_t.backward(torch.tensor(g))
    out_d.backward(dp.tensor(g))
    close(xd.grad.data, xt.grad, "input gradient")


def image(shape=(2, 3, 9, 8), seed=0, ties=False):
    x = np.random.default_rng(seed).standard_normal(shape)
    return np.round(x) if ties else x  # rounding makes many windows tie


MAX_OPTIONS = [
    {"kernel_size": k, "stride": s, "padding": p, "dilation": d, "ceil_mode": c}
    for k, s, p, d, c in itertools.product([1, 2, 3, (2, 3)], [None, 1, 2, (3, 1)], [0, 1], [1, 2], [False, True])
    if all(pp <= ((kk - 1) * d + 1) // 2 for kk, pp in zip(k if isinstance(k, tuple) else (k, k), (p, p)))
]


@pytest.mark.parametrize("options", MAX_OPTIONS, ids=[str(o) for o in MAX_OPTIONS])
def test_max_pool2d_matches_torch(options):
    ours = MaxPool2d(return_indices=True, **options)
    theirs = torch.nn.MaxPool2d(return_indices=True, **options)
    check(ours, theirs, image())
    check(ours, theirs, image(ties=True), channels_last=True)


def test_max_pool2d_after_relu_ties_at_zero():
    """ReLU outputs tie at 0 in whole windows; the gradient still goes where torch sends it."""
    x = np.maximum(image((4, 6, 8, 8), seed=3), 0)
    check(MaxPool2d(2, return_indices=True), torch.nn.MaxPool2d(2, return_indices=True), x, channels_last=True)


AVG_OPTIONS = [
    {"kernel_size": k, "stride": s, "padding": p, "ceil_mode": c, "count_include_pad": i, "divisor_override": dv}
    for k, s, p, c, i, dv in itertools.product([1, 2, 3, (3, 2)], [None, 1, 2], [0, 1], [False, True], [True, False], [None, 3])
    if all(pp <= kk // 2 for kk, pp in zip(k if isinstance(k, tuple) else (k, k), (p, p)))
]


@pytest.mark.parametrize("options", AVG_OPTIONS, ids=[str(o) for o in AVG_OPTIONS])
def test_avg_pool2d_matches_torch(options):
    check(AvgPool2d(**options), torch.nn.AvgPool2d(**options), image(), channels_last=options["ceil_mode"])


@pytest.mark.parametrize("size", [1, 2, 3, 5, (3, 4), (None, 3), (4, None), (9, 8), (12, 13), (7, 1)])
def test_adaptive_avg_pool2d_matches_torch(size):
    check(AdaptiveAvgPool2d(size), torch.nn.AdaptiveAvgPool2d(size), image())


UPSAMPLE_OPTIONS = [
    {"scale_factor": 2}, {"scale_factor": 3}, {"scale_factor": 1.5}, {"scale_factor": (2, 0.5)},
    {"scale_factor": 2.1}, {"scale_factor": 0.7}, {"scale_factor": 1.3, "recompute_scale_factor": True},
    {"size": (11, 5)}, {"size": 4}, {"size": (18, 16)},
    {"size": (13, 7), "mode": "nearest-exact"}, {"scale_factor": 1.7, "mode": "nearest-exact"},
]


@pytest.mark.parametrize("options", UPSAMPLE_OPTIONS, ids=[str(o) for o in UPSAMPLE_OPTIONS])
def test_upsample_matches_torch(options):
    check(Upsample(**options), torch.nn.Upsample(**options), image())


@pytest.mark.parametrize("shape, kwargs", [
    ((2, 3, 5), {"scale_factor": 2.5}), ((2, 3, 7), {"size": 4}),
    ((1, 2, 3, 4, 5), {"size": (5, 3, 8)}), ((1, 2, 3, 4, 5), {"scale_factor": 2}),
])
def test_interpolate_other_ranks_match_torch(shape, kwargs):
    check(lambda x: P.interpolate(x, **kwargs), lambda x: F.interpolate(x, **kwargs), image(shape))


def test_unbatched_pooling_matches_torch():
    x = image((3, 9, 8))
    check(MaxPool2d(3, 2, 1, return_indices=True), torch.nn.MaxPool2d(3, 2, 1, return_indices=True), x)
    check(AvgPool2d(2), torch.nn.AvgPool2d(2), x)
    check(AdaptiveAvgPool2d((2, 3)), torch.nn.AdaptiveAvgPool2d((2, 3)), x)


def test_dropout2d_behaves_as_torchs():
    """The masks come from different generators; what they do must agree: eval and p=0
    are the identity, and kept channels are scaled by 1/(1-p) in both."""
    x = np.abs(image((8, 16, 3, 3))) + 0.1
    for mode in ("eval", "p0"):
        ours = Dropout2d(0.0 if mode == "p0" else 0.3)
        theirs = torch.nn.Dropout2d(0.0 if mode == "p0" else 0.3)
        if mode == "eval":
            ours.eval()
            theirs.eval()
        check(ours, theirs, x)
    ours = Dropout2d(0.3)(dp.tensor(x)).data
    theirs = torch.nn.Dropout2d(0.3)(torch.tensor(x)).numpy()
    for out in (ours, theirs):
        ratio = out / x
        kept = ratio.reshape(8, 16, -1)
        assert np.allclose(kept, kept[..., :1]) and np.all(np.isclose(kept, 0) | np.isclose(kept, 1 / 0.7))


def test_two_block_cnn_matches_torch():
    """The speed target's network, end to end: conv 1->16 + ReLU + maxpool 2, conv 16->32 +
    ReLU + maxpool 2, linear 1568->10, cross-entropy; every parameter's gradient."""
    def ours_net():
        return dp.nn.Sequential(
            Conv2d(1, 16, 3, padding=1), dp.nn.ReLU(), MaxPool2d(2),
            Conv2d(16, 32, 3, padding=1), dp.nn.ReLU(), MaxPool2d(2),
            dp.nn.Flatten(), dp.nn.Linear(1568, 10),
        ).double()

    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(1568, 10),
    ).double()
    ours = ours_net()
    for (name, p), (name2, q) in zip(theirs.named_parameters(), ours.named_parameters()):
        assert name == name2
        q.data[...] = p.detach().numpy()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 1, 28, 28))
    y = rng.integers(0, 10, 8)
    loss_t = F.cross_entropy(theirs(torch.tensor(x)), torch.tensor(y))
    loss_d = dp.nn.functional.cross_entropy(ours(dp.tensor(x)), dp.tensor(y))
    np.testing.assert_allclose(loss_d.item(), loss_t.item(), rtol=1e-10)
    loss_t.backward()
    loss_d.backward()
    for (name, p), (_, q) in zip(theirs.named_parameters(), ours.named_parameters()):
        close(q.grad.data, p.grad, f"{name} gradient")
