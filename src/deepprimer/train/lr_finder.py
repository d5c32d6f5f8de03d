"""The learning-rate range test (Leslie Smith, 2015): find a good learning rate in one short run.

Train for ``num_steps`` mini-batches while the learning rate grows exponentially from
``start_lr`` to ``end_lr``,

    lr_i = start_lr * (end_lr / start_lr) ** (i / (num_steps - 1)),

and record the loss after each step. While the rate is too small the loss barely moves;
then it falls, fastest around a good rate; past the largest stable rate it shoots up and
the test stops. Mini-batch losses are noisy, so the curve is an exponential moving
average, debiased as Adam debiases its moments:

    avg_i = smooth * loss_i + (1 - smooth) * avg_{i-1},    smoothed_i = avg_i / (1 - (1 - smooth) ** (i + 1))

The suggested rate is where the loss falls fastest per decade of learning rate: the
steepest point of the smoothed curve, before its minimum, read off ``(1 - smooth) / smooth``
steps earlier, because a moving average trails what it averages by that many steps on
average (with ``smooth=0.05``, 19 steps). Without that correction the suggestion lands
late, near the edge where training turns unstable; with it, a sharp dip is overcorrected
a little, towards a smaller and safer rate.

The test trains the model for real, so when it ends it puts the model's weights and
buffers, its train/eval mode, and the optimizer's state and learning rates back as they
were: you train from the same start afterwards. (The random generator that shuffles the
batches is not rewound.)

    result = lr_range_test(model, loss_fn, optimizer, loader)
    for group in optimizer.param_groups:
        group["lr"] = result.suggested_lr
"""
import copy
import math
from dataclasses import dataclass

import numpy as np

from .trainer import unpack


@dataclass
class LRRangeTest:
    """What the range test saw: the rates tried, the smoothed and raw losses, a suggestion."""

    lrs: np.ndarray  # the learning rate of each step
    losses: np.ndarray  # the smoothed (debiased moving-average) loss after each step
    raw_losses: np.ndarray  # each step's mini-batch loss
    suggested_lr: float  # where the loss falls fastest per decade of lr (smoothing lag undone)
    diverged: bool  # True if the test stopped early because the loss exploded

    @property
    def min_loss_lr(self):
        """The learning rate at the lowest smoothed loss (a rate that is already too high)."""
        return float(self.lrs[int(np.argmin(self.losses))])


def lr_range_test(model, loss_fn, optimizer, loader, start_lr=1e-7, end_lr=10, num_steps=100,
                  smooth=0.05, diverge_factor=4):
    """Run the range test; return an :class:`LRRangeTest`. Model and optimizer are restored.

    ``loader`` yields (inputs, targets) batches; it is iterated again from the start if it
    has fewer than ``num_steps`` batches. Every parameter group gets the same rate. The
    test stops early once the smoothed loss exceeds ``diverge_factor`` times the lowest
    smoothed loss so far (meant for a positive loss such as cross-entropy or MSE), or a
    loss is NaN or infinite.
    """
    if not 0 < start_lr < end_lr:
        raise ValueError(f"lr_range_test: need 0 < start_lr < end_lr, got start_lr={start_lr}, end_lr={end_lr}")
    if num_steps < 3:
        raise ValueError(f"lr_range_test: num_steps must be >= 3 to find a slope, got {num_steps}")
    if not 0 < smooth <= 1:
        raise ValueError(f"lr_range_test: smooth must be in (0, 1], got {smooth}")
    if diverge_factor <= 1:
        raise ValueError(f"lr_range_test: diverge_factor must be > 1, got {diverge_factor}")
    model_state = {k: np.array(v.numpy(), copy=True) for k, v in model.state_dict().items()}
    optimizer_state = copy.deepcopy(optimizer.state_dict())
    was_training = model.training
    try:
        lrs, losses, raw, diverged = _sweep(model, loss_fn, optimizer, loader, start_lr, end_lr, num_steps,
                                            smooth, diverge_factor)
    finally:
        model.load_state_dict(model_state)
        optimizer.load_state_dict(optimizer_state)
        model.train(was_training)
    if len(lrs) < 3:
        raise RuntimeError(
            f"lr_range_test: the loss exploded after {len(lrs)} step(s), at lr={start_lr:g}; "
            f"start from a smaller start_lr"
        )
    lag = round((1 - smooth) / smooth)
    return LRRangeTest(np.array(lrs), np.array(losses), np.array(raw), steepest_lr(lrs, losses, lag), diverged)


def _sweep(model, loss_fn, optimizer, loader, start_lr, end_lr, num_steps, smooth, diverge_factor):
    """The training loop of the test, with the rate growing by a constant factor each step."""
    growth = (end_lr / start_lr) ** (1.0 / (num_steps - 1))
    lrs, losses, raw = [], [], []
    avg, best = 0.0, math.inf
    model.train()
    batches = iter(loader)
    for step in range(num_steps):
        lr = start_lr * growth ** step
        for group in optimizer.param_groups:
            group["lr"] = lr
        try:
            batch = next(batches)
        except StopIteration:  # one pass over the data is over: start another
            batches = iter(loader)
            batch = next(batches)
        inputs, targets = unpack(batch)
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        value = loss.item()
        if not math.isfinite(value):
            return lrs, losses, raw, True
        avg = smooth * value + (1 - smooth) * avg
        smoothed = avg / (1 - (1 - smooth) ** (step + 1))
        lrs.append(lr)
        losses.append(smoothed)
        raw.append(value)
        best = min(best, smoothed)
        if smoothed > diverge_factor * best:
            return lrs, losses, raw, True
    return lrs, losses, raw, False


def steepest_lr(lrs, losses, lag=0):
    """The rate where ``losses`` fall fastest against log10(lr), looking only up to their minimum,
    taken ``lag`` steps earlier (the delay of the moving average that smoothed them)."""
    lowest = int(np.argmin(losses))
    if lowest < 2:  # the loss never fell: the start is the best guess there is
        return float(lrs[0])
    slopes = np.gradient(np.asarray(losses[:lowest + 1]), np.log10(lrs[:lowest + 1]))
    return float(lrs[max(int(np.argmin(slopes)) - lag, 0)])
