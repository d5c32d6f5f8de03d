"""Reverse-mode automatic differentiation: the graph, the backward pass, grad mode, checks."""
from .anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from .engine import backward, grad
from .function import Function
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck, max_gradient_error

__all__ = [
    "Function", "backward", "grad", "no_grad", "enable_grad", "set_grad_enabled",
    "is_grad_enabled", "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
    "gradcheck", "GradcheckError", "max_gradient_error",
]
