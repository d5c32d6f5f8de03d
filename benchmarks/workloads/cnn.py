"""CNN training step: two 3x3 conv + ReLU + 2x2 max-pool blocks and a linear layer, SGD."""
from ..floors.cnn import CNNFloor
from .common import batch, framework, nn_layer, optimizer, training_step

BATCH = 64


def build(name, opt="sgd"):
    """A zero-argument training step for framework ``name`` on a (64, 1, 28, 28) batch."""
    x, y = batch((BATCH, 1, 28, 28), 10)
    if name == "floor":
        model = CNNFloor(opt, batch=BATCH)
        return lambda: model.step(x, y)
    lib = framework(name)
    nn = lib.nn
    conv = nn_layer(lib, "Conv2d", "deepprimer.nn.conv")
    pool = nn_layer(lib, "MaxPool2d", "deepprimer.nn.pooling")
    model = nn.Sequential(
        conv(1, 16, 3, padding=1), nn.ReLU(), pool(2),
        conv(16, 32, 3, padding=1), nn.ReLU(), pool(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 10),
    )
    return training_step(model, nn.CrossEntropyLoss(), optimizer(lib, opt, model.parameters()),
                         lib.from_numpy(x), lib.from_numpy(y))
