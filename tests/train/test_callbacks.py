import csv
import math

import numpy as np
import pytest

import deepprimer as dp
from deepprimer import nn
from deepprimer.models import MLP
from deepprimer.train import CSVLogger, EarlyStopping, LRSchedulerCallback, ModelCheckpoint, TerminateOnNaN, fit


class Scripted(nn.Module):
    """A model whose validation loss follows a script, to drive the callbacks exactly."""

    def __init__(self, val_losses):
        super().__init__()
        self.w = nn.Parameter(dp.zeros(1))
        self.val_losses = list(val_losses)
        self.epoch = -1

    def forward(self, x):
        if not self.training:
            value = self.val_losses[self.epoch]
            return dp.full((len(x), 1), value) + self.w * 0
        self.epoch += 1
        with dp.no_grad():
            self.w.fill_(float(self.epoch))  # the "weights" of epoch e are e
        return self.w * x


def scripted_fit(val_losses, callbacks, epochs=None):
    model = Scripted(val_losses)
    data = [(dp.ones(2, 1), dp.zeros(2, 1))]
    loss = lambda out, target: ((out - target) ** 2).mean() if out.requires_grad else out.mean()  # noqa: E731
    history = fit(model, loss, dp.optim.SGD(model.parameters(), lr=0.0), data, val_loader=data,
                  epochs=epochs or len(val_losses), metrics=(), callbacks=callbacks, verbose=0)
    return model, history


def test_early_stopping_stops_after_patience_and_restores_best_weights():
    stopper = EarlyStopping(patience=2, restore_best_weights=True)
    model, history = scripted_fit([5, 3, 4, 4, 4, 1, 1], [stopper])
    assert len(history) == 4  # best at epoch 1, then 2 epochs of patience, stop after the 3rd bad one
    assert stopper.best_epoch == 1 and stopper.stopped_epoch == 3
    assert model.w.item() == 1.0  # the weights of the best epoch


def test_early_stopping_min_delta_counts_small_gains_as_none():
    stopper = EarlyStopping(patience=0, min_delta=0.5)
    _, history = scripted_fit([5, 4.8, 4.7], [stopper])
    assert len(history) == 2


def test_early_stopping_names_missing_monitor():
    model = MLP([2, 2])
    with pytest.raises(ValueError, match="monitor 'val_loss' is not logged"):
        fit(model, nn.CrossEntropyLoss(), dp.optim.SGD(model.parameters(), lr=0.1),
            [(dp.randn(4, 2), dp.tensor([0, 1, 0, 1]))], epochs=1, callbacks=[EarlyStopping()], verbose=0)


def test_model_checkpoint_saves_best_only_and_files_load(tmp_path):
    checkpoint = ModelCheckpoint(tmp_path / "ckpt-{epoch}.npz", save_best_only=True)
    model, _ = scripted_fit([3, 2, 5, 1], [checkpoint])
    assert [p.split("/")[-1] for p in checkpoint.saved] == ["ckpt-1.npz", "ckpt-2.npz", "ckpt-4.npz"]
    state = dp.load(checkpoint.saved[1])
    assert state["w"].item() == 1.0


def test_csv_logger_writes_a_row_per_epoch(tmp_path):
    path = tmp_path / "history.csv"
    scripted_fit([3, 2, 1], [CSVLogger(path)])
    rows = list(csv.DictReader(open(path)))
    assert [r["epoch"] for r in rows] == ["1", "2", "3"]
    assert float(rows[2]["val_loss"]) == 1.0


def test_terminate_on_nan_names_the_step_and_suggests_a_lower_lr(capsys):
    model = MLP([2, 2])
    x, y = dp.randn(4, 2), dp.tensor([0, 1, 0, 1])
    with dp.no_grad():
        model[0].weight.fill_(float("nan"))
    stopper = TerminateOnNaN()
    history = fit(model, nn.CrossEntropyLoss(), dp.optim.SGD(model.parameters(), lr=0.5), [(x, y)] * 3,
                  epochs=5, callbacks=[stopper], verbose=0)
    assert len(history) == 1 and math.isnan(history["loss"][0])
    assert "epoch 1, step 1" in stopper.message and "try 0.05" in stopper.message
    assert "TerminateOnNaN" in capsys.readouterr().err


def test_lr_scheduler_callback_drives_reduce_on_plateau():
    model = Scripted([1, 1, 1, 1, 1])
    opt = dp.optim.SGD(model.parameters(), lr=1.0)
    sched = dp.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=1, factor=0.1)
    data = [(dp.ones(2, 1), dp.zeros(2, 1))]
    loss = lambda out, target: ((out - target) ** 2).mean() if out.requires_grad else out.mean()  # noqa: E731
    fit(model, loss, opt, data, val_loader=data, epochs=5, metrics=(),
        callbacks=[LRSchedulerCallback(sched)], verbose=0)
    assert np.isclose(opt.param_groups[0]["lr"], 0.01)
