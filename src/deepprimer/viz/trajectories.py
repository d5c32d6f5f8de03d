"""Optimizer paths over a 2-D loss surface, and loss curves on a log scale.

A loss of two parameters can be drawn as contour lines, like a hiking map; each step of an
optimizer is then a point, and its path shows how it moves: zigzagging across a narrow
valley, overshooting, or crawling along a flat floor. The contour levels are spaced
logarithmically in ``f - f_min``, so the flat bottom near the minimum, where most of the
interesting motion happens, gets as many lines as the steep walls.
"""
import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.colors import LogNorm

from .style import new_figure

CONTOUR_COLORS = "Greys_r"  # dark near the minimum, fading out up the walls


def _axes(ax):
    """The figure and axes to draw into: ``ax``'s, or a new single-panel figure."""
    if ax is not None:
        return ax.figure, ax
    fig, axes = new_figure()
    return fig, axes[0][0]


def plot_trajectories(surface, paths, ax=None, title=None, levels=20, grid_points=200):
    """Draw each path over the contour lines of ``surface``; return the Figure.

    ``surface`` is anything with ``grid(n) -> (X, Y, Z)``, ``xlim``, ``ylim``, ``minima``
    (a list of (x, y)), ``min_value`` and ``name``, such as a
    ``deepprimer.labs.surfaces.Surface``. ``paths`` maps a name (the legend's label) to an
    array of shape (steps + 1, 2): the points visited, the start first. Pass ``ax`` to draw
    into one panel of a larger figure.
    """
    fig, ax = _axes(ax)
    X, Y, Z = surface.grid(grid_points)
    gap = np.clip(Z - surface.min_value, 1e-12, None)
    low = max(np.percentile(gap, 0.5), 1e-12)  # innermost ring: around the lowest 0.5% of the window
    lines = np.logspace(np.log10(low), np.log10(gap.max()), levels)
    norm = LogNorm(low, gap.max())
    ax.contour(X, Y, gap, levels=lines, norm=norm, cmap=CONTOUR_COLORS, linewidths=0.7)
    fig.colorbar(ScalarMappable(norm, CONTOUR_COLORS), ax=ax, label="f - f_min (log scale)", fraction=0.046, pad=0.03)
    for name, path in paths.items():
        path = np.asarray(path, dtype=np.float64)
        (line,) = ax.plot(path[:, 0], path[:, 1], linewidth=1.4, alpha=0.9, label=name)
        ax.plot(path[-1, 0], path[-1, 1], "o", color=line.get_color(), markersize=5, markeredgecolor="black")
    starts = sorted({tuple(np.asarray(p, dtype=np.float64)[0]) for p in paths.values()})
    for i, (sx, sy) in enumerate(starts):
        ax.plot(sx, sy, "s", color="white", markeredgecolor="black", markersize=8, label="start" if i == 0 else None)
    for i, (mx, my) in enumerate(surface.minima):
        ax.plot(mx, my, "*", color="gold", markeredgecolor="black", markersize=15,
                label="minimum" if i == 0 else None, zorder=5)
    ax.set_xlim(*surface.xlim)
    ax.set_ylim(*surface.ylim)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(title or surface.name)
    ax.legend(fontsize=8, loc="best", framealpha=0.85)
    return fig


def plot_losses(curves, ax=None, title=None, x=None, xlabel="step", ylabel="loss", log=True, floor=None,
                reference=None):
    """One line per named curve (``{name: values}``); return the Figure.

    ``x`` gives the x values, shared by the curves (default 0, 1, 2, ...). ``log`` puts the
    y axis on a log scale, where a steady rate of progress is a straight line; ``floor``
    cuts it off below that value (e.g. round-off level; a curve that reaches exactly 0
    simply leaves the plot). ``reference`` is an optional ``(value, label)`` drawn as a
    dashed horizontal line. NaN or infinite values (a diverged run) are left out.
    """
    fig, ax = _axes(ax)
    highest = -np.inf
    for name, values in curves.items():
        values = np.asarray(values, dtype=np.float64)
        steps = np.arange(len(values)) if x is None else np.asarray(x)[:len(values)]
        ax.plot(steps, values, linewidth=1.4, label=name)
        finite = values[np.isfinite(values)]
        highest = max(highest, finite.max(initial=-np.inf))
    if reference is not None:
        ax.axhline(reference[0], color="#555555", linestyle="--", linewidth=1, label=reference[1])
        highest = max(highest, reference[0])
    if log:
        ax.set_yscale("log")
    if floor is not None and np.isfinite(highest):
        # explicit limits: exact zeros on a log axis would otherwise stretch the autoscale
        ax.set_ylim(floor, highest * (10 if log else 1.1))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig
