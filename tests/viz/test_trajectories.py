"""plot_trajectories and plot_losses: what they draw, alone or into a panel."""
import matplotlib.pyplot as plt
import numpy as np

from deepprimer.labs.surfaces import ROSENBROCK, SADDLE
from deepprimer.viz.style import new_figure
from deepprimer.viz.trajectories import plot_losses, plot_trajectories


def test_plot_trajectories_draws_each_path_the_start_and_every_minimum():
    paths = {"a": np.array([[-1.2, 1.0], [-1.0, 0.9], [0.0, 0.0]]), "b": np.array([[-1.2, 1.0], [0.5, 0.5]])}
    fig = plot_trajectories(ROSENBROCK, paths, title="two paths")
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["a", "b", "start", "minimum"]
    np.testing.assert_array_equal(ax.lines[0].get_xydata(), paths["a"])
    assert ax.get_title() == "two paths" and ax.get_xlim() == ROSENBROCK.xlim
    assert len(fig.axes) == 2  # the panel and its log-scale colour bar
    plt.close(fig)


def test_plot_trajectories_marks_both_minima_of_the_saddle_and_draws_into_a_given_panel():
    fig, axes = new_figure(ncols=2)
    returned = plot_trajectories(SADDLE, {"path": np.array([[-1.8, 0.001], [0.0, 1.0]])}, ax=axes[0][1])
    assert returned is fig
    stars = [line for line in axes[0][1].lines if line.get_marker() == "*"]
    assert sorted(tuple(line.get_xydata()[0]) for line in stars) == sorted(SADDLE.minima)
    assert not axes[0][0].lines  # the other panel is untouched
    plt.close(fig)


def test_plot_losses_log_scale_floor_reference_and_zeros():
    curves = {"fast": np.array([1.0, 1e-3, 1e-9, 0.0]), "slow": np.array([1.0, 0.5, 0.25, 0.125]),
              "diverged": np.array([1.0, 10.0, np.inf, np.nan])}
    fig = plot_losses(curves, floor=1e-12, reference=(0.5, "half"), title="t")
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    bottom, top = ax.get_ylim()
    assert bottom == 1e-12 and top == 100.0  # 10 x the largest finite value, zeros ignored
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["fast", "slow", "diverged", "half"]
    plt.close(fig)


def test_plot_losses_shared_x_values_on_a_linear_axis():
    fig = plot_losses({"acc": [0.2, 0.5, 0.9]}, x=np.arange(1, 4), log=False, xlabel="epoch")
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [1, 2, 3])
    assert ax.get_yscale() == "linear" and ax.get_xlabel() == "epoch"
    plt.close(fig)


def test_any_object_with_a_grid_will_do_as_a_surface():
    class Bowl:
        name, xlim, ylim, minima, min_value = "bowl", (-1.0, 1.0), (-1.0, 1.0), [(0.0, 0.0)], 0.0

        def grid(self, n):
            X, Y = np.meshgrid(np.linspace(-1, 1, n), np.linspace(-1, 1, n))
            return X, Y, X ** 2 + Y ** 2

    fig = plot_trajectories(Bowl(), {"descent": np.array([[0.8, 0.6], [0.4, 0.3], [0.0, 0.0]])})
    assert fig.axes[0].get_title() == "bowl"
    plt.close(fig)
