"""Decision boundaries: what a 2-D classifier predicts at every point of the plane.

A classifier splits its input space into regions, one per class; the decision boundary
is where the predicted class changes. For two input features we can simply look: ask the
model for its class probabilities on a fine grid of points covering the data, paint each
point with a blend of the class colours weighted by those probabilities (strong colour
where the model is sure, pale where it hesitates), and draw the line where the top class
changes. The data go on top, and the points on the wrong side of the line are ringed.
"""
import numpy as np
from matplotlib.colors import to_rgb
from matplotlib.lines import Line2D

from ..nn import Module
from ..train import predict
from .style import new_figure

CLASS_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]


def class_probabilities(model, points, softmax=True):
    """(m, C) class probabilities of ``model`` at ``points`` (an (m, 2) array).

    ``model`` is a :class:`deepprimer.nn.Module` or any function from an (m, 2) NumPy array
    to scores: (m, C) logits, or (m,) / (m, 1) single logits (> 0 means class 1). With
    ``softmax=False`` the scores are taken to be probabilities already.
    """
    points = np.asarray(points, dtype=np.float32)
    scores = predict(model, points) if isinstance(model, Module) else model(points)
    scores = np.asarray(scores, dtype=np.float64).reshape(len(points), -1)
    if scores.shape[1] == 1:  # one logit z for class 1: p1 = sigmoid(z)
        p1 = 1.0 / (1.0 + np.exp(-scores[:, 0])) if softmax else scores[:, 0]
        return np.stack([1.0 - p1, p1], axis=1)
    if not softmax:
        return scores
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))  # softmax, safe from overflow
    return shifted / shifted.sum(axis=1, keepdims=True)


def _grid(X, resolution, padding):
    low, high = X.min(axis=0) - padding, X.max(axis=0) + padding
    xs, ys = np.linspace(low[0], high[0], resolution), np.linspace(low[1], high[1], resolution)
    xx, yy = np.meshgrid(xs, ys)
    return xx, yy, np.stack([xx.ravel(), yy.ravel()], axis=1)


def plot_decision_boundary(model, X, y, ax=None, title=None, class_names=None, resolution=150,
                           padding=0.5, softmax=True, feature_names=("x1", "x2"), legend=True):
    """Draw ``model``'s class regions and decision boundary over the labelled points (X, y).

    model          a Module or a function points -> scores (see :func:`class_probabilities`)
    X, y           (n, 2) points and their (n,) integer classes, drawn on top
    ax             an Axes to draw into (a new figure when None)
    title          the panel's title; the accuracy on (X, y) is added under it
    resolution     grid points per axis (resolution**2 model evaluations)

    Returns the matplotlib Figure.
    """
    X, y = np.asarray(X), np.asarray(y).reshape(-1).astype(np.int64)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary: X must have shape (n, 2), got {X.shape}")
    if ax is None:
        _, axes = new_figure(width=5.0, height=4.2)
        ax = axes[0][0]
    xx, yy, points = _grid(X, resolution, padding)
    probs = class_probabilities(model, points, softmax)
    n_classes = max(probs.shape[1], int(y.max()) + 1)
    colours = [CLASS_COLORS[c % len(CLASS_COLORS)] for c in range(n_classes)]
    palette = np.array([to_rgb(c) for c in colours[:probs.shape[1]]])
    blend = probs @ palette  # each grid point: the class colours mixed by probability
    background = 1.0 - 0.45 * (1.0 - blend)  # pale, so the points stay readable
    ax.imshow(background.reshape(resolution, resolution, 3), origin="lower", aspect="auto",
              extent=(xx.min(), xx.max(), yy.min(), yy.max()), interpolation="bilinear")
    for c in range(probs.shape[1]):  # region of class c: where p_c beats every other class
        margin = probs[:, c] - np.delete(probs, c, axis=1).max(axis=1)
        if margin.min() < 0 < margin.max():
            ax.contour(xx, yy, margin.reshape(xx.shape), levels=[0.0], colors="black", linewidths=1.4)
    names = class_names or [f"class {c}" for c in range(n_classes)]
    for c in range(n_classes):
        members = X[y == c]
        ax.scatter(members[:, 0], members[:, 1], s=16, color=colours[c], edgecolor="white",
                   linewidth=0.4, label=names[c], zorder=3)
    predicted = class_probabilities(model, X, softmax).argmax(axis=1)
    wrong = predicted != y
    ax.scatter(X[wrong, 0], X[wrong, 1], s=70, facecolors="none", edgecolors="black",
               linewidth=1.2, label="misclassified", zorder=4)
    accuracy = 1.0 - float(wrong.mean())
    heading = f"{title}\n" if title else ""
    ax.set_title(f"{heading}accuracy {accuracy:.3f} ({int(wrong.sum())} of {len(y)} points wrong)", fontsize=10)
    ax.set_xlabel(feature_names[0])
    ax.set_ylabel(feature_names[1])
    if legend:
        handles, labels = ax.get_legend_handles_labels()
        handles.append(Line2D([], [], color="black", linewidth=1.4))
        labels.append("decision boundary")
        ax.legend(handles, labels, fontsize=8, loc="best", framealpha=0.85)
    return ax.figure


def plot_decision_boundaries(panels, X, y, suptitle=None, **options):
    """Several models side by side on the same points: ``panels`` is [(title, model), ...].

    Every panel uses the same grid, so the boundaries can be compared directly; the legend
    is drawn once, in the first panel. ``options`` go to :func:`plot_decision_boundary`.
    Returns the Figure.
    """
    panels = list(panels)
    if not panels:
        raise ValueError("plot_decision_boundaries: give at least one (title, model) panel")
    fig, axes = new_figure(ncols=len(panels), width=4.6, height=4.4)
    for i, (ax, (title, model)) in enumerate(zip(axes[0], panels)):
        plot_decision_boundary(model, X, y, ax=ax, title=title, legend=i == 0, **options)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig
