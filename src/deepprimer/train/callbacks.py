"""Callbacks: code that runs at fixed points of ``fit`` without changing its loop.

A callback overrides any of ``on_train_begin``, ``on_epoch_begin(epoch)``,
``on_batch_end(step, logs)``, ``on_epoch_end(epoch, logs)`` and ``on_train_end``; it sees
the run (model, optimizer, history) as ``self.run`` and stops training by setting
``self.run.stop_training = True``.
"""
import csv
import math
import sys

import numpy as np

from ..atomic import atomic_path


class Callback:
    run = None

    def on_train_begin(self):
        pass

    def on_epoch_begin(self, epoch):
        pass

    def on_batch_end(self, step, logs):
        pass

    def on_epoch_end(self, epoch, logs):
        pass

    def on_train_end(self):
        pass


class _Monitor:
    """Tracks the best value of a logged quantity ('val_loss', 'val_accuracy', ...)."""

    def __init__(self, monitor, mode, min_delta):
        if mode == "auto":
            mode = "max" if "acc" in monitor or monitor.endswith(("r2", "f1")) else "min"
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min', 'max' or 'auto', got {mode!r}")
        self.monitor, self.mode, self.min_delta = monitor, mode, abs(min_delta)
        self.best = math.inf if mode == "min" else -math.inf

    def value(self, logs):
        if self.monitor not in logs:
            raise ValueError(
                f"{type(self).__name__}: monitor {self.monitor!r} is not logged; available: "
                f"{sorted(logs)} (val_* needs a val_loader)"
            )
        return logs[self.monitor]

    def improved(self, value):
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta


def snapshot(model):
    """A copy of every parameter and buffer array, to restore later."""
    return {name: np.array(t.data, copy=True) for name, t in model.state_dict().items()}


class EarlyStopping(Callback, _Monitor):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    The primer's early stopping: training error keeps falling while validation error turns
    up; stop there. With ``restore_best_weights`` the model ends with its best epoch's weights.
    """

    def __init__(self, monitor="val_loss", patience=5, min_delta=0.0, mode="auto", restore_best_weights=False):
        _Monitor.__init__(self, monitor, mode, min_delta)
        if patience < 0:
            raise ValueError(f"EarlyStopping: patience must be >= 0, got {patience}")
        self.patience, self.restore_best_weights = patience, restore_best_weights
        self.wait, self.best_epoch, self.stopped_epoch, self.best_weights = 0, None, None, None

    def on_train_begin(self):
        self.best = math.inf if self.mode == "min" else -math.inf
        self.wait, self.best_epoch, self.stopped_epoch, self.best_weights = 0, None, None, None

    def on_epoch_end(self, epoch, logs):
        value = self.value(logs)
        if self.improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = snapshot(self.run.model)
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.run.stop_training = True

    def on_train_end(self):
        if self.restore_best_weights and self.best_weights is not None:
            self.run.model.load_state_dict(self.best_weights)


class ModelCheckpoint(Callback, _Monitor):
    """Save the model's state dict each epoch (or only when ``monitor`` improves).

    ``path`` may contain ``{epoch}`` and any logged name, e.g. ``"ckpt-{epoch:02d}.npz"``.
    Files are written atomically in the safe (no-pickle) format; load with ``dp.load``.
    """

    def __init__(self, path, monitor="val_loss", save_best_only=False, mode="auto"):
        _Monitor.__init__(self, monitor, mode, 0.0)
        self.path, self.save_best_only = str(path), save_best_only
        self.saved = []

    def on_epoch_end(self, epoch, logs):
        from ..serialization import save

        if self.save_best_only:
            value = self.value(logs)
            if not self.improved(value):
                return
            self.best = value
        path = self.path.format(epoch=epoch + 1, **logs)
        save(self.run.model.state_dict(), path)
        self.saved.append(path)


class LRSchedulerCallback(Callback):
    """Step a learning-rate scheduler after each epoch (with the monitored value for
    ReduceLROnPlateau, which needs to see the metric it watches)."""

    def __init__(self, scheduler, monitor="val_loss"):
        self.scheduler, self.monitor = scheduler, monitor

    def on_epoch_end(self, epoch, logs):
        if hasattr(self.scheduler, "num_bad_epochs"):  # ReduceLROnPlateau
            monitor = self.monitor if self.monitor in logs else "loss"
            self.scheduler.step(logs[monitor])
        else:
            self.scheduler.step()


class CSVLogger(Callback):
    """Write one row per epoch (epoch and every logged value) to a CSV file."""

    def __init__(self, path):
        self.path = str(path)
        self.rows = []

    def on_epoch_end(self, epoch, logs):
        self.rows.append({"epoch": epoch + 1, **logs})
        write_csv(self.path, self.rows)


def write_csv(path, rows):
    """Write dict rows atomically (temporary file, then rename)."""
    fields = list(dict.fromkeys(key for row in rows for key in row))
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


class TerminateOnNaN(Callback):
    """Stop as soon as the loss is NaN or infinite, and say what probably went wrong."""

    def __init__(self, stream=None):
        self.stream = stream
        self.message = None

    def on_batch_end(self, step, logs):
        loss = logs["loss"]
        if math.isfinite(loss):
            return
        lr = self.run.optimizer.param_groups[0]["lr"]
        self.message = (
            f"TerminateOnNaN: the loss became {loss} at epoch {logs['epoch'] + 1}, step {step + 1}. "
            f"The learning rate {lr:g} is probably too high: try {lr / 10:g}, or clip gradients "
            f"(dp.nn.utils.clip_grad_norm_)."
        )
        print(self.message, file=self.stream or sys.stderr)
        self.run.stop_training = True
