"""Fused kernels (ops/nn_ops.py): gradcheck, each fused kernel against the composition of
primitives it replaces, stability for huge logits, dropout, and their errors."""
import numpy as np
import pytest

import deepprimer as dp
import deepprimer.nn.functional as F
from op_cases import NN_OPS, params


@pytest.mark.parametrize("case", params(NN_OPS, gradcheck=True))
def test_gradcheck(case):
    assert dp.autograd.gradcheck(case.deepprimer_fn(), case.deepprimer_inputs())


def _value_and_grad(fn, logits):
    x = dp.tensor(logits, requires_grad=True)
    out = fn(x)
    out.sum().backward()
    return out.detach().numpy(), x.grad.numpy()


def _composed_cross_entropy(x, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """The reference: log_softmax (from exp, sum, log primitives) then nll_loss, smoothing mixed in."""
    shifted = x - x.detach().amax(1, keepdim=True)
    logp = shifted - shifted.exp().sum(1, keepdim=True).log()
    n, c = x.shape
    valid = (target != ignore_index).numpy()
    safe = np.where(valid, target.numpy(), 0)
    w = np.ones(c) if weight is None else weight.numpy()
    coef = dp.tensor(w[safe] * valid, dtype=x.dtype)
    nll = -logp[np.arange(n), safe] * coef
    smooth = -(logp * dp.tensor(w, dtype=x.dtype)).sum(1) / c * dp.tensor(valid.astype(np.float64), dtype=x.dtype)
    loss = nll * (1 - label_smoothing) + smooth * label_smoothing
    if reduction == "none":
        return loss
    return loss.sum() / coef.sum() if reduction == "mean" else loss.sum()


CE_SETTINGS = [
    dict(),
    dict(reduction="sum"),
    dict(reduction="none"),
    dict(ignore_index=1),
    dict(weight=True),
    dict(weight=True, ignore_index=2, reduction="none"),
    dict(label_smoothing=0.1),
    dict(label_smoothing=0.2, weight=True, ignore_index=0),
]


@pytest.mark.parametrize("settings", CE_SETTINGS, ids=[str(s) for s in CE_SETTINGS])
def test_fused_cross_entropy_equals_composition(settings):
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((7, 4))
    target = dp.tensor(rng.integers(0, 4, 7))
    settings = dict(settings)
    if settings.get("weight"):
        settings["weight"] = dp.tensor(rng.uniform(0.5, 2.0, 4), dtype=dp.float64)
    fused = _value_and_grad(lambda x: F.cross_entropy(x, target, **settings), logits)
    composed = _value_and_grad(lambda x: _composed_cross_entropy(x, target, **settings), logits)
    for f, c in zip(fused, composed):
        np.testing.assert_allclose(f, c, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_equals_log_softmax_then_nll_loss(reduction):
    """The fused kernel against the library's own two-step form."""
    rng = np.random.default_rng(2)
    logits = rng.standard_normal((6, 5))
    target = dp.tensor(rng.integers(0, 5, 6))
    fused = _value_and_grad(lambda x: F.cross_entropy(x, target, reduction=reduction), logits)
    composed = _value_and_grad(lambda x: F.nll_loss(F.log_softmax(x, dim=1), target, reduction=reduction), logits)
    for f, c in zip(fused, composed):
        np.testing.assert_allclose(f, c, rtol=1e-10, atol=1e-12)


def test_probability_targets_equal_one_hot_class_targets():
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((5, 3))
    target = rng.integers(0, 3, 5)
    by_index = _value_and_grad(lambda x: F.cross_entropy(x, dp.tensor(target), label_smoothing=0.1), logits)
    by_probs = _value_and_grad(
        lambda x: F.cross_entropy(x, dp.tensor(np.eye(3)[target]), label_smoothing=0.1), logits
    )
    for a, b in zip(by_index, by_probs):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", [dp.float32, dp.float64])
@pytest.mark.parametrize("target_kind", ["index", "probs", "smoothing"])
def test_cross_entropy_is_finite_for_huge_logits(dtype, target_kind):
    x = dp.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 5e3]], dtype=dtype, requires_grad=True)
    if target_kind == "probs":
        loss = F.cross_entropy(x, dp.tensor([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]], dtype=dtype))
    else:
        loss = F.cross_entropy(x, dp.tensor([1, 1]), label_smoothing=0.1 if target_kind == "smoothing" else 0.0)
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(x.grad.numpy()).all()
    if target_kind == "index":  # exact: row 0 is off by 2e4, row 1 right
        np.testing.assert_allclose(loss.item(), 1e4)
        np.testing.assert_allclose(x.grad.numpy(), [[0.5, -0.5, 0.0], [0.0, 0.0, 0.0]], atol=1e-12)


def test_softmax_and_log_softmax_are_stable():
    x = dp.tensor([[1e4, 0.0, -1e4]], requires_grad=True)
    s = F.softmax(x, dim=1)
    ls = F.log_softmax(x, dim=1)
    np.testing.assert_allclose(s.detach().numpy(), [[1.0, 0.0, 0.0]])
    np.testing.assert_allclose(ls.detach().numpy(), [[0.0, -1e4, -2e4]])
    (s.sum() + ls[0, 0]).backward()
    assert np.isfinite(x.grad.numpy()).all()


