"""Looking at a classifier's mistakes: the confusion matrix and a grid of images.

Accuracy is one number; the confusion matrix says which classes are taken for which
(row = the true class, column = the predicted one, so everything off the diagonal is a
mistake). Looking at the mistaken images themselves tells whether the model is silly or
the examples are genuinely ambiguous.
"""
import matplotlib
import numpy as np

from .style import new_figure


def plot_confusion_matrix(counts, class_names=None, title=None):
    """Draw ``counts[i, j]`` (samples of true class i predicted as j) as a labelled grid.

    Correct predictions (the diagonal) are shaded blue, mistakes red, each on its own
    scale so that a handful of errors beside large diagonal counts still stands out; every
    non-zero cell shows its count. Returns the Figure.
    """
    counts = np.asarray(counts)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1]:
        raise ValueError(f"plot_confusion_matrix: counts must be a square (C, C) array, got shape {counts.shape}")
    n = counts.shape[0]
    names = list(class_names) if class_names is not None else [str(c) for c in range(n)]
    diagonal = np.eye(n, dtype=bool)
    blues, reds = matplotlib.colormaps["Blues"], matplotlib.colormaps["Reds"]
    most_right = max(np.diagonal(counts).max(), 1)
    most_wrong = max(np.where(diagonal, 0, counts).max(), 1)
    cells = np.ones((n, n, 4))  # white where nothing was predicted
    for i, j in zip(*np.nonzero(counts)):  # the middle of each colour map: never white, never black
        cells[i, j] = (blues(0.25 + 0.7 * counts[i, j] / most_right) if i == j
                       else reds(0.3 + 0.55 * counts[i, j] / most_wrong))
    fig, axes = new_figure(width=0.55 * n + 2.5, height=0.55 * n + 1.8)
    ax = axes[0][0]
    ax.imshow(cells)
    for i, j in zip(*np.nonzero(counts)):
        luminance = cells[i, j, :3] @ [0.299, 0.587, 0.114]
        ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=9,
                color="white" if luminance < 0.5 else "black")
    ax.set_xticks(range(n), names)
    ax.set_yticks(range(n), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    total, right = counts.sum(), np.trace(counts)
    heading = f"{title}\n" if title else ""
    ax.set_title(f"{heading}{right} of {total} correct (diagonal, blue), {total - right} mistakes (red)",
                 fontsize=10)
    fig.tight_layout()
    return fig


def plot_image_grid(images, titles=None, ncols=6, title_colors=None, suptitle=None, cmap="gray_r",
                    cell_size=1.7):
    """Show images in a grid, each with an optional title (e.g. "true 3, predicted 8").

    ``images``: (N, H, W), (N, 1, H, W) or (N, H, W, 3) arrays; grey images are drawn with
    ``cmap`` ("gray_r": dark ink on white paper). ``title_colors`` is one colour per image
    or one for all. Returns the Figure.
    """
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[1] == 1:
        images = images[:, 0]
    if len(images) == 0 or images.ndim not in (3, 4):
        raise ValueError(f"plot_image_grid: need a non-empty batch of (H, W) or (H, W, 3) images, "
                         f"got shape {images.shape}")
    count = len(images)
    ncols = min(ncols, count)
    nrows = -(-count // ncols)
    fig, axes = new_figure(ncols=ncols, nrows=nrows, width=cell_size, height=cell_size + 0.6)
    palette = title_colors if isinstance(title_colors, (list, tuple)) else [title_colors] * count
    for k, ax in enumerate(axes.ravel()):
        if k >= count:
            ax.axis("off")
            continue
        ax.imshow(images[k], cmap=cmap if images.ndim == 3 else None, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():  # a thin frame shows where the image ends
            spine.set_color("#bbbbbb")
        if titles is not None:
            ax.set_title(titles[k], fontsize=9, color=palette[k] or "black")
    if suptitle:
        fig.suptitle(suptitle)
    fig.set_layout_engine("constrained")  # spaces two-line titles and the suptitle, unlike tight_layout here
    return fig
