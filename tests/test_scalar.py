"""The neuron-level view gives the same numbers as the tensor engine."""
import math

import numpy as np
import pytest

import deepprimer as dp
from deepprimer.scalar import SimpleNeuron, Value, forward_propagation, gradient_descent


def test_value_backward_applies_the_chain_rule():
    x, w, b = Value(2.0), Value(-3.0), Value(1.0)
    y = (w * x + b).tanh()
    y.backward()
    local = 1 - math.tanh(-5.0) ** 2
    assert x.grad == pytest.approx(local * -3.0)
    assert w.grad == pytest.approx(local * 2.0)
    assert b.grad == pytest.approx(local)


def test_value_reused_node_accumulates():
    a = Value(3.0)
    y = a * a + a  # dy/da = 2a + 1
    y.backward()
    assert a.grad == pytest.approx(7.0)


def test_value_ops_match_finite_differences():
    def f(a, b):
        return ((a / b) ** 2 - a.exp() * b.log() + (a - b).sigmoid()).relu() + (1 - a).leaky_relu(0.1)

    a, b = Value(0.7), Value(1.9)
    out = f(a, b)
    out.backward()
    eps = 1e-6
    num_a = (f(Value(0.7 + eps), b).data - f(Value(0.7 - eps), b).data) / (2 * eps)
    num_b = (f(a, Value(1.9 + eps)).data - f(a, Value(1.9 - eps)).data) / (2 * eps)
    assert a.grad == pytest.approx(num_a, rel=1e-6)
    assert b.grad == pytest.approx(num_b, rel=1e-6)


def test_deep_chain_does_not_hit_the_recursion_limit():
    x = Value(0.5)
    y = x
    for _ in range(5000):
        y = y * 1.0
    y.backward()
    assert x.grad == 1.0


def test_simple_neuron_on_floats_is_the_primers_code():
    neuron = SimpleNeuron([0.5, -1.0], 0.25)
    assert neuron.forward([2.0, 0.5]) == pytest.approx(0.75)  # relu(1 - 0.5 + 0.25)
    assert neuron.forward([0.0, 1.0]) == 0.0  # relu cuts the negative sum
    assert SimpleNeuron([1.0], 0.0, activation="sigmoid").forward([0.0]) == 0.5
    with pytest.raises(ValueError, match="got 3 inputs but the neuron has 2 weights"):
        neuron.forward([1.0, 2.0, 3.0])


def test_gradient_descent_finds_the_minimum_of_a_bowl():
    params, path = gradient_descent([3.0, -2.0], 0.1, lambda p: [2 * p[0], 2 * p[1]], 100)
    assert np.allclose(params, [0.0, 0.0], atol=1e-8) and len(path) == 101


def test_neuron_network_equals_the_same_network_as_tensors():
    """Same weights, same input: identical outputs and gradients, neuron by neuron."""
    rng = np.random.default_rng(0)
    W1, b1 = rng.standard_normal((4, 3)), rng.standard_normal(4)
    W2, b2 = rng.standard_normal((2, 4)), rng.standard_normal(2)
    x = rng.standard_normal(3)

    values1 = [[Value(w) for w in row] for row in W1], [Value(b) for b in b1]
    values2 = [[Value(w) for w in row] for row in W2], [Value(b) for b in b2]
    network = [
        [SimpleNeuron(ws, b, "tanh") for ws, b in zip(*values1)],
        [SimpleNeuron(ws, b, "identity") for ws, b in zip(*values2)],
    ]
    out = forward_propagation([Value(v) for v in x], network)
    loss = out[0] * out[0] + out[1]
    loss.backward()

    tW1, tb1 = dp.tensor(W1, requires_grad=True), dp.tensor(b1, requires_grad=True)
    tW2, tb2 = dp.tensor(W2, requires_grad=True), dp.tensor(b2, requires_grad=True)
    t_out = tW2 @ (tW1 @ dp.tensor(x) + tb1).tanh() + tb2
    t_loss = t_out[0] * t_out[0] + t_out[1]
    t_loss.backward()

    np.testing.assert_allclose([o.data for o in out], t_out.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose([[w.grad for w in row] for row in values1[0]], tW1.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose([b.grad for b in values1[1]], tb1.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose([[w.grad for w in row] for row in values2[0]], tW2.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose([b.grad for b in values2[1]], tb2.grad.numpy(), rtol=1e-12)
