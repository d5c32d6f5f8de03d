"""Elementwise ops: gradients (float64 gradcheck, broadcasting included), dtype promotion,
the errors a learner sees, and edge values."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import deepprimer as dp
import deepprimer.nn.functional as F
from op_cases import ELEMENTWISE, params


def gradcheck_case(case):
    assert dp.autograd.gradcheck(case.deepprimer_fn(), case.deepprimer_inputs())


@pytest.mark.parametrize("case", params(ELEMENTWISE, gradcheck=True))
def test_gradcheck(case):
    gradcheck_case(case)


BINARY = {
    "add": lambda x, y: x + y,
    "sub": lambda x, y: x - y,
    "mul": lambda x, y: x * y,
    "div": lambda x, y: x / (y.abs() + 0.5),
    "maximum": dp.maximum,
    "minimum": dp.minimum,
    "pow": lambda x, y: (x.abs() + 0.5) ** y,
    "where": lambda x, y: dp.where(x > y, x, y * 2),
}


@given(
    shapes=mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3),
    op=st.sampled_from(sorted(BINARY)),
    seed=st.integers(0, 2**16),
)
def test_broadcasting_random_shapes(shapes, op, seed):
    """Any broadcastable pair: the result has the broadcast shape, each gradient its input's."""
    rng = np.random.default_rng(seed)
    a, b = (rng.standard_normal(s) for s in shapes.input_shapes)
    x, y = dp.tensor(a, requires_grad=True), dp.tensor(b, requires_grad=True)
    out = BINARY[op](x, y)
    assert tuple(out.shape) == np.broadcast_shapes(*shapes.input_shapes)
    assert dp.autograd.gradcheck(BINARY[op], (x, y))
    out.sum().backward()
    assert x.grad.shape == x.shape and y.grad.shape == y.shape


@given(shapes=mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=4))
def test_broadcast_gradient_is_summed_back(shapes):
    """d(sum(x + y))/dx counts how often each element of x was used."""
    sa, sb = shapes.input_shapes
    x = dp.zeros(sa, dtype=dp.float64, requires_grad=True)
    y = dp.zeros(sb, dtype=dp.float64, requires_grad=True)
    (x + y).sum().backward()
    out_size = int(np.prod(np.broadcast_shapes(sa, sb)))
    np.testing.assert_array_equal(x.grad.numpy(), np.full(sa, out_size / max(int(np.prod(sa)), 1)))
    np.testing.assert_array_equal(y.grad.numpy(), np.full(sb, out_size / max(int(np.prod(sb)), 1)))


# ---- dtypes --------------------------------------------------------------------------

PROMOTION = [
    # (left, right, expected dtype), PyTorch's rules
    (lambda: dp.tensor([1, 2]) + dp.tensor([1.0, 2.0]), "float32"),
    (lambda: dp.tensor([1, 2]) * 0.5, "float32"),
    (lambda: 0.5 * dp.tensor([1, 2]), "float32"),
    (lambda: dp.tensor([1, 2]) * 2, "int64"),
    (lambda: dp.tensor([1, 2]) / 2, "float32"),
    (lambda: dp.tensor([1, 2]) / dp.tensor([2, 4]), "float32"),
    (lambda: 1 / dp.tensor([1, 2]), "float32"),
    (lambda: dp.tensor([1.0, 2.0]) * 2, "float32"),
    (lambda: dp.tensor([1.0, 2.0]) * np.float64(2.5), "float32"),
    (lambda: dp.tensor([1.0, 2.0]) + dp.tensor([1.0, 2.0], dtype=dp.float64), "float64"),
    (lambda: dp.tensor([1.0, 2.0]) + dp.tensor(1.0, dtype=dp.float64), "float32"),
    (lambda: dp.tensor([1, 2], dtype=dp.int32) + dp.tensor(1), "int32"),
    (lambda: dp.tensor([1, 2]) + dp.tensor(1.5, dtype=dp.float64), "float64"),
    (lambda: dp.tensor([True, False]) + dp.tensor([1, 2]), "int64"),
    (lambda: dp.tensor([True, False]) * 1.5, "float32"),
    (lambda: dp.tensor([1, 2], dtype=dp.int32) + dp.tensor([1, 2]), "int64"),
    (lambda: dp.exp(dp.tensor([1, 2])), "float32"),
    (lambda: dp.sqrt(dp.tensor([1, 4])), "float32"),
    (lambda: dp.tensor([1, 2]).sigmoid(), "float32"),
    (lambda: dp.abs(dp.tensor([-1, 2])), "int64"),
    (lambda: dp.relu(dp.tensor([-1, 2])), "int64"),
    (lambda: dp.clamp(dp.tensor([1, 5]), min=2), "int64"),
    (lambda: dp.clamp(dp.tensor([1, 5]), min=1.5), "float32"),
    (lambda: dp.where(dp.tensor([True, False]), dp.tensor([1, 2]), 0.5), "float32"),
    (lambda: dp.maximum(dp.tensor([1, 2]), dp.tensor([1.5, 0.5])), "float32"),
    (lambda: dp.tensor([1.0, 2.0], dtype=dp.float64) ** 2, "float64"),
    (lambda: 2 ** dp.tensor([1.0, 2.0]), "float32"),
]


