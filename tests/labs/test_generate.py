"""Lab generate (--quick): the report, its figures, the samples, the checks, and numbers from the run."""
import html
import math
import re

import pytest

from deepprimer.data import datasets
from deepprimer.labs import generate
from deepprimer.train.char_lm import CharCorpus
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


def test_samples_are_shown_exactly_as_generated_in_both_reports(lab):
    out, _, markdown = lab
    page = (out / "report.html").read_text(encoding="utf-8")
    labels = ["MiniGPT, T = 0.5", "MiniGPT, T = 1", "MiniGPT, T = 1.5", "LSTM, T = 0.5"]
    rows = re.findall(r"^\| ((?:MiniGPT|LSTM), T = [\d.]+) \| (\d+) \| ([\d.]+) \|$", markdown, flags=re.MULTILINE)
    assert [r[0] for r in rows] == labels
    blocks = re.findall(r"^\*((?:MiniGPT|LSTM), T = [\d.]+)\*\n\n(`{3,})text\n(.*?)\n\2$", markdown,
                        flags=re.MULTILINE | re.DOTALL)
    assert [b[0] for b in blocks] == labels
    for (_, distinct, _), (_, _, text) in zip(rows, blocks):
        assert text.startswith(generate.PROMPT) and len(text) == len(generate.PROMPT) + generate.SAMPLE_CHARS
        assert int(distinct) == len(set(text))
        assert f"<pre>{html.escape(text)}</pre>" in page
    assert "⏎" not in markdown and any("\n" in b[2] for b in blocks)  # real line breaks, not symbols


def test_numbers_in_the_report_come_from_the_run(lab):
    _, report, markdown = lab
    corpus = CharCorpus(datasets.text_corpus())
    baseline = corpus.unigram_baseline()
    assert 2.5 < baseline < math.log(len(corpus.vocab))
    assert f"costs {baseline:.3f} on the validation text" in markdown
    values = check_values(report)
    val_loss = next(v for d, v in values.items() if d.startswith("MiniGPT validation loss"))
    assert f"MiniGPT reached a validation loss of {val_loss:.3f}" in markdown
    assert f"to {values['VAE negative ELBO fell (last epoch < first)']:.2f} nats per image" in markdown
