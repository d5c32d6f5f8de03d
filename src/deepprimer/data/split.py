"""Splitting data: ``random_split`` for datasets (as in PyTorch) and a stratified
``train_val_test_split`` for arrays (as scikit-learn's ``train_test_split``, with a
validation split too).
"""
import math

import numpy as np

from ..random import Generator, get_rng
from ..tensor import Tensor
from .dataset import Subset, as_dataset


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` into non-overlapping random :class:`Subset` s.

    ``lengths`` are sample counts summing to ``len(dataset)``, or fractions summing to 1
    (counts are then rounded down and the left-over samples dealt out one each to the
    first subsets, as PyTorch does). Draws from ``generator`` or the default one.
    """
    dataset = as_dataset(dataset)
    n = len(dataset)
    lengths = list(lengths)
    if lengths and all(isinstance(f, float) for f in lengths) and math.isclose(sum(lengths), 1.0, abs_tol=1e-6):
        if any(f < 0 for f in lengths):
            raise ValueError(f"random_split: fractions must be non-negative, got {lengths}")
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
    else:
        if any(isinstance(c, bool) or not isinstance(c, (int, np.integer)) or c < 0 for c in lengths):
            raise ValueError(
                f"random_split: lengths must be non-negative ints summing to the dataset size, "
                f"or fractions summing to 1; got {lengths}"
            )
        counts = [int(c) for c in lengths]
        if sum(counts) != n:
            raise ValueError(
                f"random_split: lengths {counts} sum to {sum(counts)}, but the dataset has {n} samples"
            )
    order = get_rng(generator).permutation(n)
    ends = np.cumsum(counts)
    return [Subset(dataset, order[end - c:end]) for c, end in zip(counts, ends)]


def train_val_test_split(X, y, val_size=0.15, test_size=0.15, stratify=True, seed=None):
    """Split ``X`` and ``y`` three ways: ``X_train, X_val, X_test, y_train, y_val, y_test``.

    Sizes are fractions of the samples (rounded up, as scikit-learn rounds the test size)
    or counts; the rest is the training split. With ``stratify=True`` every split keeps the
    class proportions of ``y`` as closely as whole samples allow (when ``y`` holds class
    labels: integers, or floats that are all whole numbers; continuous targets are split
    at random). ``stratify`` may also be an array of labels to stratify by. ``seed``: an
    int (independent of the global seed), a ``dp.Generator``, or None for the default
    generator (``dp.manual_seed``). Arrays stay arrays and tensors stay tensors.
    """
    n = len(X)
    if len(y) != n:
        raise ValueError(f"train_val_test_split: X has {n} samples but y has {len(y)}")
    n_val, n_test = _count(val_size, n, "val_size"), _count(test_size, n, "test_size")
    if n_val + n_test >= n:
        raise ValueError(
            f"train_val_test_split: val ({n_val}) + test ({n_test}) samples leave no training "
            f"samples out of {n}"
        )
    rng = seed.rng if isinstance(seed, Generator) else get_rng() if seed is None else np.random.default_rng(seed)
    labels = _labels(y if stratify is True else stratify) if stratify is not False else None
    if labels is None:
        order = rng.permutation(n)
        test, val, train = order[:n_test], order[n_test:n_test + n_val], order[n_test + n_val:]
    else:
        train, val, test = _stratified(labels, n_val, n_test, rng)
    return tuple(_take(a, idx) for a in (X, y) for idx in (train, val, test))


def _count(size, n, name):
    if isinstance(size, float):
        if not 0.0 <= size < 1.0:
            raise ValueError(f"train_val_test_split: {name} as a fraction must be in [0, 1), got {size}")
        return int(math.ceil(size * n))
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or not 0 <= size < n:
        raise ValueError(f"train_val_test_split: {name} must be a fraction or a count below {n}, got {size!r}")
    return int(size)


def _labels(y):
    """Class labels as a 1-D array, or None when ``y`` holds continuous targets."""
    y = np.asarray(y.data if isinstance(y, Tensor) else y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        return None
    if y.dtype.kind == "f" and not np.all(np.isfinite(y) & (y == np.round(y))):
        return None
    return y


def _stratified(labels, n_val, n_test, rng):
    """Per-class shuffles, dealt into test, val and train by largest remainders."""
    classes, inverse = np.unique(labels, return_inverse=True)
    counts = np.bincount(inverse, minlength=len(classes))
    test_counts = _apportion(counts, n_test, rng)
    val_counts = _apportion(counts - test_counts, n_val, rng)
    splits = ([], [], [])
    for c in range(len(classes)):
        members = rng.permutation(np.flatnonzero(inverse == c))
        t, v = test_counts[c], val_counts[c]
        splits[2].append(members[:t])
        splits[1].append(members[t:t + v])
        splits[0].append(members[t + v:])
    return tuple(rng.permutation(np.concatenate(s)) for s in splits)


def _apportion(counts, k, rng):
    """``k`` samples shared out over classes in proportion to ``counts`` (largest remainder;
    ties broken at random). No class gets more than it has."""
    total = counts.sum()
    if total == 0 or k == 0:
        return np.zeros_like(counts)
    quotas = counts * (k / total)
    base = np.floor(quotas).astype(np.int64)
    left = k - int(base.sum())
    if left:
        order = np.lexsort((rng.random(len(counts)), -(quotas - base)))
        base[order[:left]] += 1
    return base


def _take(a, index):
    if isinstance(a, Tensor):
        return Tensor._make(a.data[index])
    return np.asarray(a)[index]
