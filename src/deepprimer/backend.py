"""The one array seam.

Every array operation of the engine goes through ``xp``, the array module chosen here.
Today that is NumPy; a CuPy back end for GPUs only has to provide the same names.
Ops write ``xp.exp(x)``, never ``numpy.exp(x)``, so swapping the module swaps the device.
"""
import ctypes
import functools
import os
import sys

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


SHARED_ONES_AT_MOST = 1 << 16  # elements: the cache holds at most 64 such arrays (16 MB in float32)


@functools.lru_cache(maxsize=64)
def shared_ones(shape, dtype):
    """A read-only array of ones, made once per (shape, dtype) rather than every step."""
    ones = xp.ones(shape, dtype=dtype)
    ones.flags.writeable = False
    return ones


def column_sums(matrix):
    """``matrix.sum(axis=0)`` of a 2-D array, as a GEMV with a vector of ones: several
    times faster than the strided reduction at bias-gradient shapes (PERF-NOTES.md)."""
    return _ones(matrix.shape[0], matrix.dtype) @ matrix


def row_sums(matrix):
    """``matrix.sum(axis=1)`` of a 2-D array, as a GEMV with a vector of ones: NumPy reduces
    each row in its own short inner loop, BLAS runs down all the rows at once."""
    return matrix @ _ones(matrix.shape[1], matrix.dtype)


def _ones(n, dtype):
    return shared_ones(n, dtype) if n <= SHARED_ONES_AT_MOST else xp.ones(n, dtype=dtype)


SHORT_ROW = 64  # values: up to here a row maximum is faster taken down the transposed rows


def sum_keepdims(x, axis):
    """``x.sum(axis=axis, keepdims=True)``; along the last axis of a float array, as a GEMV
    with a vector of ones (the twin of :func:`column_sums`).

    NumPy reduces each row in its own short inner loop, while BLAS runs down all the rows
    at once: (64, 10) 1.7 -> 0.8 us, (4096, 64) 81 -> 11 us, (1024, 128) 28 -> 5 us. The
    additions run in a few sequential lanes instead of NumPy's pairwise tree: float32 rows
    of 1000-8000 values came out ~1e-7 relative, against NumPy's ~5e-8.
    """
    c = x.shape[-1] if x.ndim else 0
    if (axis != x.ndim - 1 or x.dtype.char not in "fd" or not 0 < c <= SHARED_ONES_AT_MOST
            or not x.flags.c_contiguous):
        return x.sum(axis=axis, keepdims=True)
    return row_sums(x.reshape(-1, c)).reshape(x.shape[:-1] + (1,))


def max_keepdims(x, axis):
    """``x.max(axis=axis, keepdims=True)``; for the short rows of a C-ordered array's last
    axis (at most SHORT_ROW values, and no more values than rows), taken down the columns
    of the transposed copy, where each step compares two long contiguous rows instead of
    running one short inner loop per row: (64, 10) 3.3 -> 1.6 us, (1024, 10) 41 -> 4 us,
    (4096, 64) 249 -> 157 us. The same values.
    """
    c = x.shape[-1] if x.ndim else 0
    rows = x.size // c if c else 0
    if axis != x.ndim - 1 or not 0 < c <= SHORT_ROW or c > rows or not x.flags.c_contiguous:
        return x.max(axis=axis, keepdims=True)
    return xp.ascontiguousarray(x.reshape(rows, c).T).max(axis=0).reshape(x.shape[:-1] + (1,))


LONG_ROW = 8192  # values: NumPy's ufunc buffer size, where its loops reach full speed
TILED_BIAS_FROM = 1 << 17  # elements: below this the broadcast add is as fast (measured)


def in_long_rows(ufunc, flat, pattern, out):
    """``ufunc(flat, pattern repeated, out=out)`` for 1-D ``flat`` and ``out``, done in rows
    of ``len(pattern)`` values (``pattern`` holds a short period repeated to ~LONG_ROW).

    NumPy runs an operand broadcast from a short row (or a scalar) one short inner loop at
    a time, several times slower than a loop over two long arrays; seen as long rows against
    one long pattern, the same elementwise results come at the array speed. What is left
    after the last whole row goes against the pattern's head: ``len(flat)`` must be a
    multiple of the period.
    """
    width = pattern.size
    if flat.size <= width:  # one row or less: a single call
        return ufunc(flat, pattern[:flat.size], out=out)
    body = flat.size - flat.size % width
    ufunc(flat[:body].reshape(-1, width), pattern, out=out[:body].reshape(-1, width))
    if body < flat.size:
        ufunc(flat[body:], pattern[:flat.size - body], out=out[body:])
    return out


def add_bias(out, bias):
    """``out += bias`` along the last axis of ``out``, in place, with the same results bit
    for bit.

    A conv layer's output has 10^4-10^5 rows of 16-64 channels, and NumPy's per-row inner
    loops are most of the time of a broadcast add; done in long rows (:func:`in_long_rows`)
    it measured (50176, 16) 204 -> 60 us, (12544, 32) 70 -> 31 us, (1024, 512) 54 -> 40 us;
    under 2^17 elements it does not pay.
    """
    channels = out.shape[-1] if out.ndim else 0
    if (out.size < TILED_BIAS_FROM  # tested first: most layers of small models stop here
            or type(out) is not xp.ndarray or type(bias) is not xp.ndarray
            or not 0 < channels <= LONG_ROW // 2 or bias.shape != (channels,)
            or bias.dtype != out.dtype or not out.flags.c_contiguous):
        out += bias
        return out
    tiled = xp.tile(bias, LONG_ROW // channels)  # a copy: right even if bias is a row of out itself
    flat = out.reshape(-1)
    in_long_rows(xp.add, flat, tiled, flat)
    return out


def is_floating(dtype):
    return dtype.kind == "f"


def tune_allocator():
    """Keep freed array memory in the process instead of handing it back to the OS.

    Every training step frees and re-allocates the same large arrays. By default glibc
    returns big freed blocks to the operating system (munmap, heap trimming), so the next
    step page-faults fresh zeroed memory back in; that cost rivals the arithmetic. Raising
    the mmap and trim thresholds keeps those blocks for reuse. Measured on the 2-core
    machine: medium MLP Adam step 3.1 -> 2.1 ms, 2-layer Transformer encoder step
    25 -> 17 ms (PERF-NOTES.md). Process-wide, Linux/glibc only, applied once at import;
    set DEEPPRIMER_MALLOC_TUNING=0 to leave the allocator alone.
    Returns whether the settings were applied.
    """
    if os.environ.get("DEEPPRIMER_MALLOC_TUNING", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (e.g. musl): nothing to tune
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    trimmed = libc.mallopt(m_trim_threshold, 256 << 20)
    mapped = libc.mallopt(m_mmap_threshold, 32 << 20)  # glibc's upper limit on 64-bit
    return bool(trimmed and mapped)


allocator_tuned = tune_allocator()


def set_num_threads(n):
    """Use ``n`` threads for matrix products (the BLAS under NumPy), as ``torch.set_num_threads``.

    On a busy machine two BLAS threads can be far slower than one (PERF-NOTES.md); a
    learner whose other programs hold the cores can call ``dp.set_num_threads(1)``.
    """
    from threadpoolctl import threadpool_limits

    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: n must be an int >= 1, got {n!r}")
    threadpool_limits(limits=n, user_api="blas")


def get_num_threads():
    """The number of threads the BLAS under NumPy uses for matrix products."""
    from threadpoolctl import threadpool_info

    return max((pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"), default=1)
