"""BatchNorm and LayerNorm: the fused kernels against their composition of primitives."""
import numpy as np
import pytest

import deepprimer as dp
import deepprimer.nn.functional as F
from deepprimer import nn
from deepprimer.autograd import gradcheck


def randn(*shape, seed=0, scale=1.0, shift=0.0):
    return dp.tensor(np.random.default_rng(seed).standard_normal(shape) * scale + shift, dtype=dp.float64)


def leaf(t):
    return dp.tensor(t.data.copy(), requires_grad=True)


# ---- the references: the textbook formulas in primitive ops ----------------------------------


def batch_norm_reference(x, weight, bias, eps, mean=None, var=None):
    c = x.shape[1]
    shape = (1, c) + (1,) * (x.ndim - 2)
    axes = (0,) + tuple(range(2, x.ndim))
    if mean is None:
        mean = x.mean(dim=axes, keepdim=True)
        var = ((x - mean) ** 2).mean(dim=axes, keepdim=True)
    else:
        mean, var = mean.reshape(shape), var.reshape(shape)
    out = (x - mean) / (var + eps).sqrt()
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def layer_norm_reference(x, k, weight, bias, eps):
    dims = tuple(range(x.ndim - k, x.ndim))
    mean = x.mean(dim=dims, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=dims, keepdim=True)
    out = (x - mean) / (var + eps).sqrt()
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def grads_of(fn, inputs, seed=1):
    out = fn(*inputs)
    g = np.random.default_rng(seed).standard_normal(tuple(out.shape))
    out.backward(dp.tensor(g))
    return out.data, [None if t.grad is None else t.grad.data for t in inputs]


def assert_same(fused_fn, reference_fn, inputs, rtol=1e-9, atol=1e-11):
    """Same output and same gradients for every input (optional arguments go in closures)."""
    out_a, grads_a = grads_of(fused_fn, [leaf(t) for t in inputs])
    out_b, grads_b = grads_of(reference_fn, [leaf(t) for t in inputs])
    np.testing.assert_allclose(out_a, out_b, rtol=rtol, atol=atol)
    for ga, gb in zip(grads_a, grads_b):
        np.testing.assert_allclose(ga, gb, rtol=rtol, atol=atol)


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5), (2, 3, 4, 2)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_training_matches_reference(shape, affine):
    x = randn(*shape, scale=2, shift=1)
    w, b = randn(3, seed=2), randn(3, seed=3)
    eps = 1e-3
    if affine:
        assert_same(lambda x, w, b: F.batch_norm(x, None, None, w, b, True, 0.1, eps),
                    lambda x, w, b: batch_norm_reference(x, w, b, eps), [x, w, b])
    else:
        assert_same(lambda x: F.batch_norm(x, None, None, None, None, True, 0.1, eps),
                    lambda x: batch_norm_reference(x, None, None, eps), [x])


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5)])
def test_batch_norm_eval_matches_reference(shape):
    x = randn(*shape)
    w, b = randn(3, seed=2), randn(3, seed=3)
    rm, rv = randn(3, seed=4), dp.tensor(np.array([0.5, 1.5, 2.0]))
    assert_same(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, False, 0.1, 1e-5),
                lambda x, w, b: batch_norm_reference(x, w, b, 1e-5, rm, rv), [x, w, b])


def test_batch_norm_running_statistics_formula():
    x = randn(10, 4, scale=3, shift=2)
    rm, rv = dp.zeros(4, dtype=dp.float64), dp.ones(4, dtype=dp.float64)
    F.batch_norm(x, rm, rv, training=True, momentum=0.25)
    np.testing.assert_allclose(rm.data, 0.25 * x.data.mean(0))
    np.testing.assert_allclose(rv.data, 0.75 + 0.25 * x.data.var(0, ddof=1))


@pytest.mark.parametrize("shape,k", [((6, 5), 1), ((2, 3, 4), 1), ((2, 3, 4), 2)])
@pytest.mark.parametrize("affine", ["both", "weight", "none"])
def test_layer_norm_matches_reference(shape, k, affine):
    x = randn(*shape, scale=2, shift=-1)
    pshape = shape[len(shape) - k:]
    w, b = randn(*pshape, seed=2), randn(*pshape, seed=3)
    if affine == "both":
        assert_same(lambda x, w, b: F.layer_norm(x, pshape, w, b, 1e-5),
                    lambda x, w, b: layer_norm_reference(x, k, w, b, 1e-5), [x, w, b])
    elif affine == "weight":
        assert_same(lambda x, w: F.layer_norm(x, pshape, w, None, 1e-5),
                    lambda x, w: layer_norm_reference(x, k, w, None, 1e-5), [x, w])
    else:
        assert_same(lambda x: F.layer_norm(x, pshape, None, None, 1e-5),
                    lambda x: layer_norm_reference(x, k, None, None, 1e-5), [x])


