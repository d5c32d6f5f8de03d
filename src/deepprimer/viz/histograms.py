"""Histograms of many arrays side by side: a layer's activations, its gradients, its weights.

A histogram per layer shows at a glance what single numbers hide: tanh outputs piled up at
+-1 (saturated units that pass almost no gradient), ReLU outputs stuck at 0 (dead units),
gradients that shrink layer after layer (vanishing) or spread wide (exploding).
"""
import numpy as np

from .style import new_figure

SERIES_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b"]


def plot_histograms(arrays, bins=50, ncols=None, title=None, xlabel="value", sharex=False):
    """One panel per entry of ``arrays``; returns the Figure.

    ``arrays`` maps a panel title to an array, or to ``{series label: array}`` to overlay
    several series in one panel (e.g. ``{"epoch 1": a1, "epoch 300": a300}``). Heights are
    the share of each series' values that fall in a bin, so series of different sizes
    compare; each series' mean and standard deviation are written in its legend.
    ``sharex=True`` gives every panel the same bins and x range (compare magnitudes
    across panels); otherwise each panel fits its own data (compare shapes).
    """
    if not arrays:
        raise ValueError("plot_histograms: nothing to plot (arrays is empty)")
    panels = {name: value if isinstance(value, dict) else {"": value} for name, value in arrays.items()}
    panels = {name: {label: np.asarray(a, dtype=float).ravel() for label, a in series.items()}
              for name, series in panels.items()}
    ncols = ncols or min(len(panels), 4)
    nrows = -(-len(panels) // ncols)
    fig, axes = new_figure(ncols=ncols, nrows=nrows, width=3.8, height=3.2)
    shared_edges = _edges([a for series in panels.values() for a in series.values()], bins) if sharex else None
    for ax, (name, series) in zip(axes.flat, panels.items()):
        edges = shared_edges if sharex else _edges(list(series.values()), bins)
        for color, (label, values) in zip(SERIES_COLORS * len(series), series.items()):
            stats = f"mean {values.mean():.2g}, std {values.std():.2g}" if values.size else "empty"
            ax.hist(values, bins=edges, weights=np.full(values.size, 1.0 / max(values.size, 1)),
                    color=color, alpha=0.5, histtype="stepfilled", edgecolor=color,
                    label=f"{label} ({stats})" if label else stats)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel(xlabel, labelpad=1)
        ax.set_ylabel("share of values")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.3), frameon=False)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _edges(arrays, bins):
    values = np.concatenate([a for a in arrays if a.size] or [np.zeros(1)])
    values = values[np.isfinite(values)]
    return np.histogram_bin_edges(values if values.size else np.zeros(1), bins=bins)
