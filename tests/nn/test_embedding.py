"""Embedding: the gather/scatter-add kernel against a one-hot matrix product."""
import numpy as np
import pytest

import deepprimer as dp
import deepprimer.nn.functional as F
from deepprimer import nn
from deepprimer.autograd import gradcheck
from deepprimer.ops.embedding import scatter_add_rows


def one_hot_reference(idx, weight):
    """weight[idx] written as one_hot(idx) @ weight: its gradient is one_hot^T @ g, which adds
    up the gradients of repeated indices by construction."""
    hot = F.one_hot(idx, weight.shape[0]).astype(weight.dtype)
    return hot @ weight


def weights(v=7, d=3, seed=0, dtype=dp.float64):
    return dp.tensor(np.random.default_rng(seed).standard_normal((v, d)), dtype=dtype, requires_grad=True)


@pytest.mark.parametrize("idx", [[[0, 3, 3, 6], [3, 1, 0, 3]], [5, 5, 5], 2, [[[1, 2]], [[2, 1]]]])
def test_matches_one_hot_reference(idx):
    idx = dp.tensor(idx)
    w1, w2 = weights(), weights()
    y1, y2 = F.embedding(idx, w1), one_hot_reference(idx, w2)
    assert tuple(y1.shape) == tuple(idx.shape) + (3,)
    np.testing.assert_array_equal(y1.data, y2.data)
    g = dp.tensor(np.random.default_rng(1).standard_normal(tuple(y1.shape)))
    y1.backward(g)
    y2.backward(g)
    np.testing.assert_allclose(w1.grad.data, w2.grad.data, rtol=1e-12, atol=1e-12)


def test_repeated_indices_accumulate():
    w = weights(4, 2)
    F.embedding(dp.tensor([1, 1, 1, 3]), w).sum().backward()
    np.testing.assert_array_equal(w.grad.data, [[0, 0], [3, 3], [0, 0], [1, 1]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_scatter_add_rows_against_add_at(dtype):
    rng = np.random.default_rng(0)
    idx = rng.integers(0, 50, 300)
    values = rng.standard_normal((300, 8)).astype(dtype)
    expected = np.zeros((50, 8), dtype=dtype)
    np.add.at(expected, idx, values)
    out = scatter_add_rows(idx, values, 50)
    assert out.dtype == dtype and out.shape == (50, 8)
    tol = 1e-2 if dtype == np.float16 else 1e-5
    np.testing.assert_allclose(out, expected, rtol=tol, atol=tol)


def test_padding_idx_gets_no_gradient_and_scale_by_freq():
    w = weights(5, 2)
    F.embedding(dp.tensor([0, 2, 2, 4]), w, padding_idx=2, scale_grad_by_freq=True).sum().backward()
    np.testing.assert_array_equal(w.grad.data, [[1, 1], [0, 0], [0, 0], [0, 0], [1, 1]])
    w = weights(5, 2)
    F.embedding(dp.tensor([0, 0, 4]), w, scale_grad_by_freq=True).sum().backward()
    np.testing.assert_allclose(w.grad.data[0], [1, 1])  # two occurrences, each scaled by 1/2


def test_gradcheck():
    w = weights(5, 3)
    idx = dp.tensor([[0, 4, 4], [1, 0, 2]])
    assert gradcheck(lambda w: F.embedding(idx, w), (w,))
    emb = nn.Embedding(6, 2).double()  # (padding_idx and scale_grad_by_freq alter the true gradient)
    assert gradcheck(lambda w: emb(dp.tensor([1, 2, 2, 5])) * 3.0, (emb.weight,))


def test_max_norm_rescales_looked_up_rows_in_place():
    w = dp.tensor([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0]], requires_grad=True)
    F.embedding(dp.tensor([0, 1]), w, max_norm=1.0)
    np.testing.assert_allclose(w.data, [[0.6, 0.8], [0.3, 0.4], [6.0, 8.0]], rtol=1e-6)


def test_errors():
    w = weights(4, 2)
    with pytest.raises(IndexError, match="index 4 is out of range for an embedding of 4 rows"):
        F.embedding(dp.tensor([0, 4]), w)
    with pytest.raises(IndexError, match="index -1"):
        F.embedding(dp.tensor([-1]), w)
    with pytest.raises(TypeError, match="indices must be an integer tensor"):
        F.embedding(dp.tensor([0.0, 1.0]), w)
    with pytest.raises(ValueError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(3, 2, padding_idx=3)


def test_module_shapes_init_and_freeze():
    dp.manual_seed(0)
    emb = nn.Embedding(1000, 16, padding_idx=-1)
    assert emb.padding_idx == 999 and tuple(emb.weight.shape) == (1000, 16)
    assert np.all(emb.weight.data[999] == 0)
    assert abs(emb.weight.data[:999].std() - 1) < 0.02  # N(0, 1), as in torch
    out = emb(dp.randint(0, 1000, (4, 7)))
    assert tuple(out.shape) == (4, 7, 16) and out.dtype == dp.float32
    frozen = nn.Embedding.from_pretrained(dp.randn(3, 2))
    assert not frozen.weight.requires_grad and not frozen(dp.tensor([1])).requires_grad
    trainable = nn.Embedding.from_pretrained(dp.randn(3, 2), freeze=False)
    assert trainable.weight.requires_grad
