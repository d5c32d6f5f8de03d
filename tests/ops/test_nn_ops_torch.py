"""Fused kernels against PyTorch: softmax, log_softmax, cross_entropy in all its forms,
linear, binary cross-entropy; values and gradients, float64 and float32."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import deepprimer as dp  # noqa: E402
from op_cases import NN_OPS, params  # noqa: E402
from torch_parity import DTYPES, check_case, compare  # noqa: E402

pytestmark = pytest.mark.torch


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("case", params(NN_OPS))
def test_matches_torch(case, dtype):
    check_case(case, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_huge_logits_match_torch(dtype, smoothing):
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5e3], [3e3, 3e3, -3e3]])
    target = np.array([1, 1, 0])
    fn = lambda lib, x, t: lib.nn.functional.cross_entropy(x, t, label_smoothing=smoothing)  # noqa: E731
    compare(lambda *xs: fn(dp, *xs), lambda *xs: fn(torch, *xs), [logits, target], dtype)
