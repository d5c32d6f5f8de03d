"""Reductions: gradcheck over every axis, several axes and all, with and without keepdim;
torch's (values, indices) for max/min over a dim; ties; errors."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

import deepprimer as dp
import deepprimer.nn.functional as F
from op_cases import REDUCE, params


@pytest.mark.parametrize("case", params(REDUCE, gradcheck=True))
def test_gradcheck(case):
    arrays = case.arrays()
    inputs = [dp.tensor(a, requires_grad=True) for a in arrays]
    assert dp.autograd.gradcheck(lambda *xs: case.fn(dp, F, *xs), inputs)


REDUCTIONS = {
    "sum": (lambda t, d, k: t.sum(d, keepdim=k), lambda a, d, k: a.sum(axis=d, keepdims=k)),
    "mean": (lambda t, d, k: t.mean(d, keepdim=k), lambda a, d, k: a.mean(axis=d, keepdims=k)),
    "var": (lambda t, d, k: t.var(d, keepdim=k), lambda a, d, k: a.var(axis=d, keepdims=k, ddof=1)),
    "amax": (lambda t, d, k: t.amax(d, keepdim=k), lambda a, d, k: a.max(axis=d, keepdims=k)),
    "logsumexp": (
        lambda t, d, k: t.logsumexp(d, keepdim=k),
        lambda a, d, k: np.log(np.exp(a).sum(axis=d, keepdims=k)),
    ),
}


@given(
    shape=array_shapes(min_dims=1, max_dims=4, min_side=2, max_side=4),
    data=st.data(),
    name=st.sampled_from(sorted(REDUCTIONS)),
    keepdim=st.booleans(),
)
def test_random_shapes_and_dims(shape, data, name, keepdim):
    """Any shape, any set of dims (negative ones too): NumPy's value, and a passing gradcheck."""
    dims = data.draw(st.lists(st.integers(-len(shape), len(shape) - 1), min_size=1, max_size=len(shape),
                              unique_by=lambda d: d % len(shape)))
    dim = dims[0] if len(dims) == 1 else tuple(dims)
    ours, numpy_fn = REDUCTIONS[name]
    a = np.random.default_rng(len(shape)).standard_normal(shape)
    x = dp.tensor(a, requires_grad=True)
    axis = tuple(d % len(shape) for d in dims)
    np.testing.assert_allclose(ours(x, dim, keepdim).detach().numpy(), numpy_fn(a, axis, keepdim), rtol=1e-10)
    assert dp.autograd.gradcheck(lambda t: ours(t, dim, keepdim), x)


def test_max_over_dim_returns_values_and_indices():
    x = dp.tensor([[1.0, 5.0, 3.0], [7.0, 2.0, 9.0]], requires_grad=True)
    values, indices = x.max(dim=1)
    assert values.tolist() == [5.0, 9.0] and indices.tolist() == [1, 2]
    out = dp.min(x, 0, keepdim=True)
    assert out.values.tolist() == [[1.0, 2.0, 3.0]] and out.indices.tolist() == [[0, 1, 0]]
    assert out.indices.dtype == dp.int64 and not out.indices.requires_grad
    assert x.max().item() == 9.0 and dp.max(x).item() == 9.0


def test_max_ties():
    """A full reduction shares the gradient between ties (torch's amax); max(dim) gives it
    to the returned index."""
    x = dp.tensor([[2.0, 2.0, 1.0], [0.0, 3.0, 3.0]], requires_grad=True)
    x.max().backward()
    assert x.grad.tolist() == [[0.0, 0.0, 0.0], [0.0, 0.5, 0.5]]
    x.grad = None
    values, indices = x.max(dim=1)
    values.sum().backward()
    expected = np.zeros((2, 3))
    expected[[0, 1], indices.numpy()] = 1
    np.testing.assert_array_equal(x.grad.numpy(), expected)
    x.grad = None
    x.amax(dim=1).sum().backward()
    assert x.grad.tolist() == [[0.5, 0.5, 0.0], [0.0, 0.5, 0.5]]


def test_argmax_argmin():
    x = dp.tensor([[1.0, 5.0, 3.0], [7.0, 2.0, 9.0]])
    assert x.argmax().item() == 5 and x.argmin().item() == 0
    assert x.argmax(dim=1).tolist() == [1, 2]
    assert dp.argmin(x, dim=0, keepdim=True).tolist() == [[0, 1, 0]]
    assert x.argmax(dim=1).dtype == dp.int64


def test_var_and_std_corrections():
    a = np.arange(6.0).reshape(2, 3)
    x = dp.tensor(a, dtype=dp.float64)
    np.testing.assert_allclose(x.var().item(), a.var(ddof=1))
    np.testing.assert_allclose(x.var(unbiased=False).item(), a.var())
    np.testing.assert_allclose(x.std(dim=1, correction=0).numpy(), a.std(axis=1))
    np.testing.assert_allclose(dp.std(x, 0).numpy(), a.std(axis=0, ddof=1))


def test_logsumexp_is_stable():
    x = dp.tensor([[1e4, 1e4], [-1e4, -1e4]], requires_grad=True)
    out = x.logsumexp(1)
    np.testing.assert_allclose(out.detach().numpy(), [1e4 + np.log(2), -1e4 + np.log(2)])
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full((2, 2), 0.5))


def test_reductions_keep_float32():
    x = dp.randn(4, 5, requires_grad=True)
    for out in (x.sum(), x.mean(1), x.var(0), x.std(), x.amax(1), x.logsumexp(0), x.norm()):
        assert out.dtype == dp.float32


def test_sum_of_ints_and_bools():
    assert dp.tensor([[1, 2], [3, 4]]).sum(0).tolist() == [4, 6]
    assert dp.tensor([True, True, False]).sum().item() == 2
    assert dp.tensor([1, 2]).sum(dtype=dp.float32).dtype == dp.float32


def test_mean_of_ints_is_refused():
    with pytest.raises(TypeError, match="mean: needs a floating tensor, got int64; call .float"):
        dp.tensor([1, 2]).mean()


def test_dim_out_of_range():
    with pytest.raises(IndexError, match=r"sum: dimension 2 is out of range for a tensor with 2 dims \(expected a dim in \[-2, 1\]\)"):
        dp.ones(2, 3).sum(2)
    with pytest.raises(IndexError, match="max: dimension -3 is out of range"):
        dp.ones(2, 3).max(-3)


def test_empty_max_is_refused():
    with pytest.raises(ValueError, match=r"max: cannot reduce an empty tensor of shape \(0, 3\)"):
        dp.ones(0, 3).max()


def test_any_all():
    m = dp.tensor([[True, False], [True, True]])
    assert m.any().item() and not m.all().item()
    assert m.all(dim=1).tolist() == [False, True]
