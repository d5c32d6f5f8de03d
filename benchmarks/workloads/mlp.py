"""MLP training steps: Linear+ReLU stacks with cross-entropy, SGD or Adam, fixed data."""
from itertools import pairwise

from ..floors.mlp import MLPFloor
from .common import batch, framework, optimizer, training_step

SIZES = {"small": ([64, 128, 64, 10], 64), "medium": ([784, 512, 256, 10], 128)}


def build(name, size, opt):
    """A zero-argument training step of the ``size`` MLP for framework ``name``."""
    sizes, n = SIZES[size]
    x, y = batch((n, sizes[0]), sizes[-1])
    if name == "floor":
        model = MLPFloor(sizes, opt)
        return lambda: model.step(x, y)
    lib = framework(name)
    nn = lib.nn
    layers = []
    for fan_in, fan_out in pairwise(sizes):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    model = nn.Sequential(*layers[:-1])
    step = training_step(model, nn.CrossEntropyLoss(), optimizer(lib, opt, model.parameters()),
                         lib.from_numpy(x), lib.from_numpy(y))
    return step
