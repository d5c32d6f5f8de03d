"""nn.init: statistics match the formulas, fills are in place, and repeat under a seed."""
import math

import numpy as np
import pytest

import deepprimer as dp
from deepprimer import nn
from deepprimer.nn import init


def big(*shape, dtype=dp.float32):
    return dp.empty(*shape, dtype=dtype)


def test_calculate_gain_table():
    assert init.calculate_gain("linear") == 1 and init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")


def test_fans():
    assert init._calculate_fan_in_and_fan_out(big(30, 20)) == (20, 30)
    assert init._calculate_fan_in_and_fan_out(big(16, 3, 5, 5)) == (75, 400)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(big(5))


def test_uniform_and_normal():
    t = big(400, 500)
    assert init.uniform_(t, -2.0, 3.0) is t
    assert t.data.min() >= -2 and t.data.max() < 3
    assert t.data.mean() == pytest.approx(0.5, abs=0.02)
    assert t.data.std() == pytest.approx(5 / math.sqrt(12), rel=0.01)
    init.normal_(t, 1.5, 0.5)
    assert t.data.mean() == pytest.approx(1.5, abs=0.005)
    assert t.data.std() == pytest.approx(0.5, rel=0.01)
    assert t.dtype == dp.float32


def test_constants():
    t = big(3, 4)
    assert np.all(init.zeros_(t).data == 0)
    assert np.all(init.ones_(t).data == 1)
    assert np.all(init.constant_(t, 0.3).data == np.float32(0.3))
    np.testing.assert_array_equal(init.eye_(t).data, np.eye(3, 4))
    conv = init.dirac_(big(4, 4, 3))
    assert conv.data.sum() == 4 and conv.data[2, 2, 1] == 1


@pytest.mark.parametrize("shape", [(300, 200), (64, 32, 3, 3)])
def test_xavier(shape):
    t = big(*shape)
    fan_in, fan_out = init._calculate_fan_in_and_fan_out(t)
    std = 2.0 * math.sqrt(2.0 / (fan_in + fan_out))
    init.xavier_uniform_(t, gain=2.0)
    bound = math.sqrt(3) * std
    assert np.abs(t.data).max() <= bound and np.abs(t.data).max() > 0.99 * bound
    assert t.data.std() == pytest.approx(std, rel=0.02)
    init.xavier_normal_(t, gain=2.0)
    assert t.data.std() == pytest.approx(std, rel=0.02)


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("nonlinearity,a", [("relu", 0), ("leaky_relu", 0.1), ("tanh", 0), ("linear", 0)])
def test_kaiming(mode, nonlinearity, a):
    t = big(300, 200)
    fan = 200 if mode == "fan_in" else 300
    std = init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    init.kaiming_uniform_(t, a=a, mode=mode, nonlinearity=nonlinearity)
    assert np.abs(t.data).max() <= math.sqrt(3) * std
    assert t.data.std() == pytest.approx(std, rel=0.02)
    init.kaiming_normal_(t, a=a, mode=mode, nonlinearity=nonlinearity)
    assert t.data.std() == pytest.approx(std, rel=0.02)
    assert abs(t.data.mean()) < 0.01 * std * 10
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_normal_(t, mode="fan_avg")


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5, 2, 3)])
def test_orthogonal(shape):
    t = init.orthogonal_(big(*shape, dtype=dp.float64), gain=2.0)
    flat = t.data.reshape(shape[0], -1)
    if flat.shape[0] >= flat.shape[1]:
        np.testing.assert_allclose(flat.T @ flat, 4 * np.eye(flat.shape[1]), atol=1e-10)
    else:
        np.testing.assert_allclose(flat @ flat.T, 4 * np.eye(flat.shape[0]), atol=1e-10)


def test_trunc_normal_and_sparse():
    t = init.trunc_normal_(big(200, 200), mean=0.5, std=1.0, a=-1.0, b=2.0)
    assert t.data.min() >= -1 and t.data.max() <= 2 and t.data.std() > 0.5
    s = init.sparse_(big(10, 30), sparsity=0.3)
    assert np.all((s.data == 0).sum(axis=0) >= 3)


@pytest.mark.parametrize("fill", [
    lambda t: init.uniform_(t, -1, 1), lambda t: init.normal_(t), init.xavier_uniform_, init.xavier_normal_,
    init.kaiming_uniform_, init.kaiming_normal_, init.orthogonal_, init.trunc_normal_,
])
def test_repeatable_under_manual_seed_and_generator(fill):
    dp.manual_seed(42)
    a = fill(big(8, 5)).data.copy()
    b = fill(big(8, 5)).data.copy()
    dp.manual_seed(42)
    np.testing.assert_array_equal(fill(big(8, 5)).data, a)
    assert not np.array_equal(a, b)
    import inspect

    if "generator" in inspect.signature(fill).parameters:
        g1, g2 = dp.Generator(7), dp.Generator(7)
        np.testing.assert_array_equal(fill(big(8, 5), generator=g1).data, fill(big(8, 5), generator=g2).data)


def test_init_on_parameters_needs_no_no_grad_and_keeps_graph_clean():
    lin = nn.Linear(3, 3)
    init.xavier_uniform_(lin.weight)
    init.zeros_(lin.bias)
    assert lin.weight.requires_grad and lin.weight.is_leaf and isinstance(lin.weight, nn.Parameter)
    lin(dp.randn(2, 3)).sum().backward()
    assert lin.weight.grad is not None