@pytest.mark.parametrize("make, expected", PROMOTION, ids=[str(i) for i in range(len(PROMOTION))])
def test_type_promotion(make, expected):
    assert make().dtype == np.dtype(expected)


def test_float32_stays_float32_through_ops():
    x = dp.randn(3, 4, requires_grad=True)
    y = ((x * 0.5 + 1) ** 2 / 3 - x.exp().log()).tanh().sigmoid()
    assert y.dtype == dp.float32
    y.sum().backward()
    assert x.grad.dtype == dp.float32


def test_integer_tensors_take_no_gradient():
    i = dp.tensor([1, 2, 3])
    with pytest.raises(RuntimeError, match="only floating point tensors can require gradients.*int64"):
        i.requires_grad_()
    with pytest.raises(RuntimeError, match="floating point"):
        dp.tensor([1, 2], requires_grad=True)
    x = dp.randn(3, requires_grad=True)
    assert not (x > 0).requires_grad
    assert not x.argmax().requires_grad
    assert (x * i).requires_grad


@pytest.mark.parametrize(
    "op, expected",
    [
        (lambda x, y: x == y, [False, True, False]),
        (lambda x, y: x != y, [True, False, True]),
        (lambda x, y: x < y, [True, False, False]),
        (lambda x, y: x <= y, [True, True, False]),
        (lambda x, y: x > y, [False, False, True]),
        (lambda x, y: x >= y, [False, True, True]),
        (lambda x, y: x.eq(y), [False, True, False]),
        (lambda x, y: x.lt(2.0), [True, False, False]),
        (lambda x, y: (x > 1) & (y > 1), [False, True, False]),
        (lambda x, y: (x > 1) | (y > 1), [True, True, True]),
        (lambda x, y: (x > 1) ^ (y > 1), [True, False, True]),
        (lambda x, y: ~(x > 1), [True, False, False]),
    ],
)
def test_comparisons_return_bool_tensors(op, expected):
    x = dp.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = dp.tensor([2.0, 2.0, 1.0])
    out = op(x, y)
    assert out.dtype == dp.bool and not out.requires_grad
    assert out.tolist() == expected


def test_comparison_with_none_is_false():
    assert (dp.tensor([1.0]) == None) is False  # noqa: E711


# ---- errors: at the op, naming it and the shapes --------------------------------------


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "pow", "maximum", "minimum"])
def test_broadcast_mismatch_names_op_and_shapes(op):
    fn = {"add": dp.Tensor.__add__, "sub": dp.Tensor.__sub__, "mul": dp.Tensor.__mul__,
          "div": dp.Tensor.__truediv__, "pow": dp.Tensor.__pow__, "maximum": dp.maximum,
          "minimum": dp.minimum}[op]
    with pytest.raises(ValueError, match=rf"^{op}: shapes \(2, 3\) and \(4,\) cannot be broadcast together"):
        fn(dp.ones(2, 3, requires_grad=True), dp.ones(4))


def test_comparison_broadcast_mismatch():
    with pytest.raises(ValueError, match=r"lt: shapes \(3,\) and \(2,\) cannot be broadcast"):
        dp.ones(3) < dp.ones(2)


