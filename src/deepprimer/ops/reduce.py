"""Reductions: sum, mean, max/min, var/std, logsumexp, norms, arg-reductions.

A reduction's backward spreads the output gradient back over the reduced axes:
sum copies it to every element, mean divides by the count, max sends it to the
winners.
"""
from collections import namedtuple

from ..autograd import Function
from ..backend import xp
from ..tensor import Tensor, normalize_dim

ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])


def axes(dim, ndim, op):
    """``dim`` (None, an int or a sequence) as a sorted tuple of non-negative axes, or None."""
    if dim is None:
        return None
    if isinstance(dim, (int, xp.integer)):
        result = (normalize_dim(int(dim), ndim, op),)
    else:
        result = tuple(sorted({normalize_dim(int(d), ndim, op) for d in dim}))
    return result if result and ndim else None  # a 0-d tensor: dim 0 or -1 means all of it


def drop_axes(out, axis, keepdim):
    """A keepdims=True result shaped as the caller asked (reduced axes dropped or kept)."""
    if keepdim:
        return out
    return out.reshape(()) if axis is None else out.squeeze(axis)


def expand_back(grad, in_shape, axis, keepdim):
    """The output gradient, reshaped with the reduced axes kept, broadcast to the input."""
    if axis is None:  # a full reduction: one number to spread (a fresh array is cheaper than a view)
        spread = xp.empty(in_shape, dtype=grad.dtype)
        spread[...] = grad
        return spread
    if not keepdim:
        grad = xp.expand_dims(grad, axis)
    return xp.broadcast_to(grad, in_shape)


class Sum(Function):
    def forward(self, a, axis, keepdim):
        self.in_shape, self.axis, self.keepdim = a.shape, axis, keepdim
        return xp.add.reduce(a, axis=axis, keepdims=keepdim)  # a.sum(), without its Python wrapper

    def backward(self, grad):
        return expand_back(grad, self.in_shape, self.axis, self.keepdim)


class Mean(Function):
    def forward(self, a, axis, keepdim):
        self.in_shape, self.axis, self.keepdim = a.shape, axis, keepdim
        out = a.mean(axis=axis, keepdims=keepdim)
        self.count = a.size // out.size if a.size else 0
        return out

    def backward(self, grad):
        scaled = grad * grad.dtype.type(1 / self.count if self.count else 0)  # empty input: empty gradient
        return expand_back(scaled, self.in_shape, self.axis, self.keepdim)


class Extreme(Function):
    """max or min over ``axis``. The gradient goes to the selected element: for a plain
    reduction it is shared evenly between tied elements (torch's amax), for ``dim=``
    with indices it goes to the returned index (torch's max(dim))."""

    def forward(self, a, axis, keepdim, mode, index):
        reduce = xp.max if mode == "max" else xp.min
        out = reduce(a, axis=axis, keepdims=True)
        self.in_shape, self.axis, self.keepdim = a.shape, axis, keepdim
        if index is not None:
            mask = xp.zeros(a.shape, dtype=a.dtype)
            xp.put_along_axis(mask, index, 1, axis=axis[0])
        else:
            mask = (a == out).astype(a.dtype)
            mask /= mask.sum(axis=axis, keepdims=True)
        self.save_for_backward(mask)
        return drop_axes(out, axis, keepdim)

    def backward(self, grad):
        (mask,) = self.saved
        return expand_back(grad, self.in_shape, self.axis, self.keepdim) * mask, None, None, None, None


def _check_nonempty(a, op):
    if a.data.size == 0:
        raise ValueError(f"{op}: cannot reduce an empty tensor of shape {tuple(a.shape)}")


def sum(a, dim=None, keepdim=False):
    return Sum.apply(a, axis=None if dim is None else axes(dim, a.data.ndim, "sum"), keepdim=keepdim)


def mean(a, dim=None, keepdim=False):
    if a.data.dtype.kind != "f":
        raise TypeError(f"mean: needs a floating tensor, got {a.dtype}; call .float() first")
    return Mean.apply(a, axis=axes(dim, a.data.ndim, "mean"), keepdim=keepdim)


def _extreme(a, dim, keepdim, mode):
    _check_nonempty(a, mode)
    if dim is None:
        return Extreme.apply(a, None, False, mode, None)
    if isinstance(dim, (int, xp.integer)):
        axis = axes(dim, a.ndim, mode)
        if axis is None:  # a 0-d tensor is its own max, at index 0
            return ValuesIndices(Extreme.apply(a, None, False, mode, None), Tensor._make(xp.zeros((), xp.int64)))
        pick = xp.argmax if mode == "max" else xp.argmin
        index = xp.expand_dims(pick(a.data, axis=axis[0]), axis[0])
        values = Extreme.apply(a, axis, keepdim, mode, index)
        indices = index if keepdim else index.squeeze(axis[0])
        return ValuesIndices(values, Tensor._make(indices.astype(xp.int64)))
    return Extreme.apply(a, axes(dim, a.ndim, mode), keepdim, mode, None)


