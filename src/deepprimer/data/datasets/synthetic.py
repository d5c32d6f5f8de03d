"""Synthetic 2-D datasets: the TensorFlow Playground's problems, and a few regressions.

Every generator takes ``n`` (samples), ``noise`` and ``seed``, and is deterministic given
``seed``: it draws from its own NumPy generator, never from the library's global one, so
the same call gives the same data whatever else the program has drawn. Points lie
roughly in [-1.5, 1.5]^2; classification sets are shuffled, with int64 labels 0..k-1.
"""
import math

import numpy as np

from .registry import DatasetBundle, register

_SOURCE = "synthetic"
_XY = ["x1", "x2"]


def _check(n, noise, name):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{name}: n must be a positive int, got {n!r}")
    if noise < 0:
        raise ValueError(f"{name}: noise must be non-negative, got {noise}")


def _classes(X, y, rng, noise, name, description, k):
    """Shuffle, add Gaussian noise of std ``noise`` to the points, and bundle."""
    order = rng.permutation(len(X))
    X, y = X[order], y[order]
    if noise:
        X = X + rng.normal(0.0, noise, size=X.shape)
    return DatasetBundle(
        X=X.astype(np.float32), y=y.astype(np.int64), name=name, task="classification",
        description=description, feature_names=list(_XY), class_names=[str(c) for c in range(k)],
    )


