"""SGD: stochastic gradient descent, with momentum (heavy ball or Nesterov) and weight decay.

With gradient g (plus ``weight_decay * p``), momentum mu, dampening tau:

    b = g                                    on the first step
    b = mu * b + (1 - tau) * g               afterwards
    d = g + mu * b  (nesterov)  or  d = b
    p = p - lr * d

exactly as ``torch.optim.SGD`` (whose ``lr`` default is 1e-3).
"""
import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, _check_nonnegative, _effective_grad

__all__ = ["SGD"]


class SGD(Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 *, maximize=False, foreach=None, differentiable=False, fused=None):
        # foreach/fused choose torch's kernels; NumPy has one path, so they are accepted and unused.
        if differentiable:
            raise NotImplementedError("SGD: differentiable=True is not supported")
        _check_nonnegative("learning rate", lr)
        _check_nonnegative("momentum", momentum)
        _check_nonnegative("weight_decay", weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _update(self, p, g, state, group):
        lr = float(group["lr"])
        momentum = float(group["momentum"])
        g, owned = _effective_grad(p, g, float(group["weight_decay"]), group["maximize"])
        if momentum != 0:
            nesterov = group["nesterov"]
            buf = state.get("momentum_buffer")
            if buf is None:
                b = np.array(g, copy=True)
                state["momentum_buffer"] = Tensor._make(b)
            else:
                b = buf.data
                b *= momentum
                dampening = float(group["dampening"])
                if dampening == 0:
                    b += g
                elif owned and not nesterov:
                    g *= 1.0 - dampening
                    b += g
                else:
                    b += np.multiply(g, 1.0 - dampening)
            if nesterov:
                d = np.multiply(b, momentum)
                d += g
                owned = True
            else:
                d, owned = b, False
        else:
            d = g
        if owned:
            d *= -lr
            p += d
        else:
            p += np.multiply(d, -lr)
