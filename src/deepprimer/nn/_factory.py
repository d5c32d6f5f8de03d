"""The ``device=``/``dtype=`` keywords every layer accepts, as in PyTorch."""
from .. import backend
from ..backend import xp


def factory_dtype(device=None, dtype=None):
    """The floating dtype a layer's parameters get: ``dtype`` or the default (float32).

    ``device`` may be None or "cpu" (deepprimer computes with NumPy on the CPU).
    """
    if device is not None and str(device).split(":")[0] != "cpu":
        raise RuntimeError(f"device={str(device)!r}: deepprimer computes on the CPU; use device='cpu' or leave it out")
    if dtype is None:
        return backend.get_default_dtype()
    dtype = xp.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"layers hold floating-point parameters; dtype={dtype} is not one")
    return dtype
