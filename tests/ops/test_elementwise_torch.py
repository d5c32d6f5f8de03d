"""Elementwise ops against PyTorch: values and gradients, float64 and float32."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra.numpy import mutually_broadcastable_shapes  # noqa: E402

import deepprimer as dp  # noqa: E402
from op_cases import ELEMENTWISE, params  # noqa: E402
from torch_parity import DTYPES, check_case, compare, same_dtype  # noqa: E402

pytestmark = pytest.mark.torch


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("case", params(ELEMENTWISE))
def test_matches_torch(case, dtype):
    check_case(case, dtype)


OPS = {
    "add": lambda lib, x, y: x + y,
    "sub": lambda lib, x, y: y - x,
    "mul": lambda lib, x, y: x * y,
    "div": lambda lib, x, y: x / (y * y + 1),
    "maximum": lambda lib, x, y: lib.maximum(x, y),
    "where": lambda lib, x, y: lib.where(x > 0, x, y),
    "chain": lambda lib, x, y: (x * y).tanh() + y.exp() * x.sigmoid(),
}


@given(
    shapes=mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=4),
    op=st.sampled_from(sorted(OPS)),
    float32=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_random_broadcast_shapes_match_torch(shapes, op, float32, seed):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s) for s in shapes.input_shapes]
    compare(
        lambda *xs: OPS[op](dp, *xs), lambda *xs: OPS[op](torch, *xs), arrays,
        np.float32 if float32 else np.float64,
    )


DTYPE_CASES = [
    ("int64", "float32"), ("float32", "int64"), ("int32", "int64"), ("bool", "int64"),
    ("bool", "float32"), ("float32", "float64"), ("int64", "float64"), ("int32", "float32"),
]


@pytest.mark.parametrize("left, right", DTYPE_CASES)
@pytest.mark.parametrize("left_0d", [False, True])
def test_tensor_tensor_promotion_matches_torch(left, right, left_0d):
    a = np.ones(() if left_0d else (2,), dtype=left)
    b = np.ones((2,), dtype=right)
    for op in (lambda x, y: x + y, lambda x, y: x * y, lambda x, y: y / x, lambda x, y: x > y):
        assert same_dtype(op(dp.tensor(a), dp.tensor(b)), op(torch.tensor(a), torch.tensor(b))), (left, right, left_0d)


@pytest.mark.parametrize("dtype", ["int64", "int32", "float32", "float64", "bool"])
@pytest.mark.parametrize("scalar", [2, 0.5, True])
def test_tensor_scalar_promotion_matches_torch(dtype, scalar):
    a = np.ones(3, dtype=dtype)
    for op in (lambda x: x + scalar, lambda x: scalar * x, lambda x: x / scalar):
        if dtype == "bool" and scalar is True and op(torch.tensor(a)).dtype == torch.bool:
            continue
        assert same_dtype(op(dp.tensor(a)), op(torch.tensor(a))), (dtype, scalar)


EDGE_VALUES = [
    ("maximum_ties", lambda lib, x, y: lib.maximum(x, y), [[1.0, 2.0, 3.0], [1.0, 1.0, 3.0]]),
    ("minimum_ties", lambda lib, x, y: lib.minimum(x, y), [[1.0, 2.0, 3.0], [1.0, 1.0, 3.0]]),
    ("clamp_bounds", lambda lib, x: x.clamp(-1.0, 1.0), [[-2.0, -1.0, 0.0, 1.0, 2.0]]),
    ("relu_zero", lambda lib, x: x.relu(), [[-1.0, 0.0, 1.0]]),
    ("abs_zero", lambda lib, x: x.abs(), [[-1.0, 0.0, 1.0]]),
    ("pow_zero_exponent", lambda lib, x: x**0, [[0.0, 1.0]]),
    ("pow_zero_base", lambda lib, x, y: x**y, [[0.0, 1.0, 0.0], [2.0, 0.0, 0.5]]),
    ("sigmoid_huge", lambda lib, x: x.sigmoid(), [[-1e4, -60.0, 0.0, 60.0, 1e4]]),
    ("softplus_huge", lambda lib, x: lib.nn.functional.softplus(x), [[-1e4, -60.0, 0.0, 60.0, 1e4]]),
    ("tanh_huge", lambda lib, x: x.tanh(), [[-1e4, 0.0, 1e4]]),
    ("elu_zero", lambda lib, x: lib.nn.functional.elu(x), [[-1.0, 0.0, 1.0]]),
    ("leaky_relu_zero", lambda lib, x: lib.nn.functional.leaky_relu(x, 0.1), [[-1.0, 0.0, 1.0]]),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("name, fn, values", EDGE_VALUES, ids=[e[0] for e in EDGE_VALUES])
def test_edge_values_match_torch(name, fn, values, dtype):
    compare(lambda *xs: fn(dp, *xs), lambda *xs: fn(torch, *xs), [np.array(v) for v in values], dtype)
