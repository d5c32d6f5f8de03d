"""One look for every figure: matplotlib on the Agg back end (no display needed)."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from ..atomic import atomic_path  # noqa: E402

FORWARD_BLUE = "#1f77b4"  # the primer's colour for the forward pass
BACKWARD_RED = "#d62728"  # ... and for the backward pass
TRAIN_COLOR = "#1f77b4"
VAL_COLOR = "#ff7f0e"


def new_figure(ncols=1, nrows=1, width=5.0, height=3.8):
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False)
    return fig, axes


def save_figure(fig, path, dpi=110):
    """Write a PNG atomically (temporary name, then rename) and free the figure."""
    try:
        with atomic_path(path, suffix=".png") as tmp:
            fig.savefig(tmp, dpi=dpi, bbox_inches="tight")
    finally:
        plt.close(fig)
    return path
