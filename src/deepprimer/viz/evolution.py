"""The decision boundary as training moves it: a grid of frames, and an animated GIF.

To watch a boundary form, copy the model's weights every few epochs during training (a
*snapshot*: ``deepprimer.train.callbacks.snapshot(model)``, in a callback). Afterwards
each snapshot is loaded back into the model and drawn with
:func:`deepprimer.viz.boundary.plot_decision_boundary`, so every frame is exactly the
network of that epoch: from the near-straight line of a freshly initialised network to
the shape of the data. The model gets its own weights back when drawing is done.
The GIF is written by matplotlib's PillowWriter (Pillow comes with matplotlib: no other
program needed).
"""
from contextlib import contextmanager

from matplotlib.animation import PillowWriter

from ..atomic import atomic_path
from ..train.callbacks import snapshot
from .boundary import plot_decision_boundary
from .style import new_figure, plt


def plot_boundary_frames(model, snapshots, X, y, ncols=4, title=None, resolution=100):
    """A grid of frames, ``snapshots`` a list of (caption, state dict); returns the Figure.

    Each panel's title is its caption, with the accuracy on the points drawn (X, y).
    """
    snapshots = list(snapshots)
    if not snapshots:
        raise ValueError("plot_boundary_frames: no snapshots to draw")
    nrows = -(-len(snapshots) // ncols)
    fig, axes = new_figure(ncols=ncols, nrows=nrows, width=3.3, height=3.3)
    with _restoring(model):
        for i, (ax, (caption, state)) in enumerate(zip(axes.flat, snapshots)):
            model.load_state_dict(state)
            plot_decision_boundary(model, X, y, ax=ax, title=caption, resolution=resolution, legend=i == 0)
    for ax in list(axes.flat)[len(snapshots):]:
        ax.axis("off")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def save_boundary_animation(model, snapshots, X, y, path, fps=5, dpi=80, resolution=100):
    """Write one frame per snapshot as an animated GIF at ``path`` (atomically); returns the path.

    Each frame's title is its snapshot's caption, with the accuracy on the points drawn.
    """
    fig, axes = new_figure(width=4.8, height=4.6)
    ax = axes[0][0]
    try:
        writer = PillowWriter(fps=fps)
        # Pillow picks the format by the suffix
        with atomic_path(path, suffix=".gif") as tmp, _restoring(model), writer.saving(fig, tmp, dpi):
            for caption, state in snapshots:
                ax.clear()
                model.load_state_dict(state)
                plot_decision_boundary(model, X, y, ax=ax, title=caption, resolution=resolution, legend=False)
                writer.grab_frame()
    finally:
        plt.close(fig)
    return path


@contextmanager
def _restoring(model):
    """Give ``model`` its own weights back after the snapshots have been loaded into it."""
    own = snapshot(model)
    try:
        yield
    finally:
        model.load_state_dict(own)
