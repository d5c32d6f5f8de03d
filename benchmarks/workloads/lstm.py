"""LSTM forward + backward: one layer 64 -> 128 over 32 steps of a batch of 32, MSE loss.

Input is (seq, batch, feature), the PyTorch default (batch_first=False). No optimizer
step: the workload measures the recurrence, forward and through time.
"""
from ..floors.lstm import LSTMFloor
from .common import batch, framework, nn_layer

SEQ, BATCH, INPUT, HIDDEN = 32, 32, 64, 128


def build(name):
    x = batch((SEQ, BATCH, INPUT))
    target = batch((SEQ, BATCH, HIDDEN), seed=1)
    if name == "floor":
        model = LSTMFloor(INPUT, HIDDEN)
        return lambda: model.step(x, target)
    lib = framework(name)
    lstm = nn_layer(lib, "LSTM", "deepprimer.nn.recurrent")(INPUT, HIDDEN)
    mse = lib.nn.functional.mse_loss
    tx, tt = lib.from_numpy(x), lib.from_numpy(target)

    def step():
        lstm.zero_grad()
        out, _ = lstm(tx)
        mse(out, tt).backward()

    return step
