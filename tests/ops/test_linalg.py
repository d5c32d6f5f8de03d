"""matmul: 1-D, 2-D and batched operands with broadcasting; the errors a learner sees."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import deepprimer as dp
import deepprimer.nn.functional as F
from op_cases import LINALG, params


@pytest.mark.parametrize("case", params(LINALG, gradcheck=True))
def test_gradcheck(case):
    arrays = case.arrays()
    inputs = [dp.tensor(a, requires_grad=s.grad) for a, s in zip(arrays, case.inputs)]
    assert dp.autograd.gradcheck(lambda *xs: case.fn(dp, F, *xs), inputs)


batch = st.lists(st.integers(1, 3), max_size=2)


@given(batch_a=batch, batch_b=batch, n=st.integers(1, 3), k=st.integers(1, 3), m=st.integers(1, 3), data=st.data())
def test_random_batched_broadcasting(batch_a, batch_b, n, k, m, data):
    """Batch dims broadcast like elementwise ones (a size-1 dim or a missing dim stretches)."""
    # make the batch dims broadcastable: where both have a dim, one of them may be 1
    ra, rb = list(reversed(batch_a)), list(reversed(batch_b))
    for i in range(min(len(ra), len(rb))):
        if ra[i] != rb[i] and 1 not in (ra[i], rb[i]):
            rb[i] = data.draw(st.sampled_from([1, ra[i]]))
    sa, sb = tuple(reversed(ra)) + (n, k), tuple(reversed(rb)) + (k, m)
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    x, y = dp.tensor(a, requires_grad=True), dp.tensor(b, requires_grad=True)
    np.testing.assert_allclose((x @ y).detach().numpy(), a @ b, rtol=1e-12)
    assert dp.autograd.gradcheck(lambda p, q: p @ q, (x, y))


def test_vector_forms():
    v = dp.tensor([1.0, 2.0])
    m = dp.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert (v @ v).item() == 5.0 and (v @ v).shape == ()
    assert (m @ v).tolist() == [5.0, 11.0]
    assert (v @ m).tolist() == [7.0, 10.0]
    assert dp.matmul(m, m).tolist() == [[7.0, 10.0], [15.0, 22.0]]


def test_gradient_of_a_layer():
    """d/dW sum(X W) = X^T 1, d/dX = 1 W^T."""
    x = dp.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    w = dp.tensor([[1.0, -1.0, 0.0], [2.0, 0.0, 1.0]], requires_grad=True)
    (x @ w).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), x.detach().numpy().T @ np.ones((3, 3)))
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((3, 3)) @ w.detach().numpy().T)


ERRORS = [
    (lambda: dp.ones(64, 10) @ dp.ones(64, 128), ValueError,
     r"^matmul: \(64, 10\) @ \(64, 128\): inner dimensions 10 and 64 differ"),
    (lambda: dp.ones(3) @ dp.ones(4), ValueError, r"matmul: \(3,\) @ \(4,\): inner dimensions 3 and 4 differ"),
    (lambda: dp.ones(2, 3) @ dp.ones(4), ValueError, r"matmul: \(2, 3\) @ \(4,\): inner dimensions 3 and 4 differ \(the last dim of the left operand must equal the only dim of the right one\)"),
    (lambda: dp.ones(2, 2, 3) @ dp.ones(3, 3, 4), ValueError,
     r"matmul: \(2, 2, 3\) @ \(3, 3, 4\): batch dims \(2,\) and \(3,\) cannot be broadcast together"),
    (lambda: dp.ones(()) @ dp.ones(3), ValueError, "matmul: both operands need at least 1 dim"),
    (lambda: dp.ones(2, 3) @ dp.ones(3, 2, dtype=dp.float64), TypeError,
     r"matmul: \(2, 3\) @ \(3, 2\): dtypes float32 and float64 differ; convert one operand"),
    (lambda: dp.tensor([[1, 2]]) @ dp.ones(2, 1), TypeError, "matmul: .* dtypes int64 and float32 differ"),
]


@pytest.mark.parametrize("make, error, message", ERRORS, ids=[str(i) for i in range(len(ERRORS))])
def test_errors(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_shape_error_comes_before_backward():
    """The mistake is reported at the op, never as a NumPy traceback from inside backward."""
    x = dp.randn(64, 10, requires_grad=True)
    w = dp.randn(64, 128, requires_grad=True)
    with pytest.raises(ValueError) as info:
        (x @ w).sum().backward()
    assert info.traceback[-1].name == "matmul"
