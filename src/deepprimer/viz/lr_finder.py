"""The learning-rate range test as a picture: loss against a growing learning rate.

Read it from left to right: a flat stretch (the rate is too small to move the weights),
a descent (rates that learn), a minimum, then the climb where steps overshoot. The
suggested rate sits on the steep part of the descent, well before the minimum. The smoothed
curve trails the faint mini-batch losses a little: a moving average lags what it averages.
"""
import itertools

import numpy as np

from .style import BACKWARD_RED, FORWARD_BLUE, new_figure


def plot_lr_range_test(result, ax=None, title=None, marks=None):
    """Smoothed (and raw) loss against the learning rate on a log axis; return the Figure.

    ``result`` is what ``deepprimer.train.lr_finder.lr_range_test`` returns (anything with
    ``lrs``, ``losses``, ``raw_losses`` and ``suggested_lr``). ``marks`` optionally maps a
    label to a learning rate to draw as a grey vertical line, e.g. rates tried by hand.
    """
    if ax is None:
        fig, axes = new_figure(width=6.5, height=4.2)
        ax = axes[0][0]
    fig = ax.figure
    lrs = np.asarray(result.lrs)
    ax.plot(lrs, result.raw_losses, color=FORWARD_BLUE, alpha=0.25, linewidth=0.8, label="mini-batch loss")
    ax.plot(lrs, result.losses, color=FORWARD_BLUE, linewidth=2, label="smoothed loss")
    lowest = int(np.argmin(result.losses))
    ax.plot(lrs[lowest], result.losses[lowest], "o", color="black",
            label=f"lowest smoothed loss (lr {lrs[lowest]:.3g})")
    ax.axvline(result.suggested_lr, color=BACKWARD_RED, linewidth=2,
               label=f"suggested lr {result.suggested_lr:.3g} (steepest descent, smoothing lag undone)")
    # the top of the plot: a last explosive mini-batch loss would squash the rest of the curve
    top = max(np.percentile(result.raw_losses, 95), np.max(result.losses))
    for (label, lr), style in zip((marks or {}).items(), itertools.cycle([":", "--", "-."])):
        ax.axvline(lr, color="#555555", linestyle=style, linewidth=1.4, label=f"{label} (lr {lr:g})")
    ax.set_xscale("log")
    ax.set_ylim(0, top * 1.1)
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("training loss")
    ax.set_title(title or "Learning-rate range test")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    return fig
