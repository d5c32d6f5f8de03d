"""Network health: is every layer still learning? One forward and backward pass tells.

A layer learns only while gradient flows through it and its weights move by a sensible
fraction of their size. Four numbers per layer say whether it does:

- **saturated share** (tanh, sigmoid): activations on the flat tails, |tanh| > 0.97 or
  sigmoid < 0.03 or > 0.97, where the derivative (1 - tanh^2, or s (1 - s)) is nearly 0
  and almost no gradient passes back;
- **dead share** (ReLU): units that output 0 for every example of the batch, so their
  gradient is 0 everywhere and nothing can revive them;
- **gradient norm** ||dL/dW||: vanishing when the first layers' norms are orders of
  magnitude below the last layers', exploding when above;
- **update-to-weight ratio** lr * ||dL/dW|| / ||W||: the relative size of a gradient
  descent step (W <- W - lr dL/dW). A rule of thumb puts it near 1e-3: far above, the
  steps overshoot; far below, the layer barely moves. For SGD with momentum beta pass
  lr / (1 - beta), the step once momentum has built up. (Adam scales its steps per weight,
  so under Adam read it as a guide to the gradient's size, not the step's.)

``network_health(model, inputs, targets, loss_fn, lr)`` measures them on one batch and
returns a :class:`NetworkHealth`: rows for a table, and warnings in plain words.
"""
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from ..tensor import Tensor

TANH_SATURATED = 0.97  # |tanh(z)| above this: derivative 1 - tanh^2 < 0.06
SIGMOID_SATURATED = 0.03  # sigmoid below this or above 1 - this: derivative s (1 - s) < 0.03
WARN_SATURATED = 0.25  # warn when more than this share of a layer's activations is saturated
WARN_DEAD = 0.10  # warn when more than this share of a layer's ReLU units is dead
UPDATE_RATIO_RANGE = (1e-4, 1e-2)  # warn outside; the rule of thumb is about 1e-3
WARN_GRADIENT_SPREAD = 1e3  # warn when first and last layers' gradient norms differ this much

ACTIVATION_KINDS = {"Tanh": "tanh", "Sigmoid": "sigmoid", "ReLU": "relu"}


@dataclass
class LayerHealth:
    """The health numbers of one weight layer and the activation that follows it."""

    name: str  # e.g. "0: Linear(2->32)"
    activation: str  # "tanh", "sigmoid", "relu", or "" when none follows (the output layer)
    saturated: float = None  # share of saturated activations (tanh/sigmoid), else None
    dead: float = None  # share of ReLU units never active on the batch, else None
    grad_norm: float = 0.0
    weight_norm: float = 0.0
    update_ratio: float = 0.0

    def row(self):
        share = lambda v: "-" if v is None else f"{100 * v:.1f}%"
        return [self.name, self.activation or "-", share(self.saturated), share(self.dead),
                f"{self.grad_norm:.3g}", f"{self.update_ratio:.2e}"]


@dataclass
class NetworkHealth:
    """Per-layer health (``layers``), the batch loss, and ``warnings`` (plain sentences)."""

    layers: list
    loss: float
    lr: float
    warnings: list = field(default_factory=list)

    header: ClassVar[list] = ["layer", "activation", "saturated", "dead ReLU", "grad norm", "update/weight"]

    def rows(self):
        return [layer.row() for layer in self.layers]


def network_health(model, inputs, targets, loss_fn, optimizer_lr):
    """Run ``model`` on one batch, backpropagate ``loss_fn``, and report each layer's health.

    A layer is a module with a weight matrix (Linear, Conv); the activation module called
    after it (Tanh, Sigmoid, ReLU) is watched through a forward hook. Activations used as
    functions inside a ``forward`` (``dp.tanh(x)``) are not seen. The parameters' ``.grad``
    is left as this batch's, exactly as after a ``loss.backward()`` of your own.
    """
    if not any(_is_weight_layer(m) for m in model.modules()):
        raise ValueError("network_health: the model has no layer with a weight matrix (Linear, Conv)")
    records = _forward_backward(model, inputs, targets, loss_fn)
    layers = _layers(model, records["calls"], optimizer_lr)
    health = NetworkHealth(layers, records["loss"], optimizer_lr)
    health.warnings = diagnose(layers)
    return health


def _forward_backward(model, inputs, targets, loss_fn):
    """One forward and backward pass; ``calls`` lists the watched modules in the order they ran."""
    calls = []
    watched = [m for m in model.modules() if _is_weight_layer(m) or _kind(m)]
    handles = [m.register_forward_hook(lambda mod, args, out: calls.append((mod, out.data))) for m in watched]
    try:
        model.zero_grad()
        loss = loss_fn(model(_as_tensor(inputs)), _as_tensor(targets))
        loss.backward()
    finally:
        for handle in handles:
            handle.remove()
    return {"calls": calls, "loss": loss.item()}


