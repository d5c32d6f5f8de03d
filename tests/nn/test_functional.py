"""``deepprimer.nn.functional``: gradcheck of every loss and activation, values worked out
by hand, and the errors a learner sees."""
import numpy as np
import pytest

import deepprimer as dp
import deepprimer.nn.functional as F
from op_cases import FUNCTIONAL, params


@pytest.mark.parametrize("case", params(FUNCTIONAL, gradcheck=True))
def test_gradcheck(case):
    assert dp.autograd.gradcheck(case.deepprimer_fn(), case.deepprimer_inputs())


def test_regression_losses_by_hand():
    x = dp.tensor([0.0, 1.0, 3.0])
    y = dp.tensor([0.5, 1.0, 1.0])
    assert F.mse_loss(x, y).item() == pytest.approx((0.25 + 0 + 4) / 3)
    assert F.l1_loss(x, y, reduction="sum").item() == pytest.approx(2.5)
    # |d| = 0.5, 0, 2 with beta 1: 0.125, 0, 1.5
    assert F.smooth_l1_loss(x, y, reduction="none").tolist() == pytest.approx([0.125, 0.0, 1.5])
    # delta 0.5: |d| = 0.5 is not below delta -> 0.5 * (0.5 - 0.25); 2 -> 0.5 * (2 - 0.25)
    assert F.huber_loss(x, y, reduction="none", delta=0.5).tolist() == pytest.approx([0.125, 0.0, 0.875])


def test_nll_loss_by_hand():
    logp = dp.tensor([[-0.1, -2.0, -3.0], [-1.0, -0.5, -4.0]])
    target = dp.tensor([0, 2])
    assert F.nll_loss(logp, target).item() == pytest.approx((0.1 + 4.0) / 2)
    w = dp.tensor([1.0, 1.0, 3.0])
    assert F.nll_loss(logp, target, weight=w).item() == pytest.approx((0.1 + 12.0) / 4)
    assert F.nll_loss(logp, target, ignore_index=2).item() == pytest.approx(0.1)


def test_binary_cross_entropy_by_hand():
    p = dp.tensor([0.9, 0.2])
    t = dp.tensor([1.0, 0.0])
    expected = -(np.log(0.9) + np.log(0.8)) / 2
    assert F.binary_cross_entropy(p, t).item() == pytest.approx(expected, rel=1e-6)
    logits = dp.tensor([np.log(9.0), np.log(0.25)])
    assert F.binary_cross_entropy_with_logits(logits, t).item() == pytest.approx(expected, rel=1e-6)


def test_binary_cross_entropy_with_logits_is_stable():
    x = dp.tensor([1e4, -1e4, 50.0], requires_grad=True)
    t = dp.tensor([0.0, 1.0, 1.0])
    loss = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    np.testing.assert_allclose(loss.detach().numpy(), [1e4, 1e4, 0.0], atol=1e-6)
    loss.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, -1.0, 0.0], atol=1e-6)


def test_binary_cross_entropy_clamps_log_at_minus_100():
    p = dp.tensor([0.0, 1.0])
    t = dp.tensor([1.0, 0.0])
    assert F.binary_cross_entropy(p, t, reduction="none").tolist() == [100.0, 100.0]


def test_kl_div_is_zero_for_equal_distributions_and_handles_zero_targets():
    p = dp.tensor([[0.5, 0.5, 0.0]])
    logq = dp.tensor([[0.5, 0.5, 1e-9]]).log()
    assert F.kl_div(logq, p, reduction="batchmean").item() == pytest.approx(0.0, abs=1e-6)
    assert np.isfinite(F.kl_div(logq, p, reduction="sum").item())


def test_one_hot():
    out = F.one_hot(dp.tensor([0, 2, 1]), 4)
    assert out.dtype == dp.int64 and out.tolist() == [[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0]]
    assert F.one_hot(dp.tensor([[1], [3]])).shape == (2, 1, 4)


def test_activations_by_hand():
    x = dp.tensor([-2.0, 0.0, 3.0])
    assert F.relu(x).tolist() == [0.0, 0.0, 3.0]
    assert F.leaky_relu(x, 0.1).tolist() == pytest.approx([-0.2, 0.0, 3.0])
    assert F.elu(x).tolist() == pytest.approx([np.expm1(-2.0), 0.0, 3.0])
    assert F.softplus(x).tolist() == pytest.approx(np.log1p(np.exp([-2.0, 0.0, 3.0])).tolist())
    assert F.gelu(dp.tensor([0.0])).item() == 0.0


ERRORS = [
    (lambda: F.mse_loss(dp.ones(3, 1), dp.ones(3)), ValueError,
     r"mse_loss: input shape \(3, 1\) and target shape \(3,\) differ; they must match"),
    (lambda: F.l1_loss(dp.ones(3), dp.ones(4)), ValueError, "l1_loss: input shape"),
    (lambda: F.mse_loss(dp.ones(3), dp.ones(3), reduction="avg"), ValueError,
     r"mse_loss: reduction must be one of \('none', 'mean', 'sum'\), got 'avg'"),
    (lambda: F.binary_cross_entropy(dp.tensor([0.5, 2.0]), dp.tensor([1.0, 0.0])), ValueError,
     r"binary_cross_entropy: input must hold probabilities in \[0, 1\]"),
    (lambda: F.nll_loss(dp.randn(3, 4), dp.tensor([0, 5, 1])), ValueError, r"nll_loss: target classes must be in 0..3"),
    (lambda: F.nll_loss(dp.randn(3, 4), dp.tensor([0, 1])), ValueError, r"nll_loss: input of shape \(3, 4\) needs targets of shape \(3,\)"),
    (lambda: F.kl_div(dp.ones(2), dp.ones(2), reduction="batchsum"), ValueError, "kl_div: reduction must be one of"),
    (lambda: F.one_hot(dp.tensor([0.0, 1.0])), TypeError, "one_hot: expected an integer tensor of class indices, got float32"),
    (lambda: F.one_hot(dp.tensor([0, 3]), 3), ValueError, r"one_hot: class values must be in 0..2"),
]


@pytest.mark.parametrize("make, error, message", ERRORS, ids=[str(i) for i in range(len(ERRORS))])
def test_errors(make, error, message):
    with pytest.raises(error, match=message):
        make()
