"""Character-level language modelling: what ``fit`` needs to train MiniGPT or CharRNN on text.

One recipe serves ``deepprimer train --model minigpt|char_rnn`` and the generate lab:

    corpus = CharCorpus(text_corpus())           # vocabulary; first 90% train, last 10% validation
    train_loader, val_loader = char_loaders(corpus, block_size=64, batch_size=32, steps=100)
    fit(model, next_char_loss, optimizer, train_loader, val_loader, epochs=10, metrics=())
    corpus.unigram_baseline()                    # the score to beat, in nats per character
    sample_text(model, corpus.vocab, "The ", 300, temperature=0.8, seed=0)

An "epoch" here is a fixed number of steps, each on random windows of the training text:
the corpus is one long sequence, so any window is a training example and a pass over
every window would be hundreds of thousands of them.
"""
import hashlib

import numpy as np

from ..data import DataLoader, TensorDataset
from ..data.datasets import CharVocab
from ..creation import from_numpy, tensor
from ..nn import functional as F
from ..random import Generator, get_rng


class CharCorpus:
    """A text as character ids, split in reading order: the first ``1 - val_fraction`` for
    training, the rest for validation (a contiguous split: validation text is text the
    model has not read, not windows interleaved with the training ones)."""

    def __init__(self, text, val_fraction=0.1):
        if not 0 < val_fraction < 1:
            raise ValueError(f"CharCorpus: val_fraction must be in (0, 1), got {val_fraction}")
        self.text = text
        self.vocab = CharVocab(text)
        ids = self.vocab.encode(text)
        split = int((1 - val_fraction) * len(ids))
        self.train, self.val = ids[:split], ids[split:]

    def fingerprint(self):
        """What identifies this text: its SHA-256, length and characters (the model's vocabulary)."""
        return {"sha256": hashlib.sha256(self.text.encode("utf-8")).hexdigest(), "length": len(self.text),
                "characters": "".join(self.vocab.chars)}

    def unigram_baseline(self):
        """The validation loss of a model that knows only how common each character is."""
        return unigram_baseline(self.train, self.val, len(self.vocab))

    def check_block_size(self, block_size):
        """Raise ValueError unless both splits hold at least one window of ``block_size`` + 1 ids."""
        shortest = min(len(self.train), len(self.val))
        if shortest < block_size + 1:
            raise ValueError(
                f"the text is too short for block size {block_size}: its smaller split has {shortest} characters "
                f"(training {len(self.train)}, validation {len(self.val)}) and a window needs {block_size + 1}; "
                f"use a longer text or a smaller block size")

    def __repr__(self):
        return f"CharCorpus({len(self.text):,} characters, {len(self.vocab)} distinct, {len(self.train):,} train)"


def unigram_baseline(train, val, vocab_size):
    """Cross-entropy (nats per character) on the validation ids of the training character
    frequencies, -mean(log p(c)): what a model that ignores all context scores. Add-one
    smoothing keeps a character unseen in training from costing infinity."""
    counts = np.bincount(train, minlength=vocab_size) + 1.0
    log_p = np.log(counts / counts.sum())
    return float(-log_p[val].mean())


def windows(ids, starts, block_size):
    """(inputs, next-character targets), each (len(starts), block_size): target t is input t + 1."""
    index = np.asarray(starts)[:, None] + np.arange(block_size)
    return ids[index], ids[index + 1]


def spaced_windows(ids, block_size, count):
    """``count`` windows at evenly spaced starts (fewer if the text has fewer): a fixed
    validation set that covers the whole text, the same every time it is asked for."""
    last = len(ids) - block_size - 1  # the last start whose target window fits
    starts = np.unique(np.linspace(0, last, min(count, last + 1)).astype(np.int64))
    return windows(ids, starts, block_size)


class RandomWindows:
    """A loader for ``fit``: each pass yields ``steps`` batches of ``batch_size`` windows at
    random starts, as (inputs, targets) int64 tensors. Draws come from the library's seeded
    generator (or ``generator``), so ``dp.manual_seed`` fixes the batches."""

    def __init__(self, ids, block_size, batch_size, steps, generator=None):
        self.ids, self.block_size, self.batch_size, self.steps = ids, block_size, batch_size, steps
        self.generator = generator

    def __len__(self):
        return self.steps

    def __iter__(self):
        rng = get_rng(self.generator)
        for _ in range(self.steps):
            starts = rng.integers(0, len(self.ids) - self.block_size, self.batch_size)
            x, y = windows(self.ids, starts, self.block_size)
            yield from_numpy(x), from_numpy(y)


def validation_loader(corpus, block_size, count=256, batch_size=64):
    """A loader of ``count`` windows spread evenly over the validation text: the same windows
    every time, so validation losses compare across epochs and runs."""
    corpus.check_block_size(block_size)
    return DataLoader(TensorDataset(*spaced_windows(corpus.val, block_size, count)), batch_size=batch_size)


def char_loaders(corpus, block_size, batch_size, steps, val_windows=256):
    """(``steps`` batches of random training windows per epoch, the validation loader)."""
    val = validation_loader(corpus, block_size, val_windows)
    return RandomWindows(corpus.train, block_size, batch_size, steps), val


def next_char_loss(outputs, targets):
    """Mean cross-entropy of every next-character prediction: ``outputs`` are the model's
    (batch, time, vocab) logits, or CharRNN's (logits, hidden state) pair."""
    logits = outputs[0] if isinstance(outputs, tuple) else outputs
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def sample_text(model, vocab, prompt, length, temperature=1.0, seed=0):
    """``prompt`` and ``length`` sampled characters after it. The draws come from a generator
    of their own seeded with ``seed``: the same seed gives the same text, and sampling leaves
    the library's default generator where it was."""
    ids = model.generate(tensor(vocab.encode(prompt)[None, :]), length, temperature=temperature,
                         generator=Generator(seed))
    return vocab.decode(ids.numpy()[0])