def test_fused_kernels_pass_gradcheck():
    x = randn(5, 3, 2).requires_grad_(True)
    w, b = randn(3, seed=1).requires_grad_(True), randn(3, seed=2).requires_grad_(True)
    assert gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, True), (x, w, b))
    rm, rv = randn(3, seed=3), dp.tensor(np.array([1.0, 2.0, 0.5]))
    assert gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, False), (x, w, b))
    w2, b2 = randn(3, 2, seed=4).requires_grad_(True), randn(3, 2, seed=5).requires_grad_(True)
    assert gradcheck(lambda x, w, b: F.layer_norm(x, (3, 2), w, b), (x, w2, b2))


def test_modules_pass_gradcheck():
    bn = nn.BatchNorm1d(3).double()
    ln = nn.LayerNorm(4).double()
    with dp.no_grad():
        bn.weight.copy_(randn(3, seed=1))
        ln.bias.copy_(randn(4, seed=2))
    x = randn(6, 3).requires_grad_(True)
    assert gradcheck(lambda x, *p: bn(x), (x, *bn.parameters()))
    bn.eval()
    assert gradcheck(lambda x, *p: bn(x), (x, *bn.parameters()))
    x = randn(2, 3, 4).requires_grad_(True)
    assert gradcheck(lambda x, *p: ln(x), (x, *ln.parameters()))


def test_float32_stays_float32():
    x = dp.randn(16, 4) * 3
    bn, ln = nn.BatchNorm1d(4), nn.LayerNorm(4)
    for layer in (bn, ln):
        y = layer(x.requires_grad_(True))
        assert y.dtype == dp.float32
        y.sum().backward()
        assert all(p.grad.dtype == dp.float32 for p in layer.parameters())
    assert bn.running_mean.dtype == bn.running_var.dtype == dp.float32


def test_batchnorm_train_updates_stats_eval_does_not():
    bn = nn.BatchNorm1d(2)
    x = dp.randn(32, 2) * 2 + 3
    bn(x)
    np.testing.assert_allclose(bn.running_mean.data, 0.1 * x.data.mean(0), rtol=1e-5)
    assert int(bn.num_batches_tracked.item()) == 1
    before = bn.running_mean.data.copy()
    bn.eval()
    y = bn(x)
    np.testing.assert_array_equal(bn.running_mean.data, before)
    expected = (x.data - bn.running_mean.data) / np.sqrt(bn.running_var.data + 1e-5)
    np.testing.assert_allclose(y.data, expected, rtol=1e-5, atol=1e-6)


def test_batchnorm_momentum_none_is_cumulative_average():
    bn = nn.BatchNorm1d(1, momentum=None).double()
    batches = [randn(4, 1, seed=s) for s in range(3)]
    for b in batches:
        bn(b)
    np.testing.assert_allclose(bn.running_mean.data, np.mean([b.data.mean() for b in batches]))


def test_batchnorm_input_errors():
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        bn(dp.randn(2, 3, 4, 5))
    with pytest.raises(ValueError, match="4 channels in dim 1, expected 3"):
        bn(dp.randn(5, 4))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(dp.randn(1, 3))
    with pytest.raises(ValueError, match="expected 4D input"):
        nn.BatchNorm2d(3)(dp.randn(2, 3))
    with pytest.raises(ValueError, match="running_mean and running_var are needed"):
        F.batch_norm(dp.randn(4, 3), None, None, training=False)


def test_layer_norm_shape_error():
    with pytest.raises(ValueError, match=r"normalized_shape \[5\] must match the last dims"):
        nn.LayerNorm(5)(dp.randn(2, 4))


def test_state_dict_keys():
    assert list(nn.BatchNorm1d(3).state_dict()) == [
        "weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert list(nn.BatchNorm1d(3, affine=False, track_running_stats=False).state_dict()) == []
    assert list(nn.LayerNorm(3, bias=False).state_dict()) == ["weight"]
