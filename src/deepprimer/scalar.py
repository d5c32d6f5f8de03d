"""The primer's neuron-level view: one number at a time, with the chain rule made visible.

A :class:`Value` is a single number that remembers how it was computed. ``backward()``
walks that record in reverse and applies the chain rule at every step,

    d(out)/d(input) = d(out)/d(node) * d(node)/d(input),

which is all backpropagation is. The tensor engine does the same thing on whole arrays.
:class:`SimpleNeuron`, :func:`forward_propagation` and :func:`gradient_descent` are the
primer's code; they work on plain floats and on Values alike.
"""
import math


class Value:
    """A scalar with a gradient: ``data``, ``grad``, and the Values it was made from."""

    __slots__ = ("data", "grad", "_parents", "_local_grads", "op", "label")

    def __init__(self, data, _parents=(), _local_grads=(), op="", label=""):
        self.data = float(data)
        self.grad = 0.0
        self._parents = _parents  # the Values this one was computed from
        self._local_grads = _local_grads  # d(self)/d(parent) for each parent
        self.op = op
        self.label = label

    def __repr__(self):
        name = f"{self.label}=" if self.label else ""
        return f"Value({name}{self.data:.4g}, grad={self.grad:.4g})"

    # ---- arithmetic: each op records its local derivatives ------------------------------
    def __add__(self, other):
        other = as_value(other)
        return Value(self.data + other.data, (self, other), (1.0, 1.0), "+")

    def __mul__(self, other):
        other = as_value(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data), "*")

    def __pow__(self, exponent):
        if not isinstance(exponent, (int, float)):
            raise TypeError(f"Value ** {type(exponent).__name__}: only a Python number exponent is supported")
        return Value(self.data**exponent, (self,), (exponent * self.data ** (exponent - 1),), f"**{exponent}")

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-as_value(other))

    def __truediv__(self, other):
        return self * as_value(other) ** -1

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __rsub__(self, other):
        return as_value(other) - self

    def __rtruediv__(self, other):
        return as_value(other) / self

    def exp(self):
        out = math.exp(self.data)
        return Value(out, (self,), (out,), "exp")

    def log(self):
        return Value(math.log(self.data), (self,), (1.0 / self.data,), "log")

    def tanh(self):
        t = math.tanh(self.data)
        return Value(t, (self,), (1.0 - t * t,), "tanh")

    def sigmoid(self):
        s = _sigmoid(self.data)
        return Value(s, (self,), (s * (1.0 - s),), "sigmoid")

    def relu(self):
        return Value(max(0.0, self.data), (self,), (1.0 if self.data > 0 else 0.0,), "relu")

    def leaky_relu(self, negative_slope=0.01):
        slope = 1.0 if self.data > 0 else negative_slope
        return Value(self.data * slope, (self,), (slope,), "leaky_relu")

    # ---- backpropagation ------------------------------------------------------------------
    def backward(self):
        """Fill ``grad`` of every Value this one depends on with d(self)/d(that Value)."""
        for node in topological_order(self):
            node.grad = 0.0
        self.grad = 1.0
        for node in reversed(topological_order(self)):
            for parent, local in zip(node._parents, node._local_grads):
                parent.grad += node.grad * local  # the chain rule

    @property
    def parents(self):
        return self._parents


def topological_order(root):
    """Every Value ``root`` depends on, inputs before the Values computed from them."""
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((p, False) for p in node._parents if id(p) not in seen)
    return order


def as_value(x):
    if isinstance(x, Value):
        return x
    if isinstance(x, (int, float)):
        return Value(x)
    raise TypeError(f"expected a Value or a Python number, got {type(x).__name__}")


def _sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


# ---- activation functions that work on floats and on Values ---------------------------------


def relu(x):
    """max(0, x)."""
    return x.relu() if isinstance(x, Value) else max(0.0, x)


def leaky_relu(x, negative_slope=0.01):
    """x if x > 0, else negative_slope * x."""
    return x.leaky_relu(negative_slope) if isinstance(x, Value) else (x if x > 0 else negative_slope * x)


def sigmoid(x):
    """1 / (1 + e^-x): squashes any number into (0, 1)."""
    return x.sigmoid() if isinstance(x, Value) else _sigmoid(x)


def tanh(x):
    """(e^x - e^-x) / (e^x + e^-x): squashes into (-1, 1), centred on 0."""
    return x.tanh() if isinstance(x, Value) else math.tanh(x)


def identity(x):
    return x


ACTIVATIONS = {"relu": relu, "leaky_relu": leaky_relu, "sigmoid": sigmoid, "tanh": tanh, "identity": identity}


# ---- the primer's code --------------------------------------------------------------------


class SimpleNeuron:
    """The primer's neuron: a weighted sum of the inputs plus a bias, through an activation.

        output = activation(w_1 x_1 + w_2 x_2 + ... + w_n x_n + b)
    """

    def __init__(self, weights, bias, activation="relu"):
        if activation not in ACTIVATIONS and not callable(activation):
            raise ValueError(f"SimpleNeuron: unknown activation {activation!r}; choose from {sorted(ACTIVATIONS)}")
        self.weights = list(weights)
        self.bias = bias
        self.activation = ACTIVATIONS.get(activation, activation)

    def forward(self, inputs):
        inputs = list(inputs)
        if len(inputs) != len(self.weights):
            raise ValueError(
                f"SimpleNeuron.forward: got {len(inputs)} inputs but the neuron has {len(self.weights)} weights"
            )
        z = self.bias
        for w, x in zip(self.weights, inputs):
            z = z + w * x
        return self.activation(z)

    __call__ = forward

    def parameters(self):
        return [*self.weights, self.bias]


def forward_propagation(inputs, network):
    """Feed ``inputs`` through ``network``, a list of layers, each a list of neurons."""
    activations = list(inputs)
    for layer in network:
        activations = [neuron.forward(activations) for neuron in layer]
    return activations


def gradient_descent(params, learning_rate, grad_fn, iterations):
    """The primer's update, repeated: params <- params - learning_rate * grad_fn(params).

    ``params`` is a list of numbers; ``grad_fn(params)`` returns their gradients.
    Returns the final parameters and the list of parameters visited (for plotting paths).
    """
    if learning_rate <= 0:
        raise ValueError(f"gradient_descent: learning_rate must be > 0, got {learning_rate}")
    params = [float(p) for p in params]
    path = [list(params)]
    for _ in range(iterations):
        grads = grad_fn(params)
        params = [p - learning_rate * g for p, g in zip(params, grads)]
        path.append(list(params))
    return params, path
