"""Lab descent (--quick): the report, its figures and checks; the surfaces and their minima."""
import re

import numpy as np
import pytest

import deepprimer as dp
from deepprimer.labs import descent
from deepprimer.labs.surfaces import QUADRATIC, SURFACES
from lab_checks import assert_checks_pass_and_are_reported, assert_figures, run_quick

FIGURES = ["trajectories.png", "losses.png", "learning_rates.png", "batch_size.png", "lr_range_test.png"]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    return run_quick(tmp_path_factory, "descent")


def test_every_check_passes_and_is_in_the_report(lab):
    _, report, markdown = lab
    assert_checks_pass_and_are_reported(report, markdown, 11)


def test_report_files_and_figures(lab):
    out, _, markdown = lab
    assert_figures(out, markdown, FIGURES, min_width=600, min_height=400)


def quadratic_sgd():
    """SGD on the quadratic once more: (lr, final gap, final distance, first step within NEAR)."""
    lr = descent.RATES[QUADRATIC.name]["SGD"]
    path, losses = descent.descend(QUADRATIC, descent.OPTIMIZERS["SGD"], lr, descent.SURFACE_STEPS)
    assert path.shape == (descent.SURFACE_STEPS + 1, 2) and losses.shape == (descent.SURFACE_STEPS + 1,)
    distance = np.hypot(path[:, 0], path[:, 1])
    return lr, QUADRATIC.gap(losses)[-1], distance[-1], descent.first_step(distance < descent.NEAR)


def check_value(report, start):
    return next(c.value for c in report.checks if c.description.startswith(start))


def test_numbers_in_the_report_come_from_the_run(lab):
    """The 2-D race is deterministic, so a rerun must print the same row; the rest is cross-checked."""
    _, report, markdown = lab
    lr, gap, distance, reached = quadratic_sgd()
    assert f"| {QUADRATIC.name} | SGD | {lr:.4g} | {gap:.4g} | {distance:.4g} | {reached} |" in markdown
    assert f"within 0.001 of the minimum at step {reached}" in markdown
    assert f"The suggestion, lr {check_value(report, 'the suggested lr'):.3g}, is where" in markdown
    assert check_value(report, "the range test restored") == 0
    noise = {size: float(re.search(rf"\| batch {size} \| {updates} \| [\d.e-]+ \| ([\d.]+) \|", markdown).group(1))
             for size, updates in ((1, 1257), (32, 40))}
    ratio = check_value(report, "mini-batch gradient noise")
    assert noise[1] / noise[32] == pytest.approx(ratio, rel=1e-3)


@pytest.mark.parametrize("surface", SURFACES, ids=lambda s: s.name)
def test_each_surface_is_flat_and_lowest_at_its_minima(surface):
    for minimum in surface.minima:
        point = dp.tensor(minimum, dtype=dp.float64, requires_grad=True)
        value = surface(point)
        value.backward()
        assert value.item() == pytest.approx(surface.min_value, abs=1e-12)
        np.testing.assert_allclose(point.grad.numpy(), 0.0, atol=1e-12)
    X, Y, Z = surface.grid(50)
    assert X.shape == Y.shape == Z.shape == (50, 50)
    assert Z.min() >= surface.min_value - 1e-12
    assert surface.distance_to_minimum(surface.minima[0]) == 0


def test_gradient_noise_is_zero_for_the_full_batch_and_shrinks_with_size():
    rng = np.random.default_rng(0)
    X = rng.random((64, 64), dtype=np.float32)
    y = rng.integers(0, 10, 64)
    data = {"train": (X, y)}
    model = descent.fresh_model(0)
    assert descent.gradient_noise(model, data, 64, draws=5, rng=rng) == 0.0
    small = descent.gradient_noise(model, data, 1, draws=50, rng=rng)
    large = descent.gradient_noise(model, data, 16, draws=50, rng=rng)
    assert small > large > 0
