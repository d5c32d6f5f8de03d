"""Each learning-rate schedule against torch.optim.lr_scheduler, step by step."""
import math
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import deepprimer as dp  # noqa: E402
from deepprimer import optim  # noqa: E402
from deepprimer.optim import lr_scheduler  # noqa: E402

pytestmark = pytest.mark.torch

STEPS = 30


def optimizers(opt_name="SGD", lrs=(0.1, 0.03), **kwargs):
    """The same two-group optimizer in both frameworks."""
    ours = [dp.tensor(np.ones(2, np.float32), requires_grad=True) for _ in lrs]
    theirs = [torch.ones(2, requires_grad=True) for _ in lrs]
    o = getattr(optim, opt_name)([{"params": [p], "lr": lr} for p, lr in zip(ours, lrs)], **kwargs)
    t = getattr(torch.optim, opt_name)([{"params": [p], "lr": lr} for p, lr in zip(theirs, lrs)], **kwargs)
    return o, t


def momenta(opt):
    return [g["betas"][0] if "betas" in g else g.get("momentum") for g in opt.param_groups]


def assert_same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x == pytest.approx(y, rel=1e-12, abs=1e-15), (a, b)


SCHEDULES = [
    ("StepLR", dict(step_size=7, gamma=0.5), {}),
    ("StepLR", dict(step_size=1, gamma=0.9), {}),
    ("MultiStepLR", dict(milestones=[3, 8, 8, 20], gamma=0.3), {}),
    ("ExponentialLR", dict(gamma=0.85), {}),
    ("CosineAnnealingLR", dict(T_max=10), {}),  # 30 steps: down, up, down again
    ("CosineAnnealingLR", dict(T_max=25, eta_min=0.001), {}),
    ("LinearLR", dict(), {}),
    ("LinearLR", dict(start_factor=0.1, end_factor=1.0, total_iters=10), {}),
    ("LinearLR", dict(start_factor=1.0, end_factor=0.05, total_iters=20), {}),
    ("ConstantLR", dict(factor=0.5, total_iters=4), {}),
    ("OneCycleLR", dict(max_lr=1.0, total_steps=STEPS + 1), dict(momentum=0.9)),
    ("OneCycleLR", dict(max_lr=[0.5, 0.2], epochs=4, steps_per_epoch=8, pct_start=0.25,
                        anneal_strategy="linear", div_factor=10.0, final_div_factor=100.0), dict(momentum=0.9)),
    ("OneCycleLR", dict(max_lr=0.3, total_steps=STEPS + 1, three_phase=True), dict(momentum=0.9, nesterov=True)),
    ("OneCycleLR", dict(max_lr=0.3, total_steps=STEPS + 1, cycle_momentum=False), {}),
]


@pytest.mark.parametrize("name, kwargs, opt_kwargs", SCHEDULES,
                         ids=[f"{n}-{k}" for n, k, _ in SCHEDULES])
def test_schedule_matches_torch(name, kwargs, opt_kwargs):
    o, t = optimizers(**opt_kwargs)
    ours = getattr(lr_scheduler, name)(o, **kwargs)
    theirs = getattr(torch.optim.lr_scheduler, name)(t, **kwargs)
    assert_same(ours.get_last_lr(), theirs.get_last_lr())
    for _ in range(STEPS):
        o.step()
        t.step()
        ours.step()
        theirs.step()
        assert_same(ours.get_last_lr(), theirs.get_last_lr())
        assert_same([g["lr"] for g in o.param_groups], [g["lr"] for g in t.param_groups])
        if opt_kwargs.get("momentum"):
            assert_same(momenta(o), momenta(t))
    assert ours.last_epoch == theirs.last_epoch


def test_one_cycle_cycles_adam_betas_like_torch():
    o, t = optimizers("Adam", betas=(0.9, 0.99))
    ours = lr_scheduler.OneCycleLR(o, max_lr=0.01, total_steps=STEPS + 1, base_momentum=0.8, max_momentum=0.9)
    theirs = torch.optim.lr_scheduler.OneCycleLR(t, max_lr=0.01, total_steps=STEPS + 1, base_momentum=0.8,
                                                 max_momentum=0.9)
    for _ in range(STEPS):
        o.step(), t.step(), ours.step(), theirs.step()
        assert_same(ours.get_last_lr(), theirs.get_last_lr())
        assert_same(momenta(o), momenta(t))
        assert o.param_groups[0]["betas"][1] == 0.99


def test_one_cycle_past_total_steps_is_an_error_like_torch():
    o, _ = optimizers()
    sched = lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=3)
    for _ in range(3):
        o.step()
        sched.step()
    with pytest.raises(ValueError, match="Tried to step 4 times"):
        sched.step()


