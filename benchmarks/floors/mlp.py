"""MLP training step by hand: Linear+ReLU layers, fused softmax cross-entropy, manual backward.

Weights are stored (out, in) as nn.Linear stores them and used through transposed views
(``h @ W.T``), which BLAS reads without a copy. Bias gradients are ``ones @ dz`` (a GEMV,
several times faster than ``dz.sum(0)`` at these shapes); ReLU's backward multiplies by the
boolean mask in place. Every array is a buffer allocated on the first step and written
with ``out=`` afterwards: fresh arrays each step can cost a page fault per 4 KiB whenever
glibc has handed freed memory back to the kernel, which a hand-written step need not pay.
"""
from itertools import pairwise

import numpy as np

from . import optim


def init_linear(rng, fan_in, fan_out):
    """nn.Linear's default init: uniform(+-1/sqrt(fan_in)) for weight and bias."""
    bound = 1.0 / np.sqrt(fan_in)
    w = rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32)
    b = rng.uniform(-bound, bound, fan_out).astype(np.float32)
    return w, b


def softmax_cross_entropy(logits, y):
    """Mean cross-entropy of ``logits`` against labels ``y``, and its gradient (in ``logits``).

    The row maxima are taken down the transposed copy and the row sums as a GEMV: NumPy
    reduces each short row of 10 classes in its own inner loop, 2-3x slower at batch 64.
    """
    n, c = logits.shape
    rows = np.arange(n)
    logits -= np.ascontiguousarray(logits.T).max(axis=0)[:, None]
    picked = logits[rows, y]
    np.exp(logits, out=logits)
    total = (logits @ np.ones(c, logits.dtype))[:, None]
    loss = (np.log(total[:, 0]) - picked).mean()
    logits /= total
    logits[rows, y] -= 1.0
    logits *= np.float32(1.0 / n)
    return loss, logits


class Buffers(dict):
    """Arrays by name, allocated on first use and reused on every later step."""

    def get(self, name, shape, dtype=np.float32):
        array = dict.get(self, name)
        if array is None or array.shape != shape:
            array = self[name] = np.empty(shape, dtype)
        return array


class MLPFloor:
    """``step(x, y)``: forward, loss, backward and optimizer update of an MLP of ``sizes``."""

    def __init__(self, sizes, optimizer, seed=0):
        rng = np.random.default_rng(seed)
        self.layers = [init_linear(rng, a, b) for a, b in pairwise(sizes)]
        self.params = [p for layer in self.layers for p in layer]
        self.opt = optim.make(optimizer, self.params)
        self.buf = Buffers()

    def step(self, x, y):
        buf, n, last = self.buf, len(x), len(self.layers) - 1
        acts = [x]
        for i, (w, b) in enumerate(self.layers):
            h = np.matmul(acts[-1], w.T, out=buf.get(f"a{i}", (n, len(b))))
            h += b
            if i < last:
                np.maximum(h, 0, out=h)
            acts.append(h)
        loss, dz = softmax_cross_entropy(acts[-1], y)
        ones = buf.get("ones", (n,))
        ones.fill(1)
        grads = []
        for i in range(last, -1, -1):
            w, b = self.layers[i]
            a = acts[i]
            grads += [np.matmul(ones, dz, out=buf.get(f"db{i}", b.shape)),
                      np.matmul(dz.T, a, out=buf.get(f"dw{i}", w.shape))]  # reversed below
            if i > 0:
                dz = np.matmul(dz, w, out=buf.get(f"dz{i}", a.shape))
                np.multiply(dz, np.greater(a, 0, out=buf.get(f"m{i}", a.shape, bool)), out=dz)
        self.opt.step(grads[::-1])
        return loss
