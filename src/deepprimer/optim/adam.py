"""Adam and AdamW: per-parameter steps from running averages of the gradient and its square.

With gradient g, step t, betas (b1, b2):

    m = b1 * m + (1 - b1) * g                 first moment (torch's lerp form)
    v = b2 * v + (1 - b2) * g * g             second moment
    v_max = max(v_max, v)                     amsgrad only; then v_max replaces v below
    p = p - lr / (1 - b1**t) * m / (sqrt(v) / sqrt(1 - b2**t) + eps)

``weight_decay`` in Adam adds ``weight_decay * p`` to g (L2); AdamW instead decays the
weights directly, ``p *= 1 - lr * weight_decay``, before the step (decoupled weight decay).
All arrays stay in the parameter's dtype; the update runs in place with ``out=``.
"""
import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, _check_nonnegative, _effective_grad, _lerp_

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        # foreach/fused/capturable choose torch's kernels; NumPy has one path.
        if differentiable:
            raise NotImplementedError(f"{type(self).__name__}: differentiable=True is not supported")
        _check_nonnegative("learning rate", lr)
        _check_nonnegative("epsilon", eps)
        _check_nonnegative("weight_decay", weight_decay)
        betas = tuple(betas)
        if len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas}")
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta} (it must be in [0, 1))")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _init_state(self, param, group):
        state = {
            "step": 0,
            "exp_avg": Tensor._make(np.zeros_like(param.data)),
            "exp_avg_sq": Tensor._make(np.zeros_like(param.data)),
        }
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = Tensor._make(np.zeros_like(param.data))
        return state

    def _update(self, p, g, state, group):
        lr = float(group["lr"])
        beta1, beta2 = group["betas"]
        beta1, beta2 = float(beta1), float(beta2)
        weight_decay = float(group["weight_decay"])
        step = state["step"] + 1
        state["step"] = step

        if weight_decay != 0 and group["decoupled_weight_decay"]:
            p *= 1.0 - lr * weight_decay
            g, _ = _effective_grad(p, g, 0.0, group["maximize"])
        elif weight_decay != 0 or group["maximize"]:  # else g is used as it is
            g, _ = _effective_grad(p, g, weight_decay, group["maximize"])

        m = state["exp_avg"].data
        v = state["exp_avg_sq"].data
        tmp = np.empty_like(p)
        _lerp_(m, g, 1.0 - beta1, tmp)
        v *= beta2
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - beta2
        v += tmp

        bias_correction1 = 1.0 - beta1 ** step
        bias_correction2_sqrt = (1.0 - beta2 ** step) ** 0.5
        step_size = lr / bias_correction1
        if group["amsgrad"]:
            v_max = state["max_exp_avg_sq"].data
            np.maximum(v_max, v, out=v_max)
            v = v_max
        np.sqrt(v, out=tmp)
        tmp /= bias_correction2_sqrt
        tmp += float(group["eps"])
        np.divide(m, tmp, out=tmp)
        tmp *= -step_size
        p += tmp


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): ``p *= 1 - lr * weight_decay``."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable, differentiable=differentiable,
                         fused=fused, decoupled_weight_decay=True)

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
