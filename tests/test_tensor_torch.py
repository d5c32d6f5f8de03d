"""Tensor against torch.Tensor: the printed form and the dtype a tensor gets from its data."""
import re

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import deepprimer as dp  # noqa: E402
from torch_parity import same_dtype  # noqa: E402

pytestmark = pytest.mark.torch

nan, inf = float("nan"), float("inf")
rng = np.random.default_rng(0)

DATA = [
    [1.5, 2.0], 3.25, [[1.5, -2.0], [3, 4]], [1.0, 10.0, -100.0], [1e-5, 1.0, 1e5], [1e10, 1.0],
    [0.0, 0.0], [1.0, inf, nan], nan, [0.001, 0.5], [-0.0, 1.0], [1e-4, 1.0], [123456.5, 1.25],
    [1.0, 2000.0], [1.0, 999.0], 0.0, [[0.0]], [1e9], [1e8], [1e-8, 0.0], [100.0, 200.5],
    rng.standard_normal((3, 17)) * 10, np.round(rng.standard_normal((4, 25)) * 10),
    rng.standard_normal(2000), rng.standard_normal((40, 40)), rng.standard_normal((2, 3, 400)),
    np.round(rng.standard_normal((10, 10, 12)) * 10), np.arange(2000.0), rng.standard_normal((2, 2, 2)),
]


def _same_layout(ours, theirs):
    """Our repr with torch's names; where a long name alone moved an extra to the next line,
    join it back (torch's rule, applied to a longer name)."""
    join = lambda r: re.sub(r",\n *(dtype|requires_grad|grad_fn)", r", \1", r)  # noqa: E731
    assert join(ours.replace("deepprimer.", "torch.")) == join(theirs)


def _as(data, dtype):
    array = np.asarray(data)
    if dtype == "bool":
        return array > 0
    return array.astype(dtype) if dtype.startswith("float") else (array * 100).astype(dtype)


def _fits_integers(data):
    array = np.asarray(data)
    return np.isfinite(array).all() and np.abs(array).max() * 100 < 2**31


ARRAYS = [
    pytest.param(_as(data, dtype), id=f"{i}-{dtype}")
    for i, data in enumerate(DATA)
    for dtype in ("float32", "float64", "int64", "int32", "bool")
    if dtype.startswith(("float", "bool")) or _fits_integers(data)
]


@pytest.mark.parametrize("array", ARRAYS)
def test_repr_matches_torch(array):
    _same_layout(repr(dp.tensor(array)), repr(torch.tensor(array)))


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.zeros(3, requires_grad=True),
        lambda lib: lib.ones(2, 3, dtype=lib.float64, requires_grad=True),
        lambda lib: lib.zeros(2, 0),
        lambda lib: lib.zeros(0),
        lambda lib: lib.zeros(0, dtype=lib.int64),
        lambda lib: lib.zeros(0, dtype=lib.float64),
        lambda lib: lib.tensor(5),
        lambda lib: lib.tensor([1.5], dtype=lib.float16),
        lambda lib: lib.arange(20),
        lambda lib: lib.arange(12.0).reshape(3, 4) / 7,
    ],
)
def test_repr_of_made_tensors_matches_torch(make):
    _same_layout(repr(make(dp)), repr(make(torch)))


@pytest.mark.parametrize(
    "data",
    [1.5, 3, True, [1, 2.5], [], [[1, 2], [3, 4]], [True, False], np.float64(2.0), np.array([1, 2], dtype=np.int32),
     np.array([1.0, 2.0]), np.array([1.0], dtype=np.float32), np.int64(3)],
    ids=lambda d: repr(d),
)
def test_dtype_from_data_matches_torch(data):
    assert same_dtype(dp.tensor(data), torch.tensor(data))


def test_item_tolist_match_torch():
    a = np.array([[1.5, -2.25], [3.0, 4.0]], dtype=np.float32)
    assert dp.tensor(a).tolist() == torch.tensor(a).tolist()
    assert dp.tensor(a)[1, 0].item() == torch.tensor(a)[1, 0].item()
    assert type(dp.tensor(3).item()) is type(torch.tensor(3).item())
