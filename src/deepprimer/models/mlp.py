"""MLP: the primer's fully connected network, layer after layer of neurons.

    h_1 = activation(x W_1^T + b_1), h_2 = activation(h_1 W_2^T + b_2), ..., y = h_k W_out^T + b_out

The last layer has no activation: it outputs logits, which ``CrossEntropyLoss`` expects.
"""
from .. import nn

ACTIVATIONS = {
    "relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU, "elu": nn.ELU,
    "leaky_relu": nn.LeakyReLU, "softplus": nn.Softplus,
}


def activation_module(name):
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose from {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]()


class MLP(nn.Sequential):
    """``MLP([in, hidden..., out])``: Linear (+ BatchNorm) + activation (+ Dropout) per hidden layer.

    A Sequential, so its state-dict keys are those of the equivalent ``nn.Sequential``.
    """

    def __init__(self, sizes, activation="relu", dropout=0.0, batchnorm=False):
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"MLP: sizes must list at least an input and an output size, all >= 1, got {sizes}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"MLP: dropout must be in [0, 1), got {dropout}")
        layers = []
        for fan_in, fan_out in zip(sizes[:-2], sizes[1:-1]):
            layers.append(nn.Linear(fan_in, fan_out))
            if batchnorm:
                layers.append(nn.BatchNorm1d(fan_out))
            layers.append(activation_module(activation))
            if dropout:
                layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(sizes[-2], sizes[-1]))
        super().__init__(*layers)
        self.sizes = sizes
