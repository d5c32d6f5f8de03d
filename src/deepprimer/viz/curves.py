"""Learning curves: loss and metrics per epoch, training beside validation.

A validation curve that turns up while the training curve keeps falling is the picture
of overfitting.
"""
from matplotlib.ticker import MaxNLocator

from .style import TRAIN_COLOR, VAL_COLOR, new_figure


def plot_history(history, metrics=None, title=None):
    """One panel for the loss and one per metric, train and validation; returns the Figure."""
    logs = history.history if hasattr(history, "history") else dict(history)
    if metrics is None:
        metrics = [k for k in logs if not k.startswith("val_") and k not in ("loss", "lr", "time")]
    panels = ["loss"] + list(metrics)
    fig, axes = new_figure(ncols=len(panels))
    for ax, name in zip(axes[0], panels):
        epochs = range(1, len(logs[name]) + 1)
        marker = "o" if len(epochs) <= 60 else None  # markers on hundreds of epochs make a thick band
        ax.plot(epochs, logs[name], color=TRAIN_COLOR, marker=marker, markersize=3, label=f"train {name}")
        if f"val_{name}" in logs:
            ax.plot(epochs, logs[f"val_{name}"], color=VAL_COLOR, marker=marker, markersize=3,
                    label=f"validation {name}")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
        ax.set_ylabel(name)
        ax.set_title(name)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
