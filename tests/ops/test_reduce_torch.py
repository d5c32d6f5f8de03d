"""Reductions against PyTorch: values, indices and gradients, float64 and float32."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from op_cases import REDUCE, params  # noqa: E402
from torch_parity import DTYPES, check_case, compare  # noqa: E402

pytestmark = pytest.mark.torch


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("case", params(REDUCE))
def test_matches_torch(case, dtype):
    check_case(case, dtype)


TIES = [
    ("amax_all", lambda x: x.amax()),
    ("amax_dim", lambda x: x.amax(dim=1)),
    ("max_all", lambda x: x.max()),
    ("min_all", lambda x: x.min()),
    ("amin_dims", lambda x: x.amin(dim=(0, 1))),
]


@pytest.mark.parametrize("name, fn", TIES, ids=[t[0] for t in TIES])
def test_ties_share_the_gradient_like_torch(name, fn):
    a = np.array([[2.0, 2.0, 1.0], [0.0, 3.0, 3.0], [1.0, 1.0, 1.0]])
    compare(fn, fn, [a], np.float64)
