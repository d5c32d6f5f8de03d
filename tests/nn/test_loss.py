"""Loss modules: the same values as their F functions, every reduction, gradcheck."""
import numpy as np
import pytest

import deepprimer as dp
import deepprimer.nn.functional as F
from deepprimer import nn
from deepprimer.autograd import gradcheck

RNG = np.random.default_rng(0)
LOGITS = RNG.standard_normal((5, 4))
CLASSES = RNG.integers(0, 4, 5)
REAL = RNG.standard_normal((5, 4))
BINARY = (RNG.random((5, 4)) > 0.5).astype(np.float64)
PROBS = 1 / (1 + np.exp(-REAL))
LOGP = LOGITS - np.log(np.exp(LOGITS).sum(1, keepdims=True))


CASES = [
    (nn.MSELoss, F.mse_loss, LOGITS, REAL, {}),
    (nn.L1Loss, F.l1_loss, LOGITS, REAL, {}),
    (nn.HuberLoss, F.huber_loss, LOGITS * 2, REAL, {"delta": 0.7}),
    (nn.SmoothL1Loss, F.smooth_l1_loss, LOGITS * 2, REAL, {"beta": 0.5}),
    (nn.CrossEntropyLoss, F.cross_entropy, LOGITS, CLASSES, {"label_smoothing": 0.1}),
    (nn.NLLLoss, F.nll_loss, LOGP, CLASSES, {"ignore_index": 2}),
    (nn.BCELoss, F.binary_cross_entropy, PROBS, BINARY, {}),
    (nn.BCEWithLogitsLoss, F.binary_cross_entropy_with_logits, LOGITS, BINARY, {}),
    (nn.KLDivLoss, F.kl_div, LOGP, np.exp(LOGP[::-1]).copy(), {}),
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("cls,fn,x,target,kwargs", CASES, ids=[c[0].__name__ for c in CASES])
def test_module_equals_functional_and_gradchecks(cls, fn, x, target, kwargs, reduction):
    loss = cls(reduction=reduction, **kwargs)
    assert loss.reduction == reduction
    xd = dp.tensor(x, requires_grad=True)
    t = dp.tensor(target)
    np.testing.assert_array_equal(loss(xd, t).data, fn(xd, t, reduction=reduction, **kwargs).data)
    out = loss(xd, t)
    assert out.shape == (() if reduction != "none" else tuple(t.shape if t.ndim == 2 else (5,)))
    assert gradcheck(lambda x: loss(x, t), (dp.tensor(x, requires_grad=True),))


def test_cross_entropy_on_logits_is_stable_and_correct():
    loss = nn.CrossEntropyLoss()
    logits = dp.tensor([[1000.0, 0.0], [0.0, -1000.0]])
    out = loss(logits, dp.tensor([0, 1]))
    assert np.isfinite(out.item()) and out.item() == pytest.approx(500.0)
    expected = -LOGP[np.arange(5), CLASSES].mean()
    assert loss(dp.tensor(LOGITS), dp.tensor(CLASSES)).item() == pytest.approx(expected)


def test_class_weights_are_buffers():
    w = dp.tensor([1.0, 2.0, 0.5, 1.0], dtype=dp.float64)
    ce = nn.CrossEntropyLoss(weight=w)
    assert ce.weight is w and list(ce.state_dict()) == ["weight"]
    assert list(ce.parameters()) == []
    assert list(nn.CrossEntropyLoss().state_dict()) == []
    assert list(nn.BCEWithLogitsLoss(pos_weight=dp.ones(4)).state_dict()) == ["pos_weight"]
    x = dp.tensor(LOGITS)
    assert ce(x, dp.tensor(CLASSES)).item() == pytest.approx(
        F.cross_entropy(x, dp.tensor(CLASSES), weight=w).item())


def test_kldiv_batchmean():
    t = np.exp(LOGP[::-1])
    out = nn.KLDivLoss(reduction="batchmean")(dp.tensor(LOGP), dp.tensor(t))
    assert out.item() == pytest.approx((t * (np.log(t) - LOGP)).sum() / 5)


def test_bad_reduction_and_legacy_arguments():
    with pytest.raises(ValueError, match="reduction must be"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(ValueError, match="reduction must be"):
        nn.L1Loss(reduction="batchmean")
    assert nn.MSELoss(size_average=False).reduction == "sum"
    assert nn.L1Loss(reduce=False).reduction == "none"


def test_shape_mismatch_message():
    with pytest.raises(ValueError, match=r"input shape \(5, 1\) and target shape \(5,\) differ"):
        nn.MSELoss()(dp.randn(5, 1), dp.randn(5))
