"""The fast ReLU and tiled 2x2 max-pool paths (see test_relu_maxpool_fast.py) against PyTorch:
special values through ReLU, and ties after ReLU through the pool (outputs, indices, gradients)."""
import numpy as np
import pytest

import deepprimer as dp

from .test_relu_maxpool_fast import channels_last, pool, special

torch = pytest.importorskip("torch")


def test_relu_matches_torch_on_special_values():
    x = special((4, 8, 16, 32), np.float32, np.random.default_rng(2))
    ours = dp.relu(dp.Tensor(channels_last(x))).data
    theirs = torch.relu(torch.from_numpy(x)).numpy()
    np.testing.assert_array_equal(ours, theirs)  # NaN where torch has NaN, equal elsewhere


def test_tiled_2x2_matches_torch_with_ties_from_relu():
    rng = np.random.default_rng(5)
    x = np.maximum(np.round(rng.standard_normal((4, 16, 10, 12))), 0)
    g = rng.standard_normal((4, 16, 5, 6))
    out, idx, grad = pool(channels_last(x), {"kernel_size": 2}, g)
    xt = torch.tensor(x, requires_grad=True)
    out_t, idx_t = torch.nn.functional.max_pool2d(xt, 2, return_indices=True)
    out_t.backward(torch.tensor(g))
    np.testing.assert_array_equal(out, out_t.detach().numpy())
    np.testing.assert_array_equal(idx, idx_t.numpy())
    np.testing.assert_array_equal(grad, xt.grad.numpy())
