"""What every workload shares: the same random data for all frameworks, layer lookup, torch setup.

Every framework gets identical float32 inputs and int64 labels from one seeded NumPy
generator, built once and reused every step, so the frameworks differ only in how they
compute, never in what.
"""
import importlib
import os

import numpy as np

SEED = 0
LR = {"sgd": 0.01, "adam": 1e-3}  # the same learning rates in every framework


class Unavailable(Exception):
    """A workload cannot run here: a layer not written yet, or a library not installed."""


def batch(shape, n_classes=None, seed=SEED):
    """Random float32 inputs of ``shape`` and, with ``n_classes``, random int64 labels."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape, dtype=np.float32)
    if n_classes is None:
        return x
    return x, rng.integers(0, n_classes, size=shape[0], dtype=np.int64)


def dp_layer(name, module):
    """deepprimer's layer ``name``: from ``deepprimer.nn`` as a user would, else its own module.

    Raises :class:`Unavailable` when neither exists yet, so the report says
    "n/a (layer not available)" instead of failing the whole run.
    """
    from deepprimer import nn

    layer = getattr(nn, name, None)
    if layer is not None:
        return layer
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise Unavailable("n/a (layer not available)") from exc


def torch_module():
    """torch, with its intra-op pool pinned to the thread count every framework uses."""
    try:
        import torch
    except ImportError as exc:
        raise Unavailable("n/a (torch not installed)") from exc
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    torch.manual_seed(SEED)
    return torch


def dp_module():
    import deepprimer as dp

    dp.manual_seed(SEED)
    return dp


def framework(name):
    """The library a workload drives through the PyTorch API: deepprimer or torch."""
    return dp_module() if name == "deepprimer" else torch_module()


def nn_layer(lib, name, dp_path):
    """Layer ``name`` of ``lib.nn``; for deepprimer, found as :func:`dp_layer` finds it."""
    if lib.__name__ == "torch":
        return getattr(lib.nn, name)
    return dp_layer(name, dp_path)


def optimizer(lib, name, params):
    """``lib.optim.SGD`` or ``lib.optim.Adam`` with the benchmark's learning rate."""
    cls = lib.optim.SGD if name == "sgd" else lib.optim.Adam
    return cls(params, lr=LR[name])


def training_step(model, loss_fn, opt, x, y):
    """The primer's loop body, written once for every framework with the PyTorch API."""

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    return step
