"""plot_weight_histograms: values and log-magnitudes per model, the share below a threshold."""
import matplotlib.image as mpimg
import numpy as np
import pytest
from matplotlib.figure import Figure

import deepprimer as dp
from deepprimer.models import MLP
from deepprimer.viz.style import save_figure
from deepprimer.viz.weights import plot_weight_histograms, weight_values


def test_weight_values_are_the_weight_matrices_without_biases():
    dp.manual_seed(0)
    model = MLP([2, 3, 4])
    values = weight_values(model)
    assert values.shape == (2 * 3 + 3 * 4,)
    np.testing.assert_array_equal(values[:6], model[0].weight.detach().numpy().ravel())


def test_two_rows_one_column_per_model_and_the_share_below_the_threshold(tmp_path):
    dp.manual_seed(0)
    sparse = np.array([0.0, 1e-5, -2e-4, 0.5, -2.0, 1e-3])  # 3 below 1e-3; 1e-3 itself is not below
    fig = plot_weight_histograms({"model": MLP([2, 8, 2]), "sparse": sparse}, threshold=1e-3, title="weights")
    assert isinstance(fig, Figure) and len(fig.axes) == 4
    top, bottom = fig.axes[1], fig.axes[3]  # the "sparse" column
    assert top.get_title().startswith("sparse\n") and "largest |w| 2" in top.get_title()
    assert bottom.get_title() == "50.00% have |w| < 0.001\n3 of 6 weights above"
    assert [line.get_xdata()[0] for line in bottom.get_lines()] == [pytest.approx(-3.0)]  # the dashed threshold
    assert fig.axes[0].get_xlim() == pytest.approx(top.get_xlim())  # one value axis for every model
    assert mpimg.imread(save_figure(fig, str(tmp_path / "w.png"))).std() > 0.05


def test_heights_are_shares_and_exact_zeros_land_in_the_leftmost_bin():
    fig = plot_weight_histograms({"zeros": np.zeros(3), "ones": np.ones(1)}, threshold=1e-2, bins=10)
    bottom = fig.axes[2]  # the "zeros" magnitudes
    heights = [patch.get_height() for patch in bottom.patches]
    assert heights[0] == pytest.approx(1.0) and sum(heights) == pytest.approx(1.0)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="nothing to plot"):
        plot_weight_histograms({})
    with pytest.raises(ValueError, match="threshold must be positive"):
        plot_weight_histograms({"a": np.ones(3)}, threshold=0)
    with pytest.raises(ValueError, match="at least one weight"):
        plot_weight_histograms({"a": np.ones(0)})
