"""Learning-rate schedules on their own: known values, checkpoints, warnings, errors."""
import math
import warnings

import numpy as np
import pytest

import deepprimer as dp
from deepprimer import optim
from deepprimer.optim import lr_scheduler
from deepprimer.serialization import load, save


def sgd(lr=0.1, **kwargs):
    return optim.SGD([dp.tensor(np.ones(2, np.float32), requires_grad=True)], lr=lr, **kwargs)


def sequence(opt, sched, n):
    out = [sched.get_last_lr()[0]]
    for _ in range(n):
        opt.step()
        sched.step()
        out.append(sched.get_last_lr()[0])
    return out


def test_step_lr_values():
    opt = sgd()
    lrs = sequence(opt, lr_scheduler.StepLR(opt, step_size=3, gamma=0.1), 7)
    np.testing.assert_allclose(lrs, [0.1] * 3 + [0.01] * 3 + [0.001] * 2)


def test_multistep_lr_values():
    opt = sgd()
    lrs = sequence(opt, lr_scheduler.MultiStepLR(opt, milestones=[2, 4], gamma=0.5), 5)
    np.testing.assert_allclose(lrs, [0.1, 0.1, 0.05, 0.05, 0.025, 0.025])


def test_exponential_lr_values():
    opt = sgd()
    lrs = sequence(opt, lr_scheduler.ExponentialLR(opt, gamma=0.5), 3)
    np.testing.assert_allclose(lrs, [0.1, 0.05, 0.025, 0.0125])


def test_cosine_annealing_follows_the_closed_form():
    opt = sgd()
    lrs = sequence(opt, lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=0.01), 10)
    expected = [0.01 + 0.09 * (1 + math.cos(math.pi * t / 10)) / 2 for t in range(11)]
    np.testing.assert_allclose(lrs, expected, rtol=1e-12)


def test_linear_warmup_values():
    opt = sgd()
    lrs = sequence(opt, lr_scheduler.LinearLR(opt, start_factor=0.25, total_iters=3), 5)
    np.testing.assert_allclose(lrs, [0.025, 0.05, 0.075, 0.1, 0.1, 0.1], rtol=1e-12)


def test_one_cycle_shape():
    opt = sgd(momentum=0.9)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=100)
    lrs, moms = [sched.get_last_lr()[0]], [opt.param_groups[0]["momentum"]]
    for _ in range(99):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr()[0])
        moms.append(opt.param_groups[0]["momentum"])
    assert lrs[0] == pytest.approx(1.0 / 25)
    assert max(lrs) == pytest.approx(1.0) and int(np.argmax(lrs)) == 29
    assert lrs[-1] == pytest.approx(1.0 / 25 / 1e4)
    assert moms[0] == pytest.approx(0.95) and min(moms) == pytest.approx(0.85) and moms[-1] == pytest.approx(0.95)


def test_one_cycle_needs_momentum_and_steps():
    w = dp.tensor(np.ones(2, np.float32), requires_grad=True)
    with pytest.raises(ValueError, match="momentum or beta1"):
        lr_scheduler.OneCycleLR(optim.Adagrad([w]), max_lr=0.1, total_steps=10)
    with pytest.raises(ValueError, match="total_steps OR"):
        lr_scheduler.OneCycleLR(sgd(), max_lr=0.1)
    with pytest.raises(ValueError, match="pct_start"):
        lr_scheduler.OneCycleLR(sgd(), max_lr=0.1, total_steps=10, pct_start=2.0)


def test_reduce_on_plateau_basic():
    opt = sgd(lr=1.0)
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=1, factor=0.5)
    for metric in [1.0, 1.0, 1.0]:  # baseline, bad, bad -> 2 bad epochs > patience 1
        sched.step(metric)
    assert sched.get_last_lr() == [0.5]
    sched.step(0.5)
    assert sched.get_last_lr() == [0.5] and sched.best == 0.5
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        lr_scheduler.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode 'up' is unknown"):
        lr_scheduler.ReduceLROnPlateau(opt, mode="up")


def test_scheduler_needs_an_optimizer():
    with pytest.raises(TypeError, match="is not an Optimizer"):
        lr_scheduler.StepLR(object(), step_size=1)


def test_resuming_needs_initial_lr():
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(sgd(), step_size=1, last_epoch=5)


def test_warns_when_stepped_before_the_optimizer():
    opt = sgd()
    sched = lr_scheduler.StepLR(opt, step_size=1)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()


def test_no_warning_in_the_right_order():
    opt = sgd()
    sched = lr_scheduler.StepLR(opt, step_size=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
        sched.step()


def test_get_lr_outside_step_warns():
    opt = sgd()
    sched = lr_scheduler.StepLR(opt, step_size=1)
    with pytest.warns(UserWarning, match="get_last_lr"):
        sched.get_lr()


def _make(name, opt):
    return {
        "StepLR": lambda: lr_scheduler.StepLR(opt, step_size=3, gamma=0.5),
        "MultiStepLR": lambda: lr_scheduler.MultiStepLR(opt, milestones=[2, 6, 6], gamma=0.5),
        "ExponentialLR": lambda: lr_scheduler.ExponentialLR(opt, gamma=0.9),
        "CosineAnnealingLR": lambda: lr_scheduler.CosineAnnealingLR(opt, T_max=7),
        "LinearLR": lambda: lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=8),
        "OneCycleLR": lambda: lr_scheduler.OneCycleLR(opt, max_lr=0.5, total_steps=30),
        "ReduceLROnPlateau": lambda: lr_scheduler.ReduceLROnPlateau(opt, patience=1, factor=0.5),
        "SequentialLR": lambda: lr_scheduler.SequentialLR(
            opt, [lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=4),
                  lr_scheduler.CosineAnnealingLR(opt, T_max=20)], milestones=[4]),
    }[name]()


@pytest.mark.parametrize("name", ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR",
                                  "LinearLR", "OneCycleLR", "ReduceLROnPlateau", "SequentialLR"])
def test_checkpoint_through_save_load_resumes_the_schedule(name, tmp_path):
    metric = lambda i: 1.0 / (1 + i % 4)  # noqa: E731

    def advance(opt, sched, start, n):
        lrs = []
        for i in range(start, start + n):
            opt.step()
            sched.step(metric(i)) if name == "ReduceLROnPlateau" else sched.step()
            lrs.append(sched.get_last_lr()[0])
        return lrs

    opt = sgd(momentum=0.9)
    sched = _make(name, opt)
    advance(opt, sched, 0, 10)
    save({"optim": opt.state_dict(), "sched": sched.state_dict()}, tmp_path / "ckpt.npz")
    expected = advance(opt, sched, 10, 15)

    ckpt = load(tmp_path / "ckpt.npz")
    opt2 = sgd(momentum=0.9)
    sched2 = _make(name, opt2)  # build first (it sets lr), then load both, as in torch
    opt2.load_state_dict(ckpt["optim"])
    sched2.load_state_dict(ckpt["sched"])
    assert advance(opt2, sched2, 10, 15) == expected