def _sizes(n, k):
    """n samples dealt into k classes, the first ones getting the remainder."""
    return [n // k + (i < n % k) for i in range(k)]


@register(
    "moons", task="classification", n_classes=2, shape=(200, 2), source=_SOURCE,
    description="two interleaving half circles (as scikit-learn's make_moons)",
)
def moons(n=200, noise=0.1, seed=0):
    """Two interleaving half moons: class 0 the upper arc, class 1 the lower one."""
    _check(n, noise, "moons")
    rng = np.random.default_rng(seed)
    n0, n1 = n // 2, n - n // 2
    t0, t1 = np.linspace(0, math.pi, n0), np.linspace(0, math.pi, n1)
    X = np.concatenate([
        np.stack([np.cos(t0), np.sin(t0)], axis=1),
        np.stack([1 - np.cos(t1), 0.5 - np.sin(t1)], axis=1),
    ])
    y = np.repeat([0, 1], [n0, n1])
    return _classes(X, y, rng, noise, "moons", "two interleaving half circles", 2)


@register(
    "circles", task="classification", n_classes=2, shape=(200, 2), source=_SOURCE,
    description="a circle inside a ring (TF Playground 'circle'; scikit-learn's make_circles)",
)
def circles(n=200, noise=0.05, factor=0.5, seed=0):
    """A ring of radius 1 (class 0) around a circle of radius ``factor`` (class 1)."""
    _check(n, noise, "circles")
    if not 0 < factor < 1:
        raise ValueError(f"circles: factor must be in (0, 1), got {factor}")
    rng = np.random.default_rng(seed)
    n0, n1 = n // 2, n - n // 2
    t0 = np.linspace(0, 2 * math.pi, n0, endpoint=False)
    t1 = np.linspace(0, 2 * math.pi, n1, endpoint=False)
    X = np.concatenate([
        np.stack([np.cos(t0), np.sin(t0)], axis=1),
        factor * np.stack([np.cos(t1), np.sin(t1)], axis=1),
    ])
    y = np.repeat([0, 1], [n0, n1])
    return _classes(X, y, rng, noise, "circles", "a circle inside a ring", 2)


@register(
    "spiral", task="classification", n_classes=2, shape=(300, 2), source=_SOURCE,
    description="k interleaved spiral arms, one class each (TF Playground 'spiral')",
)
def spiral(n=300, noise=0.05, k=2, turns=1.75, radius=5.0, seed=0):
    """``k`` spiral arms winding out from the centre to ``radius``; arm j is class j.

    The geometry is TensorFlow Playground's (radius 5, 1.75 turns), so at the same
    noise the arms are as far apart as there; ``noise`` is the std of the Gaussian jitter
    in the data's units, as in every set here.
    """
    _check(n, noise, "spiral")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2:
        raise ValueError(f"spiral: k (the number of arms) must be an int >= 2, got {k!r}")
    rng = np.random.default_rng(seed)
    points, labels = [], []
    for arm, m in enumerate(_sizes(n, k)):
        r = np.linspace(0.01, 1.0, m)
        t = 2 * math.pi * (turns * r + arm / k)
        points.append(radius * np.stack([r * np.sin(t), r * np.cos(t)], axis=1))
        labels.append(np.full(m, arm))
    return _classes(np.concatenate(points), np.concatenate(labels), rng, noise, "spiral", f"{k} interleaved spiral arms", k)


@register(
    "xor", task="classification", n_classes=2, shape=(200, 2), source=_SOURCE,
    description="exclusive or: class 1 where x1 and x2 have the same sign (TF Playground)",
)
def xor(n=200, noise=0.05, seed=0):
    """Points in [-1, 1]^2 away from the axes; class 1 in the quadrants where x1*x2 > 0.

    Labels come from the clean points; the noise may then carry a point across an axis.
    """
    _check(n, noise, "xor")
    rng = np.random.default_rng(seed)
    padding = 0.05
    X = rng.uniform(padding, 1.0, size=(n, 2)) * rng.choice([-1.0, 1.0], size=(n, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    return _classes(X, y, rng, noise, "xor", "exclusive or of the signs of x1 and x2", 2)


@register(
    "gaussians", task="classification", n_classes=2, shape=(200, 2), source=_SOURCE,
    description="k Gaussian blobs, one class each (TF Playground 'gaussian')",
)
def gaussians(n=200, noise=0.3, k=2, seed=0):
    """``k`` round Gaussian blobs of std ``noise`` whose centres are spaced evenly on the
    unit circle (for k=2: at (0.71, 0.71) and (-0.71, -0.71)); blob j is class j."""
    _check(n, noise, "gaussians")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2:
        raise ValueError(f"gaussians: k (the number of blobs) must be an int >= 2, got {k!r}")
    rng = np.random.default_rng(seed)
    angles = math.pi / 4 + 2 * math.pi * np.arange(k) / k
    centres = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    y = np.repeat(np.arange(k), _sizes(n, k))
    return _classes(centres[y], y, rng, noise, "gaussians", f"{k} Gaussian blobs", k)


def _regression(X, y, name, description, feature_names):
    return DatasetBundle(
        X=X.astype(np.float32), y=y.reshape(-1, 1).astype(np.float32), name=name, task="regression",
        description=description, feature_names=feature_names,
    )


@register(
    "plane", task="regression", shape=(200, 2), source=_SOURCE,
    description="a tilted plane y = (x1 + x2) / 2 plus noise (TF Playground regression)",
)
def plane(n=200, noise=0.0, seed=0):
    """x uniform in [-1, 1]^2, target (x1 + x2) / 2 plus Gaussian noise of std ``noise``;
    y has shape (n, 1)."""
    _check(n, noise, "plane")
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n, 2))
    y = X.sum(axis=1) / 2 + rng.normal(0.0, noise, size=n)
    return _regression(X, y, "plane", "y = (x1 + x2) / 2 + noise", list(_XY))


@register(
    "sine", task="regression", shape=(20, 1), source=_SOURCE,
    description="a few noisy samples of sin(2 pi x) on [0, 1]: the overfitting demo",
)
def sine(n=20, noise=0.2, seed=0):
    """``n`` points x uniform in [0, 1] (sorted), target sin(2 pi x) plus Gaussian noise of
    std ``noise``: few points and noise, so a big enough model fits the noise (overfits)
    while the true curve is known. X and y have shape (n, 1)."""
    _check(n, noise, "sine")
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(0.0, 1.0, size=n))
    y = np.sin(2 * math.pi * x) + rng.normal(0.0, noise, size=n)
    return _regression(x.reshape(-1, 1), y, "sine", "y = sin(2 pi x) + noise, x in [0, 1]", ["x"])
