"""Proof that each NumPy floor computes what the benchmarked models compute.

A floor that skipped work would flatter itself; so each one is run side by side with the
same model in PyTorch, from the same weights and data, and its parameter updates (SGD and
Adam) or gradients (LSTM) must match. Run:  python -m benchmarks.check_floors
"""
import sys

import numpy as np

from .floors.cnn import CNNFloor
from .floors.lstm import LSTMFloor
from .floors.mlp import MLPFloor
from .workloads.common import LR, batch, torch_module


def max_rel_err(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-12))


def update_error(floor, model, x, y, opt_name, layout=None, steps=3):
    """Worst relative error between the floor's and torch's parameter changes over ``steps``.

    ``model``'s parameters are first set to the floor's; ``layout[i]`` maps the floor's
    i-th parameter to torch's layout where they differ.
    """
    torch = torch_module()
    layout = layout or {}
    as_torch = lambda i, a: np.ascontiguousarray(layout.get(i, lambda v: v)(a))
    params = list(model.parameters())
    with torch.no_grad():
        for i, (p, src) in enumerate(zip(params, floor.params)):
            p.copy_(torch.from_numpy(as_torch(i, src)).reshape(p.shape))
    before = [p.copy() for p in floor.params]
    opt = (torch.optim.SGD if opt_name == "sgd" else torch.optim.Adam)(params, lr=LR[opt_name])
    loss_fn, tx, ty = torch.nn.CrossEntropyLoss(), torch.from_numpy(x), torch.from_numpy(y)
    for _ in range(steps):
        floor.step(x, y)
        opt.zero_grad()
        loss_fn(model(tx), ty).backward()
        opt.step()
    return max(max_rel_err(as_torch(i, p - b).ravel(), (t.detach().numpy() - as_torch(i, b)).ravel())
               for i, (p, b, t) in enumerate(zip(floor.params, before, params)))


def check_mlp(opt_name):
    nn = torch_module().nn
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
    x, y = batch((64, 64), 10)
    return update_error(MLPFloor([64, 128, 64, 10], opt_name), model, x, y, opt_name)


def check_cnn(opt_name):
    """The floor keeps torch's parameter layouts (it flattens (C, H, W) as torch does).

    Adam is compared over one step only: its sign-like first update puts a few max-pool
    windows within float32 rounding of a tie, and the two implementations (different
    summation orders) then route that window's gradient to different inputs: correct in
    both, but enough to make later Adam steps differ by a few percent. The SGD comparison
    over three steps checks the gradients.
    """
    x, y = batch((64, 1, 28, 28), 10)
    return update_error(CNNFloor(opt_name), cnn_model(), x, y, opt_name, steps=3 if opt_name == "sgd" else 1)


def check_cnn_ties():
    """Random normal data almost never ties, so this one is built to: inputs and conv weights
    in {-1, 0, 1} (conv2's scaled by 1/4) make thousands of 2x2 windows hold their positive
    maximum twice. torch sends such a window's gradient to its first maximum; a floor that
    chose another would be off by ~0.4 here (and pass check_cnn)."""
    rng = np.random.default_rng(1)
    floor = CNNFloor("sgd")
    floor.wb1[:] = rng.integers(-1, 2, floor.wb1.shape)
    floor.wb2[:] = rng.integers(-1, 2, floor.wb2.shape) * np.float32(0.25)
    x = rng.integers(-1, 2, (64, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    return update_error(floor, cnn_model(), x, y, "sgd", steps=1)


def cnn_model():
    """The benchmark's CNN in torch (workloads/cnn.py builds the same through the shared API)."""
    nn = torch_module().nn
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(1568, 10))


def check_lstm():
    torch = torch_module()
    x = batch((32, 32, 64))
    target = batch((32, 32, 128), seed=1)
    floor = LSTMFloor(64, 128)
    lstm = torch.nn.LSTM(64, 128)
    with torch.no_grad():
        for name, src in (("weight_ih_l0", floor.w_ih), ("weight_hh_l0", floor.w_hh),
                          ("bias_ih_l0", floor.b_ih), ("bias_hh_l0", floor.b_hh)):
            getattr(lstm, name).copy_(torch.from_numpy(src))
    loss = floor.step(x, target)
    out, _ = lstm(torch.from_numpy(x))
    torch_loss = torch.nn.functional.mse_loss(out, torch.from_numpy(target))
    torch_loss.backward()
    grads = [lstm.weight_ih_l0.grad, lstm.weight_hh_l0.grad, lstm.bias_ih_l0.grad, lstm.bias_hh_l0.grad]
    errs = [max_rel_err(f, t.numpy()) for f, t in zip(floor.grads, grads)]
    return max(errs + [max_rel_err(loss, torch_loss.item())])


CHECKS = {
    "mlp sgd": lambda: check_mlp("sgd"), "mlp adam": lambda: check_mlp("adam"),
    "cnn sgd": lambda: check_cnn("sgd"), "cnn adam": lambda: check_cnn("adam"), "cnn ties": check_cnn_ties,
    "lstm grads": check_lstm,
}


def main():
    worst = 0.0
    for name, check in CHECKS.items():
        err = check()
        worst = max(worst, err)
        print(f"{name:12s} max relative error {err:.2e}  {'ok' if err < 1e-3 else 'MISMATCH'}")
    return 0 if worst < 1e-3 else 1


if __name__ == "__main__":
    sys.exit(main())
