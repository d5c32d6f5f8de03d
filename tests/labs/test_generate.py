"""Lab generate (--quick): the report, its figures, the samples, the checks, and numbers from the run."""
import math
import re

import numpy as np
import pytest

from deepprimer.data import datasets
from deepprimer.data.datasets import CharVocab
from deepprimer.labs import generate
from lab_checks import assert_checks_pass_and_are_reported, assert_figures, check_values, run_quick

FIGURES = ["char_loss.png", "vae_elbo.png", "vae_samples.png", "vae_reconstructions.png", "vae_interpolation.png"]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    return run_quick(tmp_path_factory, "generate")


def test_every_check_passes_and_is_in_the_report(lab):
    _, report, markdown = lab
    assert_checks_pass_and_are_reported(report, markdown, 6)


def test_report_files_and_figures(lab):
    out, _, markdown = lab
    assert_figures(out, markdown, FIGURES, min_width=500, min_height=150)


def test_samples_are_in_both_reports_one_table_row_each(lab):
    out, _, markdown = lab
    html = (out / "report.html").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (MiniGPT, T = [\d.]+|LSTM, T = 0.5) \| (\d+) \| ([\d.]+) \| (.*) \|$", markdown, flags=re.MULTILINE)
    assert [r[0] for r in rows] == ["MiniGPT, T = 0.5", "MiniGPT, T = 1", "MiniGPT, T = 1.5", "LSTM, T = 0.5"]
    for _, distinct, _, text in rows:
        assert text.startswith(generate.PROMPT) and "\n" not in text
        assert len(text.replace(" ⏎ ", "\n")) == len(generate.PROMPT) + generate.SAMPLE_CHARS
        assert int(distinct) == len(set(text.replace(" ⏎ ", "\n").replace("¦", "|")))
    assert "<td" in html and "⏎" in html


def test_numbers_in_the_report_come_from_the_run(lab):
    _, report, markdown = lab
    text = datasets.text_corpus()
    ids = CharVocab(text).encode(text)
    split = int(0.9 * len(ids))
    baseline = generate.unigram_baseline(ids[:split], ids[split:], int(ids.max()) + 1)
    assert 2.5 < baseline < math.log(ids.max() + 1)
    assert f"costs {baseline:.3f} on the validation text" in markdown
    values = check_values(report)
    val_loss = next(v for d, v in values.items() if d.startswith("MiniGPT validation loss"))
    assert f"MiniGPT reached a validation loss of {val_loss:.3f}" in markdown
    assert f"to {values['VAE negative ELBO fell (last epoch < first)']:.2f} nats per image" in markdown


def test_unigram_baseline_is_the_cross_entropy_of_smoothed_frequencies():
    train, val = np.array([0, 0, 0, 1]), np.array([0, 1, 2])
    p = np.array([4, 2, 1]) / 7  # add-one counts
    assert generate.unigram_baseline(train, val, 3) == pytest.approx(-np.log(p).mean())