def test_softmax_rows_sum_to_one():
    x = dp.randn(4, 6)
    np.testing.assert_allclose(x.softmax(-1).sum(-1).numpy(), np.ones(4), rtol=1e-6)
    np.testing.assert_allclose(dp.softmax(x, 0).sum(0).numpy(), np.ones(6), rtol=1e-6)
    np.testing.assert_allclose(dp.log_softmax(x, 1).exp().sum(1).numpy(), np.ones(4), rtol=1e-6)


def test_linear_equals_matmul_composition():
    rng = np.random.default_rng(4)
    x, w, b = (rng.standard_normal(s) for s in ((3, 4), (2, 4), (2,)))
    fused = [dp.tensor(a, requires_grad=True) for a in (x, w, b)]
    composed = [dp.tensor(a, requires_grad=True) for a in (x, w, b)]
    F.linear(*fused).tanh().sum().backward()
    (composed[0] @ composed[1].T + composed[2]).tanh().sum().backward()
    for f, c in zip(fused, composed):
        np.testing.assert_allclose(f.grad.numpy(), c.grad.numpy(), rtol=1e-12)


# ---- dropout -----------------------------------------------------------------------------


def test_dropout_train_scales_survivors_and_masks_the_gradient():
    x = dp.ones(1000, requires_grad=True)
    y = F.dropout(x, p=0.25)
    values = y.detach().numpy()
    assert set(np.unique(values)) <= {0.0, np.float32(1 / 0.75)}
    assert 0.15 < (values == 0).mean() < 0.35
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), values)


def test_dropout_eval_and_p0_are_identity():
    x = dp.randn(5, requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    assert F.dropout(x, 1.0).tolist() == [0.0] * 5


def test_dropout_is_seeded():
    dp.manual_seed(7)
    a = F.dropout(dp.ones(50), 0.5).tolist()
    dp.manual_seed(7)
    b = F.dropout(dp.ones(50), 0.5).tolist()
    c = F.dropout(dp.ones(50), 0.5).tolist()
    assert a == b and a != c
    g = dp.Generator(3)
    assert F.dropout(dp.ones(50), 0.5, generator=g).tolist() == F.dropout(dp.ones(50), 0.5, generator=dp.Generator(3)).tolist()


def test_dropout_keeps_dtype():
    assert F.dropout(dp.ones(4), 0.5).dtype == dp.float32
    assert F.dropout(dp.ones(4, dtype=dp.float64), 0.5).dtype == dp.float64


# ---- errors --------------------------------------------------------------------------------

ERRORS = [
    (lambda: F.cross_entropy(dp.randn(3, 4), dp.tensor([0, 1, 4])), ValueError,
     r"cross_entropy: target class 4 is out of range for 4 classes \(0..3\)"),
    (lambda: F.cross_entropy(dp.randn(3, 4), dp.tensor([0, 1])), ValueError,
     r"cross_entropy: input of shape \(3, 4\) \(N, C, ...\) needs class-index targets of shape \(3,\), got \(2,\)"),
    (lambda: F.cross_entropy(dp.randn(3, 4), dp.rand(3, 5)), ValueError,
     r"cross_entropy: probability targets must have the input's shape \(3, 4\), got \(3, 5\)"),
    (lambda: F.cross_entropy(dp.randn(3, 4), dp.tensor([True, False, True])), TypeError,
     "cross_entropy: target must hold int64 class indices or float probabilities, got bool"),
    (lambda: F.cross_entropy(dp.randn(3, 4), dp.tensor([0, 1, 2]), weight=dp.ones(3)), ValueError,
     r"cross_entropy: weight must have shape \(4,\), got \(3,\)"),
    (lambda: F.cross_entropy(dp.randn(3, 4), dp.tensor([0, 1, 2]), reduction="avg"), ValueError,
     r"cross_entropy: reduction must be one of \('none', 'mean', 'sum'\), got 'avg'"),
    (lambda: F.cross_entropy(dp.randn(3, 4), dp.tensor([0, 1, 2]), label_smoothing=1.5), ValueError,
     r"cross_entropy: label_smoothing must be in \[0, 1\], got 1.5"),
    (lambda: F.linear(dp.randn(3, 4), dp.randn(5, 3)), ValueError,
     r"linear: input of shape \(3, 4\) has 4 features but the weight of shape \(5, 3\) expects 3 \(weight is \(out_features, in_features\)\)"),
    (lambda: F.linear(dp.randn(3, 4), dp.randn(5, 4), dp.randn(4)), ValueError,
     r"linear: bias of shape \(4,\) does not fit the weight of shape \(5, 4\): it needs shape \(5,\)"),
    (lambda: F.linear(dp.randn(3, 4, dtype=dp.float64), dp.randn(5, 4)), TypeError,
     "linear: input is float64 but the weight is float32"),
    (lambda: F.dropout(dp.ones(3), 1.5), ValueError, r"dropout: probability p must be in \[0, 1\], got 1.5"),
    (lambda: F.softmax(dp.ones(2, 3), dim=2), IndexError, "softmax: dimension 2 is out of range"),
]


@pytest.mark.parametrize("make, error, message", ERRORS, ids=[str(i) for i in range(len(ERRORS))])
def test_errors(make, error, message):
    with pytest.raises(error, match=message):
        make()
