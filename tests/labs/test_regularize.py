"""Lab regularize (--quick): the report, its figures and checks, numbers from the run, and
the lab's pieces (weight decay equivalence, the augmenting collate, the digit pages)."""
import re

import numpy as np
import pytest
from lab_checks import assert_checks_pass_and_are_reported, assert_figures, check_values, run_quick

import deepprimer as dp
from deepprimer.data import DataLoader, TensorDataset, datasets
from deepprimer.data.transforms import RandomShift
from deepprimer.labs import regularize

FIGURES = ["curves.png", "boundaries.png", "moons_accuracy.png", "weights.png", "augmentation_examples.png",
           "augmentation_accuracy.png"]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    return run_quick(tmp_path_factory, "regularize")


def value(report, start):
    return next(v for d, v in check_values(report).items() if d.startswith(start))


def results_table(markdown):
    """{(technique, strength): (train, val, test, gap, zeros %, epochs)} from the Results table."""
    number = r" \| ([+-]?[\d.]+)%?"
    rows = re.findall(r"^\| ([^|]+) \| ([^|]+)" + number * 6 + r" \|$", markdown, flags=re.MULTILINE)
    return {(r[0], r[1]): tuple(float(x) for x in r[2:]) for r in rows}


def test_every_check_passes_and_is_in_the_report(lab):
    _, report, markdown = lab
    assert_checks_pass_and_are_reported(report, markdown, 5)
    assert all("--quick" in c.description for c in report.checks[:2])  # the looser thresholds say so


def test_report_files_and_figures(lab):
    out, _, markdown = lab
    assert_figures(out, markdown, FIGURES, min_width=500, min_height=300)


def test_the_table_has_every_technique_and_agrees_with_the_checks(lab):
    _, report, markdown = lab
    table = results_table(markdown)
    settings = regularize.QUICK
    assert [name for name, _ in table] == ["no regularisation"] + ["L2 penalty"] * len(settings.l2) + [
        "L1 penalty", "dropout", "early stopping"]
    for train, _, test, gap, _, _ in table.values():
        assert gap == pytest.approx(train - test, abs=1.5e-3)
    baseline = table["no regularisation", "-"]
    assert baseline[3] == pytest.approx(value(report, "the baseline overfits"), abs=5e-4)
    best = max(row[2] for key, row in table.items() if key[0] != "no regularisation")
    assert best - baseline[2] == pytest.approx(value(report, "the best regularised"), abs=1e-3)
    l1 = table["L1 penalty", f"λ={settings.l1:g}"]
    assert l1[4] / 100 == pytest.approx(value(report, "L1 leaves more weights"), abs=5e-5)
    assert table["early stopping", f"patience {settings.patience}"][5] < settings.epochs  # it did stop early
    assert all(row[5] == settings.epochs for key, row in table.items() if key[0] != "early stopping")


def test_numbers_in_the_text_come_from_the_run(lab):
    _, report, markdown = lab
    assert f"a gap of {value(report, 'the baseline overfits'):.3f}: it has memorised noise" in markdown
    assert f"{100 * value(report, 'the best regularised'):+.1f} points over the baseline" in markdown
    assert f"{value(report, 'L1 leaves more weights'):.2%} with L1" in markdown
    sgd = value(report, "an L2 penalty in the loss")
    assert f"| SGD + penalty vs SGD(weight_decay) | {sgd:.2e} |" in markdown
    gain = value(report, "augmentation improves")
    assert f"the invariance, and augmentation changes the test accuracy by {100 * gain:+.1f} points" in markdown


def test_an_l2_penalty_is_weight_decay_for_sgd_and_adam_but_not_adamw():
    data = regularize.moons_splits(seed=3)
    differences = regularize.decay_equivalence(data, seed=3, steps=20)
    assert differences["SGD + penalty vs SGD(weight_decay)"] < 1e-6
    assert differences["Adam + penalty vs Adam(weight_decay)"] < 1e-6
    assert differences["Adam + penalty vs AdamW(weight_decay)"] > 1e-3


def test_the_collate_augments_the_images_and_keeps_the_labels():
    images = np.zeros((6, 1, 5, 5), dtype=np.float32)
    images[:, 0, 2, 2] = 1.0  # one lit pixel in the middle
    labels = np.arange(6)
    loader = DataLoader(TensorDataset(images, labels), batch_size=6,
                        collate_fn=regularize.augmenting_collate(RandomShift(1)))
    xb, yb = next(iter(loader))
    assert xb.shape == (6, 1, 5, 5) and yb.numpy().tolist() == labels.tolist()
    lit = np.argwhere(xb.numpy()[:, 0] == 1.0)[:, 1:]
    assert (np.abs(lit - 2) <= 1).all() and len(np.unique(lit, axis=0)) > 1  # moved, each its own way


def test_digit_pages_move_each_digit_by_at_most_a_pixel_without_cutting_it():
    images = datasets.digits().X[:50]
    pages = regularize.digit_pages(images, seed=0)
    assert pages.shape == (50, 1, 10, 10)
    offsets = []
    for page, image in zip(pages, images):  # the whole digit sits at one of the 3x3 offsets
        found = [(r, c) for r in range(3) for c in range(3) if np.array_equal(page[0, r:r + 8, c:c + 8], image[0])]
        assert found and page.sum() == pytest.approx(image.sum())
        offsets.append(found[0])
    assert len(set(offsets)) > 3  # the digits are moved, each its own way
    dp.manual_seed(1)  # drawn from the given seed, not from the library's generator
    np.testing.assert_array_equal(pages, regularize.digit_pages(images, seed=0))
