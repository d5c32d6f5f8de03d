"""Per-op overhead on 10-element tensors, where Python-level cost is everything.

Three cases per framework: an add without grad, an add with forward + backward, and the
tiny graph ``(w * x).sum().backward()``. The floor does the same arithmetic with the
gradient written by hand and no graph at all.
"""
import numpy as np

from .common import framework

TINY_GRAPH = "(w * x).sum().backward()"
CASES = ("add forward, no grad", "add forward+backward", TINY_GRAPH)


def build(name):
    """``{case: zero-argument callable}`` for framework ``name``."""
    if name == "floor":
        return _floor()
    lib = framework(name)
    a, b = lib.randn(10), lib.randn(10)
    w, x = lib.randn(10, requires_grad=True), lib.randn(10)
    return dict(zip(CASES, (
        lambda: a + b,
        lambda: (w + x).sum().backward(),
        lambda: (w * x).sum().backward(),
    )))


def _floor():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(10, dtype=np.float32), rng.standard_normal(10, dtype=np.float32)
    w, x = a.copy(), b.copy()

    def add_fwd_bwd():
        (w + x).sum()
        return np.ones_like(w)  # d/dw of sum(w + x)

    def tiny_graph():
        (w * x).sum()
        return x * np.float32(1.0)  # d/dw of sum(w * x) = x

    return dict(zip(CASES, (lambda: a + b, add_fwd_bwd, tiny_graph)))
