"""One look for every figure: matplotlib on the Agg back end (no display needed)."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

FORWARD_BLUE = "#1f77b4"  # the primer's colour for the forward pass
BACKWARD_RED = "#d62728"  # ... and for the backward pass
TRAIN_COLOR = "#1f77b4"
VAL_COLOR = "#ff7f0e"


def new_figure(ncols=1, nrows=1, width=5.0, height=3.8):
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False)
    return fig, axes


def publish(tmp, path):
    """Rename a finished temporary file into place, readable as a normal file would be
    (mkstemp creates files private to their owner)."""
    import os

    mask = os.umask(0)
    os.umask(mask)
    os.chmod(tmp, 0o666 & ~mask)
    os.replace(tmp, path)


def save_figure(fig, path, dpi=110):
    """Write a PNG atomically (temporary name, then rename) and free the figure."""
    import os
    import tempfile

    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, suffix=".png")
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight")
        publish(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
        plt.close(fig)
    return path
