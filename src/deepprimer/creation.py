"""Making tensors: from data, filled with a constant, ranges, and random draws.

Random draws come from the library's one seeded generator (``dp.manual_seed``) unless a
``generator`` is passed. Floating results are float32 unless ``dtype`` says otherwise.
"""
from . import backend, random
from .backend import xp
from .tensor import Tensor, as_array


def _size(size, op):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if isinstance(s, bool) or not isinstance(s, (int, xp.integer)) or s < 0:
            raise ValueError(f"{op}: sizes must be non-negative ints, got {size!r}")
    return tuple(int(s) for s in size)


def _float_dtype(dtype):
    return backend.get_default_dtype() if dtype is None else xp.dtype(dtype)


def _new(data, requires_grad):
    t = Tensor._make(data)
    return t.requires_grad_(True) if requires_grad else t


def tensor(data, dtype=None, requires_grad=False):
    """A new tensor holding a copy of ``data`` (a list, a number, an array or a tensor)."""
    array = as_array(data, dtype)
    if isinstance(data, (xp.ndarray, Tensor)) and array is (data.data if isinstance(data, Tensor) else data):
        array = array.copy()
    return _new(array, requires_grad)


def from_numpy(array):
    """A tensor sharing memory with a NumPy array (no copy), keeping its dtype."""
    if not isinstance(array, xp.ndarray):
        raise TypeError(f"from_numpy: expected a NumPy array, got {type(array).__name__}")
    return Tensor._make(array)


def zeros(*size, dtype=None, requires_grad=False):
    return _new(xp.zeros(_size(size, "zeros"), dtype=_float_dtype(dtype)), requires_grad)


def ones(*size, dtype=None, requires_grad=False):
    return _new(xp.ones(_size(size, "ones"), dtype=_float_dtype(dtype)), requires_grad)


def empty(*size, dtype=None, requires_grad=False):
    return _new(xp.empty(_size(size, "empty"), dtype=_float_dtype(dtype)), requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False):
    if dtype is None:
        dtype = (
            backend.bool_ if isinstance(fill_value, bool)
            else backend.int64 if isinstance(fill_value, int) else backend.get_default_dtype()
        )
    return _new(xp.full(_size((size,), "full"), fill_value, dtype=dtype), requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False):
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be non-zero")
    if dtype is None:
        integral = all(isinstance(v, int) for v in (start, end, step))
        dtype = backend.int64 if integral else backend.get_default_dtype()
    return _new(xp.arange(start, end, step).astype(dtype), requires_grad)


def linspace(start, end, steps, dtype=None, requires_grad=False):
    if steps < 0:
        raise ValueError(f"linspace: steps must be non-negative, got {steps}")
    return _new(xp.linspace(start, end, steps).astype(_float_dtype(dtype)), requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False):
    return _new(xp.eye(n, m, dtype=_float_dtype(dtype)), requires_grad)


def rand(*size, dtype=None, requires_grad=False, generator=None):
    """Uniform draws on [0, 1)."""
    dtype = _float_dtype(dtype)
    data = random.get_rng(generator).random(_size(size, "rand"), dtype=dtype)
    return _new(data, requires_grad)


def randn(*size, dtype=None, requires_grad=False, generator=None):
    """Standard normal draws."""
    dtype = _float_dtype(dtype)
    data = random.get_rng(generator).standard_normal(_size(size, "randn"), dtype=dtype)
    return _new(data, requires_grad)


def randint(low, high=None, size=(), dtype=None, generator=None):
    """Integers drawn uniformly from [low, high) (``randint(high, size)`` works too)."""
    if isinstance(high, (tuple, list)):  # randint(high, size)
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if low >= high:
        raise ValueError(f"randint: low ({low}) must be less than high ({high})")
    size = _size((size,) if not isinstance(size, (tuple, list)) else (tuple(size),), "randint")
    data = random.get_rng(generator).integers(low, high, size=size)
    return Tensor._make(data.astype(backend.int64 if dtype is None else dtype))


def randperm(n, generator=None):
    return Tensor._make(random.get_rng(generator).permutation(n).astype(backend.int64))


def _like(fill):
    def make(t, dtype=None, requires_grad=False, **kwargs):
        return fill(*t.shape, dtype=t.dtype if dtype is None else dtype, requires_grad=requires_grad, **kwargs)

    make.__name__ = f"{fill.__name__}_like"
    make.__doc__ = f"``{fill.__name__}`` with the shape (and by default the dtype) of ``t``."
    return make


zeros_like = _like(zeros)
ones_like = _like(ones)
empty_like = _like(empty)
rand_like = _like(rand)
randn_like = _like(randn)


def full_like(t, fill_value, dtype=None, requires_grad=False):
    return full(tuple(t.shape), fill_value, dtype=t.dtype if dtype is None else dtype, requires_grad=requires_grad)


def randint_like(t, low, high=None, dtype=None, generator=None):
    return randint(low, high, tuple(t.shape), dtype=dtype, generator=generator)