def max(a, dim=None, keepdim=False):
    """Largest element; with an int ``dim``, (values, indices) as in torch."""
    return _extreme(a, dim, keepdim, "max")


def min(a, dim=None, keepdim=False):
    return _extreme(a, dim, keepdim, "min")


def amax(a, dim=None, keepdim=False):
    _check_nonempty(a, "amax")
    return Extreme.apply(a, axes(dim, a.ndim, "amax"), keepdim, "max", None)


def amin(a, dim=None, keepdim=False):
    _check_nonempty(a, "amin")
    return Extreme.apply(a, axes(dim, a.ndim, "amin"), keepdim, "min", None)


class Var(Function):
    """sum((x - mean)^2) / (n - correction); derivative 2 (x - mean) / (n - correction)."""

    def forward(self, a, axis, keepdim, correction):
        mu = a.mean(axis=axis, keepdims=True)
        centered = a - mu
        n = a.size // mu.size
        self.divisor = a.dtype.type(xp.maximum(n - correction, 0))
        self.in_shape, self.axis, self.keepdim = a.shape, axis, keepdim
        self.save_for_backward(centered)
        out = (centered * centered).sum(axis=axis, keepdims=keepdim)
        with xp.errstate(divide="ignore", invalid="ignore"):
            return out / self.divisor

    def backward(self, grad):
        (centered,) = self.saved
        scaled = expand_back(grad, self.in_shape, self.axis, self.keepdim)
        return scaled * centered * (2 / self.divisor), None, None, None


def var(a, dim=None, unbiased=None, keepdim=False, correction=None):
    """Variance with Bessel's correction by default (``correction=1``), as in torch."""
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    return Var.apply(a, axes(dim, a.ndim, "var"), keepdim, correction)


def std(a, dim=None, unbiased=None, keepdim=False, correction=None):
    return var(a, dim, unbiased, keepdim, correction).sqrt()


class LogSumExp(Function):
    """log sum exp(x), computed as m + log sum exp(x - m) with m = max x: never overflows.
    Its derivative is softmax(x)."""

    def forward(self, a, axis, keepdim):
        m = a.max(axis=axis, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)
        e = xp.exp(a - m)
        total = e.sum(axis=axis, keepdims=True)
        out = xp.log(total) + m
        # softmax = e / total, exact even where exp(a - out) would lose float32 digits
        self.save_for_backward(e, total)
        self.in_shape, self.axis, self.keepdim = a.shape, axis, keepdim
        return drop_axes(out, axis, keepdim)

    def backward(self, grad):
        e, total = self.saved
        return expand_back(grad, self.in_shape, self.axis, self.keepdim) * (e / total), None, None


def logsumexp(a, dim, keepdim=False):
    return LogSumExp.apply(a, axes(dim, a.ndim, "logsumexp"), keepdim)


class Norm2(Function):
    """sqrt(sum x^2); its derivative x / norm is taken as 0 where the norm is 0."""

    def forward(self, a, axis, keepdim):
        out = xp.sqrt((a * a).sum(axis=axis, keepdims=True))
        self.save_for_backward(a, out)
        self.in_shape, self.axis, self.keepdim = a.shape, axis, keepdim
        return drop_axes(out, axis, keepdim)

    def backward(self, grad):
        a, out = self.saved
        safe = xp.where(out == 0, 1, out)
        return expand_back(grad, self.in_shape, self.axis, self.keepdim) * a / safe, None, None


def norm(a, p=2, dim=None, keepdim=False):
    axis = axes(dim, a.ndim, "norm")
    if p == 2 or p == "fro":
        return Norm2.apply(a, axis, keepdim)
    if p == 1:
        return sum(a.abs(), dim, keepdim)
    if p == float("inf"):
        return amax(a.abs(), dim, keepdim)
    return sum(a.abs() ** p, dim, keepdim) ** (1.0 / p)


def _arg(a, dim, keepdim, pick):
    if dim is None:
        out = pick(a.data.reshape(-1), axis=0)
        return Tensor._make(xp.asarray(out, dtype=xp.int64).reshape((1,) * a.ndim if keepdim else ()))
    axis = normalize_dim(dim, a.ndim, pick.__name__)
    out = pick(a.data, axis=axis, keepdims=keepdim)
    return Tensor._make(out.astype(xp.int64))


def argmax(a, dim=None, keepdim=False):
    return _arg(a, dim, keepdim, xp.argmax)


def argmin(a, dim=None, keepdim=False):
    return _arg(a, dim, keepdim, xp.argmin)


def any(a, dim=None, keepdim=False):
    return Tensor._make(xp.asarray(a.data.any(axis=axes(dim, a.ndim, "any"), keepdims=keepdim)))


def all(a, dim=None, keepdim=False):
    return Tensor._make(xp.asarray(a.data.all(axis=axes(dim, a.ndim, "all"), keepdims=keepdim)))
