"""Character-level language modelling pieces: corpus split, windows, baseline, loss, sampling."""
import numpy as np
import pytest

import deepprimer as dp
from deepprimer.models import CharRNN, MiniGPT
from deepprimer.random import get_rng
from deepprimer.train import evaluate, fit
from deepprimer.train.char_lm import (
    CharCorpus, RandomWindows, char_loaders, next_char_loss, sample_text, spaced_windows, unigram_baseline, windows,
)


def test_corpus_splits_in_reading_order_90_10():
    text = "hello world, " * 40
    corpus = CharCorpus(text)
    assert len(corpus.train) == int(0.9 * len(text)) and len(corpus.train) + len(corpus.val) == len(text)
    assert corpus.vocab.decode(corpus.train) + corpus.vocab.decode(corpus.val) == text


def test_unigram_baseline_is_the_cross_entropy_of_smoothed_frequencies():
    train, val = np.array([0, 0, 0, 1]), np.array([0, 1, 2])
    p = np.array([4, 2, 1]) / 7  # add-one counts
    assert unigram_baseline(train, val, 3) == pytest.approx(-np.log(p).mean())


def test_windows_targets_are_the_next_characters():
    ids = np.arange(20)
    x, y = windows(ids, [0, 5], 4)
    np.testing.assert_array_equal(x, [[0, 1, 2, 3], [5, 6, 7, 8]])
    np.testing.assert_array_equal(y, x + 1)


def test_spaced_windows_cover_the_whole_text_and_never_run_off_it():
    ids = np.arange(100)
    x, y = spaced_windows(ids, 10, 5)
    assert x[0, 0] == 0 and y[-1, -1] == 99 and len(x) == 5
    x, _ = spaced_windows(ids[:12], 10, 256)  # only two starts fit: 0 and 1
    np.testing.assert_array_equal(x[:, 0], [0, 1])


def test_random_windows_are_seeded_and_reach_the_last_character():
    ids = np.arange(12)
    loader = RandomWindows(ids, 10, batch_size=64, steps=3)
    batches = list(loader)
    assert len(loader) == 3 and len(batches) == 3
    x, y = batches[0]
    assert x.shape == (64, 10) and x.dtype == np.int64
    np.testing.assert_array_equal(y.numpy(), x.numpy() + 1)
    assert set(np.concatenate([b[0].numpy()[:, 0] for b in batches])) == {0, 1}  # start 1 ends on ids[11]
    dp.manual_seed(3)
    first = [b[0].numpy() for b in RandomWindows(np.arange(500), 8, 4, 5)]
    dp.manual_seed(3)
    again = [b[0].numpy() for b in RandomWindows(np.arange(500), 8, 4, 5)]
    np.testing.assert_array_equal(first, again)


def test_a_text_too_short_for_the_block_size_says_what_fits():
    with pytest.raises(ValueError, match="too short for block size 64.*smaller block size"):
        char_loaders(CharCorpus("abc" * 100), 64, 8, 10)


def test_next_char_loss_is_the_models_own_loss_for_both_kinds():
    x = dp.tensor(np.random.default_rng(0).integers(0, 7, (2, 5)))
    y = dp.tensor(np.random.default_rng(1).integers(0, 7, (2, 5)))
    for model in (MiniGPT(7, block_size=8, d_model=8, n_heads=2, n_layers=1, dropout=0.0),
                  CharRNN(7, embed_dim=4, hidden_size=8, num_layers=1, dropout=0.0)):
        assert next_char_loss(model(x), y).item() == pytest.approx(model.loss(x, y).item(), rel=1e-6)


def test_fit_learns_a_repeating_text_far_below_the_unigram_baseline():
    corpus = CharCorpus("the cat sat on the mat. " * 60)
    dp.manual_seed(0)
    model = MiniGPT(len(corpus.vocab), block_size=16, d_model=32, n_heads=2, n_layers=1, dropout=0.0)
    train, val = char_loaders(corpus, 16, batch_size=16, steps=20, val_windows=32)
    history = fit(model, next_char_loss, dp.optim.Adam(model.parameters(), lr=1e-2), train, val, epochs=3,
                  metrics=(), verbose=0)
    assert len(history) == 3 and history["val_loss"][-1] < history["val_loss"][0]
    final = evaluate(model, val, next_char_loss, metrics=())["loss"]
    assert final < 0.5 * corpus.unigram_baseline(), (final, corpus.unigram_baseline())


def test_sample_text_is_seeded_and_leaves_the_library_generator_alone():
    corpus = CharCorpus("abcdefgh " * 20)
    model = CharRNN(len(corpus.vocab), embed_dim=4, hidden_size=8, num_layers=1, dropout=0.0)
    state = get_rng().bit_generator.state
    a = sample_text(model, corpus.vocab, "ab", 30, temperature=1.0, seed=5)
    assert get_rng().bit_generator.state == state
    assert a == sample_text(model, corpus.vocab, "ab", 30, temperature=1.0, seed=5)
    assert a != sample_text(model, corpus.vocab, "ab", 30, temperature=1.0, seed=6)
    assert a.startswith("ab") and len(a) == 32


def test_run_samples_start_as_the_text_does():
    from deepprimer.train.text_runs import prompt_for

    assert prompt_for('The "assert" statement') == "The "
    assert prompt_for("Onceuponatimethereweretwo words") == "O"
