"""SGD and Adam updates in plain NumPy, in place, with the same formulas as torch.optim."""
import numpy as np

from ..workloads.common import LR


class SGD:
    """p -= lr * g. The gradients are fresh arrays each step, so they are scaled in place."""

    def __init__(self, params, lr=0.01):
        self.params, self.lr = params, lr

    def step(self, grads):
        lr = self.lr
        for p, g in zip(self.params, grads):
            g *= lr
            p -= g


class Adam:
    """torch's Adam (no weight decay): moments in place, one scratch buffer per parameter."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        self.params, self.lr, self.betas, self.eps = params, lr, betas, eps
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.tmp = [np.empty_like(p) for p in params]
        self.t = 0

    def step(self, grads):
        self.t += 1
        b1, b2 = self.betas
        step_size = self.lr / (1.0 - b1 ** self.t)
        bc2_sqrt = (1.0 - b2 ** self.t) ** 0.5
        eps = self.eps
        for p, g, m, v, tmp in zip(self.params, grads, self.m, self.v, self.tmp):
            m *= b1
            np.multiply(g, 1.0 - b1, out=tmp)
            m += tmp
            v *= b2
            np.multiply(g, g, out=g)
            g *= 1.0 - b2
            v += g
            np.sqrt(v, out=tmp)
            tmp /= bc2_sqrt
            tmp += eps
            np.divide(m, tmp, out=tmp)
            tmp *= step_size
            p -= tmp


def make(name, params):
    """The floor's optimizer ``name`` ('sgd' or 'adam') over ``params``, with the benchmark's lr."""
    return SGD(params, LR["sgd"]) if name == "sgd" else Adam(params, LR["adam"])
