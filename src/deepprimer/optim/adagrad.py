"""Adagrad: per-coordinate learning rates from the running sum of squared gradients.

With gradient g (plus ``weight_decay * p``) at step t:

    clr = lr / (1 + (t - 1) * lr_decay)
    s = s + g * g                          (s starts at initial_accumulator_value)
    p = p - clr * g / (sqrt(s) + eps)

exactly as ``torch.optim.Adagrad`` (eps default 1e-10, outside the square root).
"""
import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, _check_nonnegative, _effective_grad

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        if differentiable:
            raise NotImplementedError("Adagrad: differentiable=True is not supported")
        _check_nonnegative("learning rate", lr)
        _check_nonnegative("lr_decay", lr_decay)
        _check_nonnegative("weight_decay", weight_decay)
        _check_nonnegative("initial_accumulator_value", initial_accumulator_value)
        _check_nonnegative("epsilon", eps)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, maximize=maximize)
        super().__init__(params, defaults)
        # torch fills Adagrad's state when it is built, not at the first step
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p] = self._init_state(p, group)

    def _init_state(self, param, group):
        total = np.full_like(param.data, float(group["initial_accumulator_value"]))
        return {"step": 0, "sum": Tensor._make(total)}

    def _update(self, p, g, state, group):
        step = state["step"] + 1
        state["step"] = step
        g, _ = _effective_grad(p, g, float(group["weight_decay"]), group["maximize"])
        clr = float(group["lr"]) / (1.0 + (step - 1) * float(group["lr_decay"]))
        total = state["sum"].data
        tmp = np.multiply(g, g)
        total += tmp
        np.sqrt(total, out=tmp)
        tmp += float(group["eps"])
        np.divide(g, tmp, out=tmp)
        tmp *= -clr
        p += tmp
