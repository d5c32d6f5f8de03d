"""plot_lr_range_test: the curve, the suggestion and the marked rates."""
import matplotlib.pyplot as plt
import numpy as np

from deepprimer.train.lr_finder import LRRangeTest
from deepprimer.viz.lr_finder import plot_lr_range_test


def fake_result():
    lrs = np.geomspace(1e-4, 10, 40)
    losses = 2.0 - np.tanh(np.log10(lrs) + 1.5) + np.where(lrs > 1, 3 * np.log10(lrs) ** 2, 0.0)
    return LRRangeTest(lrs, losses, losses + 0.1, suggested_lr=0.03, diverged=True)


def test_plot_lr_range_test_draws_curves_suggestion_and_marks():
    fig = plot_lr_range_test(fake_result(), marks={"by hand": 0.5})
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:2] == ["mini-batch loss", "smoothed loss"]
    assert any("suggested lr 0.03" in label for label in labels)
    assert "by hand (lr 0.5)" in labels
    vertical = [line.get_xdata()[0] for line in ax.lines if len(line.get_xdata()) == 2
                and line.get_xdata()[0] == line.get_xdata()[1]]
    assert 0.03 in vertical and 0.5 in vertical
    plt.close(fig)


def test_plot_lr_range_test_into_a_given_axis():
    fig, ax = plt.subplots()
    assert plot_lr_range_test(fake_result(), ax=ax, title="mine") is fig
    assert ax.get_title() == "mine"
    plt.close(fig)
