"""RMSprop: divide the gradient by a running root-mean-square of its recent values.

With gradient g (plus ``weight_decay * p``) and smoothing constant alpha:

    s = alpha * s + (1 - alpha) * g * g
    a = mean of g, a = alpha * a + (1 - alpha) * g       (centered only)
    r = sqrt(s - a * a) + eps   (centered)  or  sqrt(s) + eps
    b = momentum * b + g / r,  p = p - lr * b            (momentum > 0)
    p = p - lr * g / r                                   (otherwise)

exactly as ``torch.optim.RMSprop`` (eps is added outside the square root).
"""
import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, _check_nonnegative, _effective_grad, _lerp_

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        if differentiable:
            raise NotImplementedError("RMSprop: differentiable=True is not supported")
        _check_nonnegative("learning rate", lr)
        _check_nonnegative("epsilon", eps)
        _check_nonnegative("momentum", momentum)
        _check_nonnegative("weight_decay", weight_decay)
        _check_nonnegative("alpha", alpha)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _init_state(self, param, group):
        state = {"step": 0, "square_avg": Tensor._make(np.zeros_like(param.data))}
        if group["momentum"] > 0:
            state["momentum_buffer"] = Tensor._make(np.zeros_like(param.data))
        if group["centered"]:
            state["grad_avg"] = Tensor._make(np.zeros_like(param.data))
        return state

    def _update(self, p, g, state, group):
        lr = float(group["lr"])
        alpha = float(group["alpha"])
        momentum = float(group["momentum"])
        state["step"] += 1
        g, _ = _effective_grad(p, g, float(group["weight_decay"]), group["maximize"])

        square_avg = state["square_avg"].data
        tmp = np.empty_like(p)
        square_avg *= alpha
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - alpha
        square_avg += tmp
        if group["centered"]:
            grad_avg = state["grad_avg"].data
            _lerp_(grad_avg, g, 1.0 - alpha, tmp)
            np.multiply(grad_avg, grad_avg, out=tmp)
            np.subtract(square_avg, tmp, out=tmp)
            np.sqrt(tmp, out=tmp)
        else:
            np.sqrt(square_avg, out=tmp)
        tmp += float(group["eps"])
        np.divide(g, tmp, out=tmp)
        if momentum > 0:
            buf = state["momentum_buffer"].data
            buf *= momentum
            buf += tmp
            np.multiply(buf, -lr, out=tmp)
        else:
            tmp *= -lr
        p += tmp
