"""network_health: per-layer saturation, dead units, gradient norms and update ratios, with warnings."""
import numpy as np
import pytest

import deepprimer as dp
from deepprimer import nn
from deepprimer.models import MLP
from deepprimer.train.health import network_health

X = np.random.default_rng(0).normal(size=(64, 2)).astype(np.float32)
Y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)


def health(model, lr=0.1):
    return network_health(model, X, Y, nn.CrossEntropyLoss(), lr)


def test_one_row_per_weight_layer_with_its_activation():
    result = health(MLP([2, 8, 8, 2], activation="tanh"))
    assert [layer.activation for layer in result.layers] == ["tanh", "tanh", ""]
    assert [layer.name for layer in result.layers] == ["0: Linear(2->8)", "2: Linear(8->8)", "4: Linear(8->2)"]
    assert all(len(row) == len(result.header) for row in result.rows())
    assert result.rows()[-1][2:4] == ["-", "-"]  # the output layer has no activation to judge


def test_grad_norm_and_update_ratio_are_the_backward_pass_numbers():
    model = MLP([2, 8, 2], activation="relu")
    result = health(model, lr=0.05)
    loss = nn.CrossEntropyLoss()(model(dp.tensor(X)), dp.tensor(Y))
    model.zero_grad()
    loss.backward()
    for layer, linear in zip(result.layers, [model[0], model[2]]):
        grad, weight = linear.weight.grad.numpy(), linear.weight.data
        assert layer.grad_norm == pytest.approx(np.linalg.norm(grad), rel=1e-5)
        assert layer.update_ratio == pytest.approx(0.05 * np.linalg.norm(grad) / np.linalg.norm(weight), rel=1e-5)
    assert result.loss == pytest.approx(loss.item(), rel=1e-6)


def test_saturated_tanh_is_measured_and_warned_about():
    model = MLP([2, 8, 2], activation="tanh")
    model[0].weight.data[...] = 50.0  # |w x| is large for almost every input: tanh sits at +-1
    model[0].bias.data[...] = 0.0
    result = health(model)
    h = np.tanh(X @ model[0].weight.data.T)
    assert result.layers[0].saturated == pytest.approx(float((np.abs(h) > 0.97).mean()))
    assert result.layers[0].saturated > 0.9
    assert any("saturated" in w for w in result.warnings)


def test_sigmoid_saturation_counts_both_tails():
    model = MLP([2, 4, 2], activation="sigmoid")
    model[0].weight.data[...] = 0.0
    model[0].bias.data[...] = np.array([10.0, -10.0, 0.0, 0.0], dtype=np.float32)  # near 1, near 0, 0.5, 0.5
    assert health(model).layers[0].saturated == pytest.approx(0.5)


def test_dead_relu_units_never_fire_on_the_batch():
    model = MLP([2, 8, 2], activation="relu")
    model[0].bias.data[:6] = -100.0  # 6 of 8 units can never be positive on these inputs
    result = health(model)
    assert result.layers[0].dead == pytest.approx(6 / 8)
    assert any("never fire" in w for w in result.warnings)


def test_update_ratio_warnings_outside_the_healthy_range():
    model = MLP([2, 8, 2], activation="tanh")
    assert any("overshoot" in w for w in health(model, lr=1e3).warnings)
    assert any("barely moves" in w for w in health(model, lr=1e-9).warnings)


def test_vanishing_gradients_in_a_deep_sigmoid_net():
    dp.manual_seed(0)
    model = MLP([2] + [16] * 9 + [2], activation="sigmoid")
    result = health(model)
    assert result.layers[0].grad_norm < 1e-3 * result.layers[-1].grad_norm
    assert any(w.startswith("vanishing gradients") for w in result.warnings)


def test_hooks_are_removed_and_grads_left_as_after_backward():
    model = MLP([2, 8, 2], activation="tanh")
    health(model)
    assert all(not m._forward_hooks for m in model.modules())
    assert model[0].weight.grad is not None


def test_a_model_without_weight_layers_is_refused():
    with pytest.raises(ValueError, match="no layer with a weight matrix"):
        network_health(nn.Tanh(), X, X, nn.MSELoss(), 0.1)
