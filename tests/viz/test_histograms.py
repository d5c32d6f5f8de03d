"""plot_histograms: one panel per array, or overlaid series, heights as shares of the values."""
import matplotlib.image as mpimg
import numpy as np
import pytest
from matplotlib.figure import Figure

from deepprimer.viz.histograms import plot_histograms
from deepprimer.viz.style import save_figure

RNG = np.random.default_rng(0)


def test_one_panel_per_entry_and_spare_axes_hidden(tmp_path):
    arrays = {f"layer {i}": RNG.normal(size=100) for i in range(5)}
    fig = plot_histograms(arrays, ncols=3, title="five layers")
    assert isinstance(fig, Figure)
    visible = [ax for ax in fig.axes if ax.axison]
    assert [ax.get_title() for ax in visible] == list(arrays)
    assert len(fig.axes) == 6 and not fig.axes[5].axison
    assert mpimg.imread(save_figure(fig, str(tmp_path / "h.png"))).std() > 0.05


def test_overlaid_series_share_bins_and_heights_are_shares():
    early, late = RNG.normal(size=200), RNG.normal(2, 1, size=50)
    ax = plot_histograms({"layer 1": {"epoch 1": early, "epoch 9": late}}, bins=20).axes[0]
    assert len(ax.patches) == 2
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0].startswith("epoch 1 (mean") and labels[1].startswith("epoch 9 (mean")
    edges = np.histogram_bin_edges(np.concatenate([early, late]), bins=20)
    for patch, values in zip(ax.patches, (early, late)):  # the tallest bar: that bin's share of the series
        shares = np.histogram(values, bins=edges)[0] / values.size
        assert patch.get_path().vertices[:, 1].max() == pytest.approx(shares.max())


def test_sharex_gives_every_panel_the_same_range():
    fig = plot_histograms({"small": RNG.normal(0, 0.01, 100), "large": RNG.normal(0, 10, 100)}, sharex=True)
    assert fig.axes[0].get_xlim() == pytest.approx(fig.axes[1].get_xlim())
    fig = plot_histograms({"small": RNG.normal(0, 0.01, 100), "large": RNG.normal(0, 10, 100)})
    assert fig.axes[0].get_xlim()[1] < fig.axes[1].get_xlim()[1]


def test_nothing_to_plot_is_refused():
    with pytest.raises(ValueError, match="nothing to plot"):
        plot_histograms({})
