"""Creation functions against torch: values, shapes and dtypes."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import deepprimer as dp  # noqa: E402
from torch_parity import same_dtype  # noqa: E402

pytestmark = pytest.mark.torch

MAKERS = [
    lambda lib: lib.zeros(2, 3),
    lambda lib: lib.ones((2, 3), dtype=lib.float64),
    lambda lib: lib.full((2, 2), 7),
    lambda lib: lib.full((2, 2), 7.5),
    lambda lib: lib.full((2,), True),
    lambda lib: lib.arange(5),
    lambda lib: lib.arange(1, 10, 3),
    lambda lib: lib.arange(0, 1, 0.1),
    lambda lib: lib.arange(5.0),
    lambda lib: lib.arange(10, 0, -3),
    lambda lib: lib.linspace(0, 1, 7),
    lambda lib: lib.linspace(-2, 2, 5, dtype=lib.float64),
    lambda lib: lib.eye(3),
    lambda lib: lib.eye(2, 4, dtype=lib.float64),
    lambda lib: lib.zeros_like(lib.ones(2, dtype=lib.int64)),
    lambda lib: lib.full_like(lib.ones(2, dtype=lib.float64), 3),
    lambda lib: lib.ones_like(lib.zeros(3, 1)),
]


@pytest.mark.parametrize("make", MAKERS, ids=[str(i) for i in range(len(MAKERS))])
def test_matches_torch(make):
    ours, theirs = make(dp), make(torch)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert same_dtype(ours, theirs)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-7)


def test_random_makers_shapes_and_dtypes_match_torch():
    for make in (lambda lib: lib.rand(2, 3), lambda lib: lib.randn(4), lambda lib: lib.randint(0, 5, (3, 2)),
                 lambda lib: lib.randint(5, (3,)), lambda lib: lib.randperm(4), lambda lib: lib.randn(2, dtype=lib.float64)):
        ours, theirs = make(dp), make(torch)
        assert tuple(ours.shape) == tuple(theirs.shape)
        assert same_dtype(ours, theirs)
