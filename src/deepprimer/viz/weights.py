"""Weight histograms: how a penalty reshapes a trained network's weights.

Two views of the same weights, one column per model:

- the values w themselves (top row), on one shared axis: an L2 penalty (sum of w^2)
  pulls every weight towards 0 in proportion to its size, so the whole bell gets narrower;
- the magnitudes |w| on a log scale (bottom row): an L1 penalty (sum of |w|) pushes every
  weight towards 0 by the same amount whatever its size, so the weights the data do not
  need end at (almost) exactly 0 and pile up far to the left. The dashed line is the
  ``threshold`` below which a weight counts as "zero"; the share below it is written in.
"""
import numpy as np

from ..nn import Module
from ..nn.utils import weight_parameters
from .style import new_figure

SERIES_COLORS = ["#7f7f7f", "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b"]


def weight_values(model):
    """Every weight of ``model`` (the parameters penalties act on: 2-D and up) as one 1-D array."""
    return np.concatenate([np.asarray(p.data, dtype=np.float64).ravel() for p in weight_parameters(model)])


def plot_weight_histograms(weights, threshold=1e-3, bins=60, title=None):
    """One column per entry of ``weights`` ({label: a Module or an array of weights}).

    Top row: the values, with the same bins in every column so widths compare; bottom row:
    log10 |w|, with a dashed line at ``threshold`` and the share of weights below it.
    Heights are shares of the weights (not counts), so models of different sizes compare.
    Returns the Figure.
    """
    if not weights:
        raise ValueError("plot_weight_histograms: nothing to plot (weights is empty)")
    if threshold <= 0:
        raise ValueError(f"plot_weight_histograms: threshold must be positive, got {threshold}")
    values = {label: weight_values(w) if isinstance(w, Module) else np.asarray(w, dtype=np.float64).ravel()
              for label, w in weights.items()}
    if any(v.size == 0 for v in values.values()):
        raise ValueError("plot_weight_histograms: every entry needs at least one weight")
    everything = np.concatenate(list(values.values()))
    value_edges = np.histogram_bin_edges(everything, bins=bins)
    tiny = threshold / 1000  # |w| = 0 exactly would be log10(0) = -inf: draw it at the left edge
    logs = {label: np.log10(np.maximum(np.abs(v), tiny)) for label, v in values.items()}
    log_edges = np.linspace(np.log10(tiny), max(np.log10(np.abs(everything).max()), np.log10(threshold)) + 0.1, bins)
    fig, axes = new_figure(ncols=len(values), nrows=2, width=3.6, height=2.9)
    for column, (color, label) in enumerate(zip(SERIES_COLORS * len(values), values)):
        top, bottom = axes[0][column], axes[1][column]
        v = values[label]
        share = lambda a: np.full(a.size, 1.0 / a.size)  # noqa: E731
        top.hist(v, bins=value_edges, weights=share(v), color=color, alpha=0.8)
        top.set_title(f"{label}\nstd of w: {v.std():.3g}", fontsize=10)
        top.set_xlabel("weight value w")
        bottom.hist(logs[label], bins=log_edges, weights=share(v), color=color, alpha=0.8)
        bottom.axvline(np.log10(threshold), color="black", linestyle="--", linewidth=1)
        below = float((np.abs(v) < threshold).mean())
        bottom.set_title(f"{below:.1%} of weights have |w| < {threshold:g}", fontsize=10)
        bottom.set_xlabel("log10 |w|")
        for ax in (top, bottom):
            ax.set_ylabel("share of weights")
            ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
