"""The one array seam.

Every array operation of the engine goes through ``xp``, the array module chosen here.
Today that is NumPy; a CuPy back end for GPUs only has to provide the same names.
Ops write ``xp.exp(x)``, never ``numpy.exp(x)``, so swapping the module swaps the device.
"""
import numpy

xp = numpy

float32 = xp.dtype("float32")
float64 = xp.dtype("float64")
float16 = xp.dtype("float16")
int32 = xp.dtype("int32")
int64 = xp.dtype("int64")
bool_ = xp.dtype("bool")

_default_dtype = float32


def get_default_dtype():
    """The floating dtype new tensors get when none is asked for (float32)."""
    return _default_dtype


def set_default_dtype(dtype):
    """Make ``dtype`` (float32 or float64) the default floating dtype, as torch does."""
    global _default_dtype
    dtype = xp.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: only floating dtypes can be the default, got {dtype}")
    _default_dtype = dtype


def erf(x):
    """The error function, elementwise (exact GELU needs it; NumPy has none)."""
    from scipy.special import erf as _erf

    return _erf(x).astype(x.dtype, copy=False)


def is_floating(dtype):
    return dtype.kind == "f"
