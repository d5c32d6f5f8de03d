"""Layers: shapes, init, gradcheck in float64, dropout's behaviour, the shape layers."""
import math

import numpy as np
import pytest

import deepprimer as dp
import deepprimer.nn.functional as F
from deepprimer import nn
from deepprimer.autograd import gradcheck


def x64(*shape, seed=0, scale=1.0):
    return dp.tensor(np.random.default_rng(seed).standard_normal(shape) * scale, dtype=dp.float64, requires_grad=True)


def check_module(module, x):
    """gradcheck the module with respect to its input and every parameter."""
    params = list(module.parameters())
    return gradcheck(lambda x, *p: module(x), (x, *params))


# ---- Linear ------------------------------------------------------------------------------------


def test_linear_shapes_and_formula():
    lin = nn.Linear(5, 3)
    assert tuple(lin.weight.shape) == (3, 5) and tuple(lin.bias.shape) == (3,)
    assert lin.in_features == 5 and lin.out_features == 3
    x = dp.randn(4, 5)
    np.testing.assert_allclose(lin(x).data, x.data @ lin.weight.data.T + lin.bias.data, rtol=1e-6)
    assert tuple(lin(dp.randn(2, 7, 5)).shape) == (2, 7, 3)
    assert nn.Linear(5, 3, bias=False).bias is None
    assert [n for n, _ in nn.Linear(5, 3, bias=False).named_parameters()] == ["weight"]


def test_linear_default_init_is_torch_uniform():
    dp.manual_seed(0)
    lin = nn.Linear(256, 512)
    bound = 1 / math.sqrt(256)
    for p in (lin.weight, lin.bias):
        assert -bound <= p.data.min() and p.data.max() <= bound
    assert abs(lin.weight.data.std() - bound / math.sqrt(3)) < 0.02 * bound
    dp.manual_seed(0)
    again = nn.Linear(256, 512)
    np.testing.assert_array_equal(again.weight.data, lin.weight.data)


def test_linear_errors_are_clear():
    lin = nn.Linear(4, 2)
    with pytest.raises(ValueError, match=r"input of shape \(3, 5\) has 5 features but the weight of shape \(2, 4\)"):
        lin(dp.randn(3, 5))
    with pytest.raises(TypeError, match="float64 but the weight is float32"):
        lin(dp.randn(3, 4, dtype=dp.float64))


def test_linear_gradcheck():
    lin = nn.Linear(4, 3).double()
    assert check_module(lin, x64(5, 4))
    assert check_module(nn.Linear(4, 2, bias=False).double(), x64(2, 3, 4))


# ---- activations -----------------------------------------------------------------------------------


ACTIVATIONS = [
    (nn.ReLU(), F.relu), (nn.LeakyReLU(0.2), lambda x: F.leaky_relu(x, 0.2)), (nn.Sigmoid(), F.sigmoid),
    (nn.Tanh(), F.tanh), (nn.Softmax(dim=1), lambda x: F.softmax(x, 1)),
    (nn.LogSoftmax(dim=-1), lambda x: F.log_softmax(x, -1)), (nn.GELU(), F.gelu),
    (nn.GELU("tanh"), lambda x: F.gelu(x, approximate="tanh")), (nn.ELU(0.5), lambda x: F.elu(x, 0.5)),
    (nn.Softplus(beta=2.0, threshold=3.0), lambda x: F.softplus(x, 2.0, 3.0)),
]


@pytest.mark.parametrize("module,fn", ACTIVATIONS, ids=[type(m).__name__ for m, _ in ACTIVATIONS])
def test_activation_modules(module, fn):
    x = x64(4, 5, scale=2)
    np.testing.assert_array_equal(module(x).data, fn(x).data)
    assert list(module.parameters()) == []
    assert check_module(module, x64(3, 4, seed=1, scale=2))


def test_inplace_flag_is_accepted():
    x = dp.randn(3)
    before = x.data.copy()
    y = nn.ReLU(inplace=True)(x)
    np.testing.assert_array_equal(y.data, np.maximum(before, 0))


# ---- dropout -------------------------------------------------------------------------------------------


def test_dropout_training_inverted_scaling():
    dp.manual_seed(0)
    drop = nn.Dropout(0.25)
    x = dp.ones(200, 500)
    y = drop(x)
    kept = y.data != 0
    assert abs(kept.mean() - 0.75) < 0.01
    np.testing.assert_allclose(y.data[kept], 1 / 0.75, rtol=1e-6)
    assert abs(y.data.mean() - 1.0) < 0.01  # the expectation is unchanged


def test_dropout_eval_and_edge_probabilities():
    drop = nn.Dropout(0.5).eval()
    x = dp.randn(4, 4)
    assert drop(x) is x
    assert np.all(nn.Dropout(1.0)(x).data == 0)
    np.testing.assert_array_equal(nn.Dropout(0.0)(x).data, x.data)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


def test_dropout_repeats_under_seed_and_gradient_uses_mask():
    drop = nn.Dropout(0.5)
    dp.manual_seed(3)
    a = drop(dp.ones(10, 10))
    dp.manual_seed(3)
    x = dp.ones(10, 10, requires_grad=True)
    b = drop(x)
    np.testing.assert_array_equal(a.data, b.data)
    b.sum().backward()
    np.testing.assert_array_equal(x.grad.data, b.data)


# ---- shape layers ----------------------------------------------------------------------------------------


def test_flatten_unflatten_identity():
    x = dp.randn(2, 3, 4, 5)
    assert tuple(nn.Flatten()(x).shape) == (2, 60)
    assert tuple(nn.Flatten(0, 1)(x).shape) == (6, 4, 5)
    assert tuple(nn.Unflatten(1, (3, 20))(nn.Flatten()(x)).shape) == (2, 3, 20)
    assert tuple(nn.Unflatten(-1, (2, -1))(dp.randn(3, 8)).shape) == (3, 2, 4)
    assert nn.Identity(54, unused="x")(x) is x
    y = x64(2, 6)
    assert gradcheck(lambda y: nn.Unflatten(1, (2, 3))(nn.Flatten()(y)), (y,))
    with pytest.raises(TypeError, match="tuple of ints"):
        nn.Unflatten(1, 6)
