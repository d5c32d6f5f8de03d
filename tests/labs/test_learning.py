"""Lab learning (--quick): the report, its figures, the GIF, the checks, and numbers from the run."""
import re

import numpy as np
import pytest
from PIL import Image

import deepprimer as dp
from deepprimer.labs import learning
from deepprimer.models import MLP
from lab_checks import assert_checks_pass_and_are_reported, assert_figures, check_values, run_quick

FIGURES = ["learning_curves.png", "boundary_evolution.gif", "boundary_frames.png", "activations.png",
           "gradients.png", "vanishing_gradients.png", "computation_graph.png"]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    return run_quick(tmp_path_factory, "learning")


def test_every_check_passes_and_is_in_the_report(lab):
    _, report, markdown = lab
    assert_checks_pass_and_are_reported(report, markdown, 9)


def test_report_files_and_figures(lab):
    out, _, markdown = lab
    assert_figures(out, markdown, FIGURES, min_width=500, min_height=300)


def test_the_gif_is_animated_with_one_frame_per_snapshot(lab):
    out, report, markdown = lab
    frames = next(v for d, v in check_values(report).items() if d.startswith("the GIF"))
    with Image.open(out / "boundary_evolution.gif") as gif:
        assert gif.n_frames == frames == 11  # quick: the initial weights and every 60th of 600 epochs
        gif.seek(gif.n_frames - 1)
        assert np.asarray(gif.convert("RGB")).std() > 10
    assert f"The animation has {frames} frames" in markdown


def test_numbers_in_the_report_come_from_the_run(lab):
    _, report, markdown = lab
    values = check_values(report)
    assert f"Validation accuracy ended at {values['final validation accuracy >= 0.9']:.3f}" in markdown
    sigmoid = values["sigmoid: first-layer gradient < 1e-3 x last layer's"]
    assert f"its first layer's gradient norm is {sigmoid:.2e} times its last layer's" in markdown
    loss, _ = learning.neuron_loss(learning.NEURON)
    assert f"so L = {loss.data:.4f}" in markdown
    differences = [float(re.search(rf"^\| {name} \|(?: [^|]+ \|){{3}} ([^|]+) \|$", markdown, flags=re.M).group(1))
                   for name in learning.NEURON]  # the finite-difference table's last column
    assert max(differences) == pytest.approx(values["graph gradients = finite differences (max abs diff < 1e-6)"],
                                             rel=0.06)


def test_health_tables_have_one_row_per_layer(lab):
    _, _, markdown = lab
    assert len(re.findall(r"^\| 1 \| \d+: Linear", markdown, flags=re.M)) == 3
    assert len(re.findall(r"^\| 600 \| \d+: Linear", markdown, flags=re.M)) == 3
    assert len(re.findall(r"^\| ReLU, SGD lr 2 \| ", markdown, flags=re.M)) == 3


def test_layer_signals_catch_each_examples_gradient():
    dp.manual_seed(0)
    model = MLP([2, 5, 3], activation="tanh")
    X = np.random.default_rng(0).normal(size=(7, 2)).astype(np.float32)
    y = np.array([0, 1, 2, 0, 1, 2, 0])
    signals = learning.layer_signals(model, X, y)
    h = np.tanh(X @ model[0].weight.data.T + model[0].bias.data)
    np.testing.assert_allclose(signals["activations"]["layer 1 (Tanh)"], h, rtol=1e-5)
    logits = h @ model[2].weight.data.T + model[2].bias.data
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    # d(sum of losses)/dh = (softmax - one-hot) W: one row per example
    expected = (p - np.eye(3)[y]) @ model[2].weight.data
    np.testing.assert_allclose(signals["gradients"]["layer 1 (Tanh)"], expected, rtol=1e-4, atol=1e-6)
    assert all(p.grad is None for p in model.parameters())
