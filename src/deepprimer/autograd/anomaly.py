"""Anomaly detection: find the first op that produced NaN or Inf, and where it was made.

Off by default because it checks every array. Inside ``detect_anomaly()`` each op
remembers the line of user code that created it, its forward output is checked, and so is
every gradient its backward returns.
"""
import os
import traceback

from ..backend import xp
from .grad_mode import state

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class detect_anomaly:
    """Context manager: raise at the first op whose forward or backward makes NaN/Inf."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    def __enter__(self):
        self.prev = state.anomaly_enabled
        state.anomaly_enabled = self.check_nan
        return self

    def __exit__(self, *exc):
        state.anomaly_enabled = self.prev
        return False


def set_detect_anomaly(mode):
    state.anomaly_enabled = bool(mode)


def is_anomaly_enabled():
    return state.anomaly_enabled


def user_frame():
    """'file:line in func: code' of the innermost frame outside deepprimer itself."""
    for frame in reversed(traceback.extract_stack()):
        if not os.path.abspath(frame.filename).startswith(_PACKAGE_DIR):
            return f"{frame.filename}:{frame.lineno} in {frame.name}: {frame.line}"
    return "<unknown>"


def _finite(array):
    return not (array.dtype.kind == "f" and not xp.isfinite(array).all())


def check_forward(fn, out, input_arrays):
    if _finite(out):
        return
    name = type(fn).__name__
    if not all(_finite(a) for a in input_arrays if hasattr(a, "dtype")):
        raise RuntimeError(
            f"detect_anomaly: an input of {name} already held NaN/Inf (it came from outside "
            f"the recorded graph, e.g. the data); {name} was created at {fn.trace}"
        )
    raise RuntimeError(
        f"detect_anomaly: {name} produced NaN/Inf in its forward output from finite inputs; "
        f"it was created at {fn.trace}"
    )


def check_backward(fn, grads):
    for i, g in enumerate(grads):
        if g is not None and not _finite(xp.asarray(g)):
            raise RuntimeError(
                f"detect_anomaly: {type(fn).__name__}.backward returned NaN/Inf in the gradient "
                f"of its input {i}; that op was created at {getattr(fn, 'trace', '<unknown>')}"
            )
