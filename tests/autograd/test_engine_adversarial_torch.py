"""Torch parity for the rewritten hot path: cross-entropy from saved exp/sums (values and
gradients, float64), conv2d with a kept or rebuilt im2col matrix, and engine semantics
(hooks, autograd.grad) that the new seed and ownership rules could change."""
import numpy as np
import pytest

import deepprimer as dp
import deepprimer.nn.functional as F
from deepprimer.ops import conv as conv_ops

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def pair(array, requires_grad=True):
    """The same float64 values as a deepprimer and a torch tensor."""
    array = np.asarray(array, dtype=np.float64)
    return (dp.tensor(array, dtype=dp.float64, requires_grad=requires_grad),
            torch.tensor(array, dtype=torch.float64, requires_grad=requires_grad))


def assert_close(ours, theirs, tol=1e-10):
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else theirs
    ours = ours.data if isinstance(ours, dp.Tensor) else ours
    np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol)


CLASS_CASES = [
    dict(),
    dict(reduction="sum"),
    dict(reduction="none"),
    dict(ignore_index=0),
    dict(ignore_index=3, reduction="none"),
    dict(weight=[0.2, 1.0, 3.0, 0.5, 2.0]),
    dict(weight=[0.2, 1.0, 3.0, 0.5, 2.0], ignore_index=1, reduction="sum"),
    dict(label_smoothing=0.15),
    dict(label_smoothing=0.15, ignore_index=2),
    dict(label_smoothing=0.4, weight=[0.2, 1.0, 3.0, 0.5, 2.0]),
    dict(label_smoothing=0.4, weight=[0.2, 1.0, 3.0, 0.5, 2.0], ignore_index=4, reduction="none"),
    dict(label_smoothing=1.0, reduction="sum"),
]


def _ids(kw):
    return ",".join(f"{k}={v}" for k, v in kw.items()) or "plain"


@pytest.mark.parametrize("kw", CLASS_CASES, ids=_ids)
@pytest.mark.parametrize("shape", [(7, 5), (2, 5, 3), (5,)])
def test_cross_entropy_class_indices_match_torch(kw, shape):
    rng = np.random.default_rng(11)
    logits = rng.standard_normal(shape) * 4
    target_shape = (shape[0],) + shape[2:] if len(shape) > 1 else ()
    target = rng.integers(0, 5, target_shape)
    ignore = kw.get("ignore_index", -100)
    if target.ndim:  # one ignored entry, and a real class in every other
        target.flat[1] = ignore if ignore != -100 else target.flat[1]
        target.flat[0] = -100 if ignore == -100 and target.size > 3 else target.flat[0]
    elif target == ignore:  # one sample: keep it a real class (all-ignored is tested below)
        target = (target + 1) % 5
    kw_dp = dict(kw, weight=None if "weight" not in kw else dp.tensor(kw["weight"], dtype=dp.float64))
    kw_t = dict(kw, weight=None if "weight" not in kw else torch.tensor(kw["weight"], dtype=torch.float64))
    x, tx = pair(logits)
    ours = F.cross_entropy(x, dp.tensor(target), **kw_dp)
    theirs = TF.cross_entropy(tx, torch.tensor(target), **kw_t)
    assert_close(ours, theirs)
    seed = rng.uniform(0.5, 2.0, tuple(theirs.shape))
    ours.backward(dp.tensor(seed, dtype=dp.float64))
    theirs.backward(torch.tensor(seed, dtype=torch.float64))
    assert_close(x.grad, tx.grad)


@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_probability_targets_with_grad_match_torch(label_smoothing, weighted, reduction):
    rng = np.random.default_rng(12)
    logits = rng.standard_normal((2, 4, 3))
    q = rng.dirichlet(np.ones(4), (2, 3)).transpose(0, 2, 1)  # classes on dim 1
    w = [0.5, 1.0, 2.0, 1.5] if weighted else None
    x, tx = pair(logits)
    t, tt = pair(q)
    ours = F.cross_entropy(x, t, weight=None if w is None else dp.tensor(w, dtype=dp.float64),
                           reduction=reduction, label_smoothing=label_smoothing)
    theirs = TF.cross_entropy(tx, tt, weight=None if w is None else torch.tensor(w, dtype=torch.float64),
                              reduction=reduction, label_smoothing=label_smoothing)
    assert_close(ours, theirs)
    seed = rng.uniform(0.5, 2.0, tuple(theirs.shape))
    ours.backward(dp.tensor(seed, dtype=dp.float64))
    theirs.backward(torch.tensor(seed, dtype=torch.float64))
    assert_close(x.grad, tx.grad)
    assert_close(t.grad, tt.grad)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
