"""lr_range_test: the rates it tries, the smoothed loss, early stopping, the suggestion, the restore."""
import numpy as np
import pytest

import deepprimer as dp
from deepprimer import nn
from deepprimer.data import DataLoader
from deepprimer.train.lr_finder import LRRangeTest, lr_range_test, steepest_lr


def regression(n=256, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)).astype(np.float32)
    y = (X @ np.array([1.0, -2.0, 0.5, 3.0], dtype=np.float32))[:, None]
    return DataLoader((X, y), batch_size=16, shuffle=True)


def model_and_optimizer(make=lambda p: dp.optim.SGD(p, lr=0.05, momentum=0.9)):
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    return model, make(model.parameters())


def test_rates_grow_exponentially_and_the_loss_is_a_debiased_average():
    model, optimizer = model_and_optimizer()
    result = lr_range_test(model, nn.MSELoss(), optimizer, regression(), start_lr=1e-5, end_lr=1e-2,
                           num_steps=30, smooth=0.1)
    assert isinstance(result, LRRangeTest) and not result.diverged
    assert len(result.lrs) == len(result.losses) == len(result.raw_losses) == 30
    np.testing.assert_allclose(result.lrs, np.geomspace(1e-5, 1e-2, 30), rtol=1e-9)
    assert result.losses[0] == pytest.approx(result.raw_losses[0])  # debiased: no pull towards 0
    expected = 0.9 * 0.1 * result.raw_losses[0] + 0.1 * result.raw_losses[1]  # the second average
    assert result.losses[1] == pytest.approx(expected / (1 - 0.9 ** 2))


def test_model_weights_optimizer_state_and_lr_are_restored():
    model, optimizer = model_and_optimizer(lambda p: dp.optim.Adam(p, lr=3e-3))
    loss_fn = nn.MSELoss()
    X, y = next(iter(regression()))
    optimizer.zero_grad()
    loss_fn(model(X), y).backward()
    optimizer.step()  # Adam now has moments and a step count to restore
    model.eval()
    weights = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    moments = {i: s["exp_avg"].numpy().copy() for i, s in optimizer.state_dict()["state"].items()}
    lr_range_test(model, loss_fn, optimizer, regression(), start_lr=1e-4, end_lr=1.0, num_steps=40)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), weights[key])
    state = optimizer.state_dict()["state"]
    for index, moment in moments.items():
        np.testing.assert_array_equal(state[index]["exp_avg"].numpy(), moment)
        assert state[index]["step"] == 1
    assert optimizer.param_groups[0]["lr"] == 3e-3
    assert not model.training  # put back in the mode it was in
    optimizer.zero_grad()
    loss_fn(model(X), y).backward()
    optimizer.step()  # and the restored optimizer still steps
    assert optimizer.state_dict()["state"][0]["step"] == 2


def test_stops_when_the_loss_explodes_and_suggests_a_rate_before_the_minimum():
    model, optimizer = model_and_optimizer()
    result = lr_range_test(model, nn.MSELoss(), optimizer, regression(), start_lr=1e-4, end_lr=1e3, num_steps=100)
    assert result.diverged and len(result.lrs) < 100
    assert result.losses[-1] > 4 * result.losses.min() or not np.isfinite(result.raw_losses[-1])
    assert result.lrs[0] <= result.suggested_lr <= result.min_loss_lr


def test_a_short_loader_is_cycled():
    model, optimizer = model_and_optimizer()
    loader = regression(n=32)  # 2 batches
    result = lr_range_test(model, nn.MSELoss(), optimizer, loader, start_lr=1e-5, end_lr=1e-3, num_steps=7)
    assert len(result.lrs) == 7


def test_steepest_lr_finds_the_fastest_fall_before_the_minimum():
    lrs = np.logspace(-4, 1, 51)
    x = np.log10(lrs)
    losses = 2.0 - np.tanh(2.0 * (x + 1.0)) + np.where(x > 0.5, 50.0 * (x - 0.5) ** 2, 0.0)
    assert steepest_lr(lrs, losses) == pytest.approx(0.1, rel=0.03)  # tanh falls fastest at x = -1
    assert steepest_lr(lrs[:5], np.linspace(1, 2, 5)) == lrs[0]  # never fell: the first rate


def test_the_suggestion_undoes_the_lag_of_the_moving_average():
    lrs = np.geomspace(1e-4, 10, 200)
    raw = 2.0 - np.tanh(2.0 * (np.log10(lrs) + 1.0))  # falls fastest at lr 0.1, step 119
    smooth, average, smoothed = 0.05, 0.0, []
    for i, loss in enumerate(raw):
        average = smooth * loss + (1 - smooth) * average
        smoothed.append(average / (1 - (1 - smooth) ** (i + 1)))
    late = steepest_lr(lrs, smoothed)
    corrected = steepest_lr(lrs, smoothed, lag=19)
    assert late > 0.15  # the average's steepest point trails the raw curve's
    assert 0.05 < corrected < 0.1  # a sharp dip is overcorrected a little: towards the safe side


@pytest.mark.parametrize("kwargs, match", [
    ({"start_lr": 1.0, "end_lr": 0.1}, "start_lr < end_lr"),
    ({"num_steps": 2}, "num_steps"),
    ({"smooth": 0.0}, "smooth"),
    ({"diverge_factor": 1.0}, "diverge_factor"),
])
def test_bad_arguments_are_named(kwargs, match):
    model, optimizer = model_and_optimizer()
    with pytest.raises(ValueError, match=match):
        lr_range_test(model, nn.MSELoss(), optimizer, regression(), **kwargs)
