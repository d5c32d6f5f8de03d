"""Decision-boundary figures: any scoring function or Module, two or more classes."""
import numpy as np
import pytest
from matplotlib.figure import Figure

import deepprimer as dp
from deepprimer import nn
from deepprimer.viz.boundary import (
    class_probabilities,
    plot_decision_boundaries,
    plot_decision_boundary,
)
from deepprimer.viz.style import save_figure


def two_blobs(n=40):
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], n // 2)
    X = rng.normal(0.0, 0.3, size=(n, 2)) + np.where(y[:, None] == 1, 1.0, -1.0)
    return X.astype(np.float32), y


def linear_logits(points):
    """Class 1 when x1 + x2 > 0: separates the two blobs perfectly."""
    z = points[:, 0] + points[:, 1]
    return np.stack([-z, z], axis=1)


def not_blank(fig, tmp_path, name):
    import matplotlib.image as mpimg

    path = save_figure(fig, str(tmp_path / name))
    pixels = mpimg.imread(path)
    return pixels.std() > 0.05


def test_a_function_of_points_gives_a_figure_with_its_accuracy(tmp_path):
    X, y = two_blobs()
    fig = plot_decision_boundary(linear_logits, X, y, title="linear")
    assert isinstance(fig, Figure)
    title = fig.axes[0].get_title()
    assert title.startswith("linear\n") and "accuracy 1.000 (0 of 40 points wrong)" in title
    assert not_blank(fig, tmp_path, "one.png")


def test_misclassified_points_are_counted():
    X, y = two_blobs()
    fig = plot_decision_boundary(lambda p: -linear_logits(p), X, y)  # every point on the wrong side
    assert "accuracy 0.000 (40 of 40 points wrong)" in fig.axes[0].get_title()


def test_a_module_and_three_classes(tmp_path):
    dp.manual_seed(0)
    X = np.random.default_rng(1).normal(size=(30, 2)).astype(np.float32)
    y = np.arange(30) % 3
    fig = plot_decision_boundary(nn.Linear(2, 3), X, y, resolution=40)
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert {"class 0", "class 1", "class 2", "misclassified"} <= set(labels)
    assert not_blank(fig, tmp_path, "three.png")


def test_class_probabilities_from_logits_single_scores_and_probabilities():
    points = np.array([[0.0, 0.0], [1.0, 2.0], [-3.0, 0.5]], dtype=np.float32)
    probs = class_probabilities(linear_logits, points)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(probs[0], [0.5, 0.5])
    # softmax of the logits (-z, z) is sigmoid(2z) for class 1: the same as one logit 2z
    single = class_probabilities(lambda p: 2 * (p[:, 0] + p[:, 1]), points)
    np.testing.assert_allclose(single, probs, rtol=1e-6)
    given = class_probabilities(lambda p: np.tile([0.2, 0.8], (len(p), 1)), points, softmax=False)
    np.testing.assert_allclose(given, np.tile([0.2, 0.8], (3, 1)))


def test_panels_side_by_side_share_one_legend(tmp_path):
    X, y = two_blobs()
    fig = plot_decision_boundaries([("a", linear_logits), ("b", lambda p: -linear_logits(p))], X, y,
                                   resolution=30, suptitle="two")
    assert len(fig.axes) == 2
    assert fig.axes[0].get_legend() is not None and fig.axes[1].get_legend() is None
    assert fig.axes[1].get_title().startswith("b\n")
    assert not_blank(fig, tmp_path, "two.png")


def test_bad_input_is_refused_with_a_clear_error():
    X, y = two_blobs()
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        plot_decision_boundary(linear_logits, np.zeros((5, 3)), y[:5])
    with pytest.raises(ValueError, match="at least one"):
        plot_decision_boundaries([], X, y)