def test_sequential_warmup_then_cosine_matches_torch():
    o, t = optimizers()
    ours = lr_scheduler.SequentialLR(o, [lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=5),
                                         lr_scheduler.CosineAnnealingLR(o, T_max=20)], milestones=[5])
    tl = torch.optim.lr_scheduler
    theirs = tl.SequentialLR(t, [tl.LinearLR(t, start_factor=0.1, total_iters=5),
                                 tl.CosineAnnealingLR(t, T_max=20)], milestones=[5])
    assert_same(ours.get_last_lr(), theirs.get_last_lr())
    for _ in range(STEPS):
        o.step(), t.step(), ours.step(), theirs.step()
        assert_same(ours.get_last_lr(), theirs.get_last_lr())


def test_lambda_lr_matches_torch():
    o, t = optimizers()
    fn = lambda epoch: 0.95 ** epoch + (epoch % 3) * 0.01  # noqa: E731
    ours, theirs = lr_scheduler.LambdaLR(o, fn), torch.optim.lr_scheduler.LambdaLR(t, fn)
    for _ in range(STEPS):
        o.step(), t.step(), ours.step(), theirs.step()
        assert_same(ours.get_last_lr(), theirs.get_last_lr())


def test_two_schedulers_chain_like_torch():
    """Chainable form: two schedulers on one optimizer multiply their effects."""
    o, t = optimizers()
    ours = [lr_scheduler.ExponentialLR(o, gamma=0.9), lr_scheduler.StepLR(o, step_size=4, gamma=0.5)]
    tl = torch.optim.lr_scheduler
    theirs = [tl.ExponentialLR(t, gamma=0.9), tl.StepLR(t, step_size=4, gamma=0.5)]
    for _ in range(STEPS):
        o.step(), t.step()
        for s in ours + theirs:
            s.step()
        assert_same([g["lr"] for g in o.param_groups], [g["lr"] for g in t.param_groups])


@pytest.mark.parametrize("name, kwargs", [
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[2, 5], gamma=0.1)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=10)),
    ("LinearLR", dict(start_factor=0.2, total_iters=6)),
])
def test_step_with_epoch_uses_closed_form_like_torch(name, kwargs):
    o, t = optimizers()
    ours = getattr(lr_scheduler, name)(o, **kwargs)
    theirs = getattr(torch.optim.lr_scheduler, name)(t, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch in (4, 7, 2, 9):
            ours.step(epoch)
            theirs.step(epoch)
            assert_same(ours.get_last_lr(), theirs.get_last_lr())


METRICS = [1.0, 0.9, 0.9, 0.95, 0.91, 0.9, 0.89999, 0.8, 0.85, 0.85, 0.85, 0.85, 0.79, 0.8, 0.81,
           0.82, 0.83, 0.84, 0.7, 0.71, 0.7, 0.7, 0.7, 0.7, 0.69, 0.7, 0.7, 0.7, 0.7, 0.7]


@pytest.mark.parametrize("kwargs", [
    dict(),
    dict(patience=2),
    dict(patience=0, factor=0.5),
    dict(patience=1, cooldown=2, factor=0.5),
    dict(mode="max", patience=1, factor=0.5),
    dict(patience=1, threshold=0.05, threshold_mode="abs", factor=0.5),
    dict(mode="max", patience=2, threshold=0.01, threshold_mode="abs"),
    dict(patience=0, factor=0.1, min_lr=[1e-3, 1e-4]),
    dict(patience=0, factor=0.5, min_lr=0.01, eps=1e-3),
])
def test_reduce_on_plateau_matches_torch(kwargs):
    o, t = optimizers()
    ours = lr_scheduler.ReduceLROnPlateau(o, **kwargs)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(t, **kwargs)
    lrs = []
    for metric in METRICS:
        o.step(), t.step()
        ours.step(metric)
        theirs.step(metric)
        assert_same(ours.get_last_lr(), theirs.get_last_lr())
        assert (ours.num_bad_epochs, ours.cooldown_counter, ours.best) == (
            theirs.num_bad_epochs, theirs.cooldown_counter, theirs.best)
        lrs.append(ours.get_last_lr()[0])
    if kwargs.get("patience", 10) <= 2:
        assert min(lrs) < 0.1  # the sequence did reduce: the test exercised something


def test_reduce_on_plateau_accepts_a_tensor_metric():
    o, _ = optimizers()
    sched = lr_scheduler.ReduceLROnPlateau(o, patience=0)
    sched.step(dp.tensor(1.0))
    sched.step(dp.tensor(2.0))
    assert sched.get_last_lr() == pytest.approx([0.01, 0.003])
    assert not math.isinf(sched.best)
