"""Weight histograms: how a penalty reshapes a trained network's weights.

Two views of the same weights, one column per model, both with the share of weights per
bin on a log scale, so that a handful of large weights still shows beside a spike at 0:

- the values w (top row), on one shared axis: an L2 penalty (sum of w^2) pulls every
  weight towards 0 in proportion to its size, so the whole distribution gets narrower;
- the magnitudes |w| on a log scale (bottom row): an L1 penalty (sum of |w|) pulls every
  weight towards 0 by the same amount whatever its size, so the weights the data do not
  need end at 0, far to the left. The dashed line is the ``threshold`` below which a
  weight counts as "zero"; the share below it is written in.
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

    Top row: the values, the same bins in every column so widths compare; bottom row:
    log10 |w|, a dashed line at ``threshold``, the share of weights below it and how many
    are above. |w| below threshold / 1000 (exact zeros included) falls in the leftmost
    bin. Heights are shares of the weights (not counts), so models of different sizes
    compare. Returns the Figure.
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
    floor = np.log10(threshold) - 3
    log_edges = np.linspace(floor, max(np.log10(np.abs(everything).max()), np.log10(threshold)) + 0.1, bins)
    fig, axes = new_figure(ncols=len(values), nrows=2, width=3.8, height=3.0)
    for column, (color, (label, v)) in enumerate(zip(SERIES_COLORS * len(values), values.items())):
        top, bottom = axes[0][column], axes[1][column]
        share = np.full(v.size, 1.0 / v.size)
        top.hist(v, bins=value_edges, weights=share, color=color)
        top.set_title(f"{label}\nstd of w {v.std():.3g}, largest |w| {np.abs(v).max():.3g}", fontsize=10)
        top.set_xlabel("weight value w")
        magnitudes = np.log10(np.maximum(np.abs(v), 10.0 ** floor))
        bottom.hist(magnitudes, bins=log_edges, weights=share, color=color)
        bottom.axvline(np.log10(threshold), color="black", linestyle="--", linewidth=1)
        above = int((np.abs(v) >= threshold).sum())
        bottom.set_title(f"{1 - above / v.size:.2%} have |w| < {threshold:g}\n"
                         f"{above:,} of {v.size:,} weights above", fontsize=10)
        bottom.set_xlabel(f"log10 |w|   (left edge: |w| <= {10.0 ** floor:g})")
        for ax in (top, bottom):
            ax.set_yscale("log")
            ax.set_ylabel("share of weights")
            ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
