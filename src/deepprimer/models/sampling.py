"""Sampling the next token: how a language model turns its scores into text."""
import numpy as np

from .. import random


def sample_next(logits, temperature=1.0, top_k=None, rng=None):
    """One token id per row of ``logits`` (batch, vocab), drawn from softmax(logits / temperature).

    ``temperature`` < 1 sharpens the distribution, > 1 flattens it; ``top_k`` keeps only the
    k likeliest tokens. ``rng`` is a NumPy Generator (default: the library's seeded one).
    """
    if temperature <= 0:
        raise ValueError(f"generate: temperature must be > 0, got {temperature}")
    rng = rng or random.get_rng()
    logits = np.asarray(logits, dtype=np.float64) / temperature
    if top_k is not None:
        kth = np.sort(logits, axis=1)[:, -min(top_k, logits.shape[1])][:, None]
        logits = np.where(logits < kth, -np.inf, logits)
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    return np.array([rng.choice(len(p), p=p) for p in probs], dtype=np.int64)