def test_cross_entropy_all_targets_ignored_mean_gradient_matches_torch(label_smoothing):
    x, tx = pair(np.zeros((2, 3)))
    ours = F.cross_entropy(x, dp.tensor([-100, -100]), label_smoothing=label_smoothing)
    theirs = TF.cross_entropy(tx, torch.tensor([-100, -100]), label_smoothing=label_smoothing)
    assert np.isnan(ours.item()) and np.isnan(theirs.item())
    ours.backward()
    theirs.backward()
    assert_close(x.grad, tx.grad)


def test_cross_entropy_float32_extreme_logits_match_torch():
    logits = np.array([[1000.0, -1000.0, 0.0], [-50.0, 60.0, 59.0]], dtype=np.float32)
    x = dp.tensor(logits, requires_grad=True)
    tx = torch.tensor(logits, requires_grad=True)
    ours = F.cross_entropy(x, dp.tensor([1, 2]), label_smoothing=0.1)
    theirs = TF.cross_entropy(tx, torch.tensor([1, 2]), label_smoothing=0.1)
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-5)
    ours.backward()
    theirs.backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-5, atol=1e-6)
    assert x.grad.dtype == dp.float32


@pytest.mark.parametrize("keep", [True, False])
@pytest.mark.parametrize("stride, padding, dilation, groups", [
    (1, 1, 1, 1), (2, 1, 1, 1), ((2, 3), (0, 2), 1, 1), (1, 2, 2, 1), (2, 1, 1, 3),
])
def test_conv2d_two_layers_match_torch(monkeypatch, keep, stride, padding, dilation, groups):
    if not keep:
        monkeypatch.setattr(conv_ops, "KEEP_COLS_AT_MOST", -1)
    rng = np.random.default_rng(13)
    x, tx = pair(rng.standard_normal((2, 3, 9, 8)))
    w1, tw1 = pair(rng.standard_normal((6, 3 // groups, 3, 3)))
    b1, tb1 = pair(rng.standard_normal(6))
    w2, tw2 = pair(rng.standard_normal((3, 6 // groups, 2, 2)))
    ours = F.conv2d(F.conv2d(x, w1, b1, stride, padding, dilation, groups).relu(), w2, None, 1, 1, 1, groups)
    theirs = TF.conv2d(TF.conv2d(tx, tw1, tb1, stride, padding, dilation, groups).relu(), tw2, None, 1, 1, 1, groups)
    assert_close(ours, theirs)
    seed = rng.standard_normal(tuple(theirs.shape))
    ours.backward(dp.tensor(seed, dtype=dp.float64))
    theirs.backward(torch.tensor(seed, dtype=torch.float64))
    for a, b in ((x, tx), (w1, tw1), (b1, tb1), (w2, tw2)):
        assert_close(a.grad, b.grad)


def test_conv2d_backward_twice_with_retain_graph_matches_torch():
    rng = np.random.default_rng(14)
    x, tx = pair(rng.standard_normal((2, 2, 6, 6)))
    w, tw = pair(rng.standard_normal((4, 2, 3, 3)))
    ours = F.conv2d(x, w, stride=2, padding=1).square().sum()
    theirs = TF.conv2d(tx, tw, stride=2, padding=1).square().sum()
    for _ in range(2):
        ours.backward(retain_graph=True)
        theirs.backward(retain_graph=True)
    assert_close(w.grad, tw.grad)
    assert_close(x.grad, tx.grad)


def test_hooks_and_retain_grad_match_torch():
    def run(lib, t):
        h = t * 3.0
        h.retain_grad()
        h.register_hook(lambda g: g * 2.0)
        t.register_hook(lambda g: g + 1.0)
        y = (h * h).sum() + (t * t).sum()
        y.backward()
        return h.grad, t.grad

    x, tx = pair([1.0, -2.0, 0.5])
    ours, theirs = run(dp, x), run(torch, tx)
    assert_close(ours[0], theirs[0])
    assert_close(ours[1], theirs[1])


def test_autograd_grad_with_leaf_hooks_matches_torch():
    def run(lib, t, u):
        t.register_hook(lambda g: g * 10.0)
        y = (t * u).sum() + (t.exp() * 2.0).sum()
        return lib.autograd.grad(y, [t, u])

    x, tx = pair([0.1, 0.2])
    u, tu = pair([3.0, 4.0])
    for a, b in zip(run(dp, x, u), run(torch, tx, tu)):
        assert_close(a, b)
