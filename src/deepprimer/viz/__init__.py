"""Figures drawn from live computation; every function returns a matplotlib Figure."""
from .curves import plot_history
from .style import save_figure

__all__ = ["plot_history", "save_figure"]
