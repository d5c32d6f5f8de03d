"""Lab classify (--quick): the report, its figures and checks, and the three builds' agreement."""
import re

import numpy as np
import pytest

from deepprimer.labs import classify
from lab_checks import assert_checks_pass_and_are_reported, assert_figures, run_quick

FIGURES = ["training_loss.png", "moons_boundaries.png", "spiral_boundaries.png", "digits_curves.png",
           "digits_confusion.png", "digits_wrong.png"]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    return run_quick(tmp_path_factory, "classify")


def test_every_check_passes_and_is_in_the_report(lab):
    _, report, markdown = lab
    assert_checks_pass_and_are_reported(report, markdown, 8)


def test_report_files_and_figures(lab):
    out, _, markdown = lab
    assert_figures(out, markdown, FIGURES, min_width=500, min_height=200)


def test_numbers_in_the_report_come_from_the_run(lab):
    _, report, markdown = lab
    checks = {c.description: c.value for c in report.checks}
    digits = next(v for d, v in checks.items() if d.startswith("digits test accuracy"))
    assert f"On the test images the accuracy is **{digits:.4f}**" in markdown
    for description, value in checks.items():
        if description.startswith(("moons", "spiral")):
            assert f"{value:.3f}" in markdown
    first, last = map(float, re.search(r"took the loss from ([\d.]+) to ([\d.]+)", markdown).groups())
    ratio = checks["Value network: final training loss / first <= 0.5"]
    assert last / first == pytest.approx(ratio, rel=1e-3)


def test_the_three_builds_agree_on_another_network_shape():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(6, 2)).astype(np.float32)
    y = np.array([0, 1, 1, 0, 1, 0])
    differences = classify.largest_differences(classify.compare_builds(X, y, [2, 3, 4, 2]))
    assert set(differences) == {"tensors by hand", "Value neurons"}
    for logits, loss, grads in differences.values():
        assert max(logits, loss, grads) < 1e-5


def test_most_confident_mistakes_and_top_confusions():
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    targets = np.array([1, 1, 1, 0])  # rows 0, 2, 3 are wrong, with confidence 0.9, 0.6, 0.7
    assert classify.most_confident_mistakes(probs, targets).tolist() == [0, 3, 2]
    counts = np.array([[5, 2, 0], [0, 4, 1], [3, 0, 6]])
    assert classify.top_confusions(counts, limit=2) == [(2, 0, 3), (0, 1, 2)]
