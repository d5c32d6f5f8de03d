"""The confusion matrix and image-grid figures."""
import numpy as np
import pytest
from matplotlib.figure import Figure

from deepprimer.viz.classification import plot_confusion_matrix, plot_image_grid


def cell_texts(fig):
    return sorted(t.get_text() for t in fig.axes[0].texts)


def test_confusion_matrix_writes_every_nonzero_count():
    counts = np.array([[5, 1, 0], [0, 7, 2], [0, 0, 9]])
    fig = plot_confusion_matrix(counts, ["a", "b", "c"], title="demo")
    assert isinstance(fig, Figure)
    assert cell_texts(fig) == sorted(["5", "1", "7", "2", "9"])
    ax = fig.axes[0]
    assert ax.get_title() == "demo\n21 of 24 correct (diagonal, blue), 3 mistakes (red)"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"


def test_confusion_matrix_without_mistakes_and_without_names():
    fig = plot_confusion_matrix(np.diag([3, 4]))
    assert cell_texts(fig) == ["3", "4"]
    assert "0 mistakes" in fig.axes[0].get_title()


def test_confusion_matrix_must_be_square():
    with pytest.raises(ValueError, match="square"):
        plot_confusion_matrix(np.zeros((2, 3)))


def test_image_grid_draws_each_image_with_its_title():
    images = np.random.default_rng(0).random((5, 1, 8, 8))
    fig = plot_image_grid(images, [f"image {k}" for k in range(5)], ncols=3, title_colors="red",
                          suptitle="five")
    drawn = [ax for ax in fig.axes if ax.images]
    assert len(drawn) == 5 and len(fig.axes) == 6  # a 2x3 grid, the last cell left empty
    assert [ax.get_title() for ax in drawn] == [f"image {k}" for k in range(5)]
    np.testing.assert_array_equal(drawn[2].images[0].get_array(), images[2, 0])


def test_image_grid_refuses_an_empty_batch():
    with pytest.raises(ValueError, match="non-empty"):
        plot_image_grid(np.zeros((0, 8, 8)))