def _as_tensor(x):
    return x if isinstance(x, Tensor) else Tensor._make(np.asarray(x))


def _layers(model, calls, lr):
    """Group the calls: a weight layer opens a row, the activation after it fills it in."""
    names = {id(m): name for name, m in model.named_modules()}
    layers = []
    for module, output in calls:
        if _is_weight_layer(module):
            layers.append(_weight_layer(names[id(module)], module, lr))
        elif layers and not layers[-1].activation:
            _fill_activation(layers[-1], _kind(module), output)
    return layers


def _is_weight_layer(module):
    """Linear, Conv: a weight matrix, shaped (out, in, ...) (BatchNorm's 1-D weight is a scale, not a layer)."""
    weight = getattr(module, "weight", None)
    return weight is not None and weight.ndim >= 2


def _kind(module):
    """'tanh', 'sigmoid' or 'relu' for an activation module we can judge, else None."""
    return ACTIVATION_KINDS.get(type(module).__name__)


def _weight_layer(name, module, lr):
    weight = module.weight
    grad = np.zeros_like(weight.data) if weight.grad is None else weight.grad.data
    grad_norm = float(np.linalg.norm(grad))
    weight_norm = float(np.linalg.norm(weight.data))
    shape = "->".join(str(s) for s in (weight.shape[1], weight.shape[0]))
    return LayerHealth(name=f"{name}: {type(module).__name__}({shape})", activation="",
                       grad_norm=grad_norm, weight_norm=weight_norm,
                       update_ratio=lr * grad_norm / weight_norm if weight_norm else float("inf"))


def _fill_activation(layer, kind, output):
    layer.activation = kind
    if kind == "tanh":
        layer.saturated = float((np.abs(output) > TANH_SATURATED).mean())
    elif kind == "sigmoid":
        layer.saturated = float(((output < SIGMOID_SATURATED) | (output > 1 - SIGMOID_SATURATED)).mean())
    else:  # relu: a unit (axis 1: a feature, or a channel) is dead if it never fires on the batch
        fired = (output > 0).any(axis=tuple(a for a in range(output.ndim) if a != 1))
        layer.dead = float(1.0 - fired.mean())


def diagnose(layers):
    """Plain-language warnings for the layers whose numbers are out of the healthy range."""
    warnings = []
    low, high = UPDATE_RATIO_RANGE
    for layer in layers:
        if not np.isfinite(layer.grad_norm):
            warnings.append(f"{layer.name}: the gradient is {layer.grad_norm} (overflow: lower the learning rate)")
            continue
        if layer.saturated is not None and layer.saturated > WARN_SATURATED:
            warnings.append(
                f"{layer.name}: {100 * layer.saturated:.0f}% of the {layer.activation} activations are saturated; "
                "their derivative is near 0, so little gradient gets through (inputs or weights too large?)")
        if layer.dead is not None and layer.dead > WARN_DEAD:
            warnings.append(
                f"{layer.name}: {100 * layer.dead:.0f}% of the ReLU units never fire on this batch; they get no "
                "gradient and cannot recover (learning rate too high? try LeakyReLU or a smaller step)")
        if layer.update_ratio > high:
            warnings.append(f"{layer.name}: update/weight ratio {layer.update_ratio:.1e} > {high:.0e}: "
                            "steps this large can overshoot (lower the learning rate)")
        elif layer.update_ratio < low:
            warnings.append(f"{layer.name}: update/weight ratio {layer.update_ratio:.1e} < {low:.0e}: "
                            "this layer barely moves (a vanishing gradient, too small a learning rate, "
                            "or training has converged)")
    first, last = layers[0].grad_norm, layers[-1].grad_norm
    if len(layers) > 2 and last > 0 and first < last / WARN_GRADIENT_SPREAD:
        warnings.append(f"vanishing gradients: the first layer's gradient norm ({first:.2e}) is "
                        f"{last / max(first, 1e-300):.1e} times smaller than the last layer's ({last:.2e})")
    elif len(layers) > 2 and first > 0 and first > last * WARN_GRADIENT_SPREAD:
        warnings.append(f"exploding gradients: the first layer's gradient norm ({first:.2e}) is "
                        f"{first / max(last, 1e-300):.1e} times larger than the last layer's ({last:.2e})")
    return warnings