def test_bad_operand_type_is_a_type_error():
    with pytest.raises(TypeError, match="add: expected a tensor or a Python number, got str"):
        dp.ones(2) + "a"
    with pytest.raises(TypeError, match="mul: expected a tensor or a Python number, got dict"):
        dp.ones(2) * {}


def test_math_of_a_non_tensor_names_the_op():
    with pytest.raises(TypeError, match=r"exp: expected a Tensor, got list \(wrap it: dp.tensor\(x\)\)"):
        dp.exp([1.0, 2.0])


def test_where_needs_bool_condition():
    with pytest.raises(TypeError, match="where: condition must be a bool tensor, got float32"):
        dp.where(dp.ones(2), dp.ones(2), dp.zeros(2))


def test_where_shape_mismatch_names_the_op():
    with pytest.raises(ValueError, match=r"where: condition, input and other of shapes \(3,\), \(2,\) cannot be broadcast together"):
        dp.where(dp.tensor([True, False, True]), dp.ones(2), 0.0)


def test_where_with_two_numbers():
    c = dp.tensor([True, False])
    assert dp.where(c, 1.0, 0.0).tolist() == [1.0, 0.0] and dp.where(c, 1.0, 0.0).dtype == dp.float32
    assert dp.where(c, 1, 0).dtype == dp.int64


def test_clamp_needs_a_bound():
    with pytest.raises(ValueError, match="clamp: give at least one of min and max"):
        dp.clamp(dp.ones(2))


def test_gelu_approximate_checked():
    with pytest.raises(ValueError, match="gelu: approximate must be 'none' or 'tanh', got 'fast'"):
        F.gelu(dp.ones(2), approximate="fast")


# ---- values at the edges ---------------------------------------------------------------


def test_sigmoid_and_softplus_do_not_overflow():
    x = dp.tensor([-1e4, -50.0, 0.0, 50.0, 1e4], requires_grad=True)
    s = x.sigmoid()
    np.testing.assert_allclose(s.detach().numpy(), [0, 1.9287e-22, 0.5, 1, 1], rtol=1e-3)
    sp = F.softplus(x)
    assert np.isfinite(sp.detach().numpy()).all()
    (s.sum() + sp.sum()).backward()
    assert np.isfinite(x.grad.numpy()).all()


def test_maximum_ties_split_the_gradient():
    x = dp.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = dp.tensor([1.0, 1.0, 5.0], requires_grad=True)
    dp.maximum(x, y).sum().backward()
    assert x.grad.tolist() == [0.5, 1.0, 0.0]
    assert y.grad.tolist() == [0.5, 0.0, 1.0]


def test_clamp_gradient_passes_at_the_bounds():
    x = dp.tensor([-2.0, -1.0, 0.0, 1.0, 2.0], requires_grad=True)
    x.clamp(-1.0, 1.0).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]


def test_relu_gradient_at_zero_is_zero():
    x = dp.tensor([-1.0, 0.0, 1.0], requires_grad=True)
    x.relu().sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 1.0]


def test_pow_gradients_at_zero_follow_torch():
    base = dp.tensor([0.0, 1.0], requires_grad=True)
    (base**0).sum().backward()
    assert base.grad.tolist() == [0.0, 0.0]
    exponent = dp.tensor([2.0, 0.0], requires_grad=True)
    (dp.tensor([0.0, 1.0]) ** exponent).sum().backward()
    assert exponent.grad.tolist() == [0.0, 0.0]
    exponent.grad = None
    (0.0**exponent).sum().backward()  # a Python base of 0 is no error
    assert exponent.grad.tolist() == [0.0, 0.0]


def test_scalar_on_either_side():
    x = dp.tensor([1.0, 2.0, 4.0])
    assert (10 - x).tolist() == [9.0, 8.0, 6.0]
    assert (8 / x).tolist() == [8.0, 4.0, 2.0]
    assert (2**x).tolist() == [2.0, 4.0, 16.0]
    assert (x**2).tolist() == [1.0, 4.0, 16.0]
    assert (np.float32(2) * x).tolist() == [2.0, 4.0, 8.0]
