"""Figures drawn from live computation; every function returns a matplotlib Figure."""
from .activations import plot_activation_functions
from .boundary import class_probabilities, plot_decision_boundaries, plot_decision_boundary
from .classification import plot_confusion_matrix, plot_image_grid
from .curves import plot_history
from .evolution import plot_boundary_frames, save_boundary_animation
from .graph import plot_computation_graph
from .histograms import plot_histograms
from .lr_finder import plot_lr_range_test
from .network import plot_network
from .style import save_figure
from .trajectories import plot_losses, plot_trajectories
from .weights import plot_weight_histograms, weight_values

__all__ = [
    "plot_activation_functions", "plot_decision_boundary", "plot_confusion_matrix", "plot_image_grid",
    "plot_history", "plot_boundary_frames", "save_boundary_animation", "plot_computation_graph",
    "plot_histograms", "plot_lr_range_test", "plot_network", "save_figure", "plot_losses",
    "plot_trajectories", "plot_decision_boundaries", "class_probabilities", "plot_weight_histograms",
    "weight_values",
]
