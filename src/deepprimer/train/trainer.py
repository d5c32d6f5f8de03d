"""fit and evaluate: the primer's training loop, with bookkeeping around it.

The heart of ``fit`` is exactly the loop the primer teaches:

    for epoch in range(epochs):
        for inputs, targets in train_loader:
            optimizer.zero_grad()              # forget the last step's gradients
            outputs = model(inputs)            # forward pass
            loss = loss_fn(outputs, targets)   # how wrong are we?
            loss.backward()                    # backpropagation: d(loss)/d(every weight)
            optimizer.step()                   # move the weights downhill

Everything else (metrics, validation, callbacks, progress) only watches it.
"""
import time

import numpy as np

from ..autograd import no_grad
from ..tensor import Tensor
from .history import History
from .metrics import get_metric
from .progress import EpochProgress


class Run:
    """What callbacks see of a ``fit`` in progress."""

    def __init__(self, model, optimizer, history):
        self.model, self.optimizer, self.history = model, optimizer, history
        self.stop_training = False


class EpochStats:
    """Accumulates the loss (weighted by batch size) and the outputs for the metrics."""

    def __init__(self, metrics):
        self.metrics = metrics
        self.loss_sum, self.count = 0.0, 0
        self.outputs, self.targets = [], []

    def add(self, loss, outputs, targets):
        n = len(targets)
        self.loss_sum += loss * n
        self.count += n
        if self.metrics:
            self.outputs.append(outputs.data)
            self.targets.append(targets.data if isinstance(targets, Tensor) else np.asarray(targets))

    def results(self, prefix=""):
        logs = {f"{prefix}loss": self.loss_sum / max(self.count, 1)}
        if self.metrics:
            outputs, targets = np.concatenate(self.outputs), np.concatenate(self.targets)
            for name, fn in self.metrics:
                logs[f"{prefix}{name}"] = fn(outputs, targets)
        return logs


def unpack(batch):
    """(inputs, targets) from a batch given as a pair or a dict."""
    if isinstance(batch, dict):
        for x_key, y_key in (("inputs", "targets"), ("x", "y"), ("input", "target")):
            if x_key in batch and y_key in batch:
                return batch[x_key], batch[y_key]
        raise ValueError(f"fit: a dict batch needs keys ('inputs', 'targets') or ('x', 'y'), got {sorted(batch)}")
    if isinstance(batch, (tuple, list)) and len(batch) == 2:
        return batch
    raise ValueError("fit: each batch must be (inputs, targets) or a dict with inputs and targets")


def fit(model, loss_fn, optimizer, train_loader, val_loader=None, epochs=10, metrics=("accuracy",),
        callbacks=(), scheduler=None, verbose=1):
    """Train ``model`` for ``epochs`` epochs; return a :class:`History` of per-epoch logs.

    ``scheduler`` is stepped once per epoch (with the validation loss if it is a
    ReduceLROnPlateau). ``verbose``: 0 quiet, 1 a progress bar on a terminal (a line per
    epoch otherwise), 2 a line per epoch.
    """
    if epochs < 1:
        raise ValueError(f"fit: epochs must be >= 1, got {epochs}")
    metric_fns = [get_metric(m) for m in metrics]
    history = History()
    run = Run(model, optimizer, history)
    callbacks = list(callbacks)
    for cb in callbacks:
        cb.run = run
        cb.on_train_begin()
    for epoch in range(epochs):
        for cb in callbacks:
            cb.on_epoch_begin(epoch)
        start = time.perf_counter()
        progress = EpochProgress(epoch, epochs, len(train_loader), verbose)
        stats = EpochStats(metric_fns)
        model.train()
        for step, batch in enumerate(train_loader):
            inputs, targets = unpack(batch)
            optimizer.zero_grad()
            outputs = model(inputs)
            loss = loss_fn(outputs, targets)
            loss.backward()
            optimizer.step()
            loss_value = loss.item()
            stats.add(loss_value, outputs, targets)
            progress.update(loss_value)
            for cb in callbacks:
                cb.on_batch_end(step, {"loss": loss_value, "epoch": epoch})
            if run.stop_training:
                break
        logs = stats.results()
        if val_loader is not None:
            logs.update(evaluate(model, val_loader, loss_fn, metrics, prefix="val_"))
        logs["lr"] = optimizer.param_groups[0]["lr"]
        if scheduler is not None:
            step_scheduler(scheduler, logs)
        logs["time"] = time.perf_counter() - start
        history.append(epoch, logs)
        progress.close(logs, logs["time"])
        for cb in callbacks:
            cb.on_epoch_end(epoch, logs)
        if run.stop_training:
            break
    for cb in callbacks:
        cb.on_train_end()
    return history


def step_scheduler(scheduler, logs):
    if hasattr(scheduler, "num_bad_epochs"):  # ReduceLROnPlateau watches a metric
        scheduler.step(logs.get("val_loss", logs["loss"]))
    else:
        scheduler.step()


def evaluate(model, loader, loss_fn=None, metrics=("accuracy",), prefix=""):
    """Loss and metrics of ``model`` over ``loader``, in eval mode and without a graph."""
    metric_fns = [get_metric(m) for m in metrics]
    stats = EpochStats(metric_fns)
    was_training = model.training
    model.eval()
    with no_grad():
        for batch in loader:
            inputs, targets = unpack(batch)
            outputs = model(inputs)
            loss = loss_fn(outputs, targets).item() if loss_fn is not None else 0.0
            stats.add(loss, outputs, targets)
    model.train(was_training)
    logs = stats.results(prefix)
    if loss_fn is None:
        del logs[f"{prefix}loss"]
    return logs


def predict(model, inputs, batch_size=256):
    """Model outputs for ``inputs`` (an array or tensor) as a NumPy array, in eval mode."""
    data = inputs.data if isinstance(inputs, Tensor) else np.asarray(inputs)
    was_training = model.training
    model.eval()
    chunks = []
    with no_grad():
        for start in range(0, len(data), batch_size):
            chunks.append(model(Tensor._make(data[start:start + batch_size])).data)
    model.train(was_training)
    return np.concatenate(chunks) if chunks else np.empty((0,))
