"""Tensor: an array, the gradient it will receive, and the op that made it.

A tensor holds ``data`` (a NumPy array), ``requires_grad``, ``grad`` (filled by
``backward()``) and ``_ctx``, the :class:`~deepprimer.autograd.Function` that produced it
(``None`` for a leaf you created). Every method here only forwards to an op in
``deepprimer.ops``; the arithmetic and its derivative live there.
"""
from . import backend
from .backend import xp
from .printing import format_tensor


class Tensor:
    __slots__ = ("data", "grad", "requires_grad", "_ctx", "_hooks", "__weakref__")
    __array_priority__ = 1000  # so ndarray + Tensor calls Tensor.__radd__

    def __init__(self, data, dtype=None, requires_grad=False):
        self.data = as_array(data, dtype)
        self.grad = None
        self.requires_grad = False
        self._ctx = None
        self._hooks = None
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, data, ctx=None):
        """Wrap an array without copying or checking it (the ops' fast path); with ``ctx``,
        the output of that recorded node."""
        t = object.__new__(Tensor)
        t.data = data
        t.grad = None
        t.requires_grad = ctx is not None
        t._ctx = ctx
        t._hooks = None
        return t

    # ---- what it is -------------------------------------------------------------
    @property
    def shape(self):
        return Size(self.data.shape)

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def device(self):
        return "cpu"

    @property
    def is_leaf(self):
        return self._ctx is None

    @property
    def grad_fn(self):
        return self._ctx

    def size(self, dim=None):
        return self.shape if dim is None else self.data.shape[normalize_dim(dim, self.ndim, "size")]

    def numel(self):
        return self.data.size

    def dim(self):
        return self.data.ndim

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def is_floating_point(self):
        return self.data.dtype.kind == "f"

    # ---- leaving the graph ------------------------------------------------------
    def numpy(self):
        if self.requires_grad:
            raise RuntimeError(
                "Can't call numpy() on a tensor that requires grad: use t.detach().numpy()"
            )
        return self.data

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    def item(self):
        if self.data.size != 1:
            raise ValueError(
                f"item(): only a one-element tensor converts to a Python number; "
                f"this one has shape {tuple(self.shape)}"
            )
        return self.data.reshape(()).item()

    def tolist(self):
        return self.data.tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.data.dtype.kind not in "iub":
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self.item())

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(
                f"Boolean value of a tensor with {self.data.size} values is ambiguous: "
                f"use .any() or .all()"
            )
        return bool(self.data.reshape(()))

    def __format__(self, spec):
        if self.data.size == 1 and spec:
            return format(self.item(), spec)
        return repr(self)

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.data.shape[0]))

    # identity hashing (== is elementwise), as object's C slot: dict lookups by tensor stay cheap
    __hash__ = object.__hash__

    def __deepcopy__(self, memo):
        """A copy of a leaf: its data, requires_grad and grad. A tensor computed by the graph
        cannot be copied with it (its nodes would exist twice), as in torch."""
        if self._ctx is not None:
            raise RuntimeError(
                "Only tensors created by the user (graph leaves) support deepcopy: this one was "
                "computed by an op and is part of a graph. Copy t.detach() instead."
            )
        result = Tensor._make(self.data.copy())
        result.requires_grad = self.requires_grad
        if self.grad is not None:
            result.grad = Tensor._make(self.grad.data.copy())
        memo[id(self)] = result
        return result

    def __reduce_ex__(self, protocol):
        if self._ctx is not None and self.requires_grad:
            raise RuntimeError(
                "Refusing to pickle a non-leaf tensor that requires grad: its graph cannot cross "
                "a process boundary. To send the values, pickle t.detach()."
            )
        return (_rebuild, (self.data, self.requires_grad))

    def detach(self):
        """The same array, cut from the graph (no copy)."""
        return Tensor._make(self.data)

    def _mark_modified(self):
        """Record an in-place change of ``data``: a graph that saved this array for its
        backward must not use it silently (torch's version counter; autograd/changes.py)."""
        _note_change(self.data)

    def detach_(self):
        self._ctx = None
        self.requires_grad = False
        return self

    def requires_grad_(self, requires_grad=True):
        if requires_grad and self.data.dtype.kind not in "fc":
            raise RuntimeError(
                f"only floating point tensors can require gradients, this one is "
                f"{self.data.dtype}; convert it first with .float()"
            )
        if not requires_grad and self._ctx is not None:
            raise RuntimeError("requires_grad_(False) on a non-leaf: use .detach() instead")
        self.requires_grad = bool(requires_grad)
        return self

    def backward(self, gradient=None, retain_graph=False):
        """Fill ``.grad`` of every leaf this tensor depends on with d(self)/d(leaf)."""
        autograd.backward(self, gradient, retain_graph=retain_graph)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a return replaces it.
        Returns a handle whose ``remove()`` takes the hook off again, as in torch."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: this tensor does not require grad")
        owner, attr = (self, "_hooks") if self._ctx is None else (self._ctx, "hooks")
        setattr(owner, attr, (getattr(owner, attr) or []) + [hook])
        return _HookHandle(owner, attr, hook)

    def retain_grad(self):
        """Keep ``.grad`` on this non-leaf tensor after backward (leaves always keep it)."""
        if self._ctx is not None:
            import weakref

            self._ctx.retained_by = weakref.ref(self)

    # ---- dtype ------------------------------------------------------------------
    def to(self, dtype=None, *args, **kwargs):
        if isinstance(dtype, str) and dtype in ("cpu",):
            return self
        return self.astype(dtype) if dtype is not None else self

    def astype(self, dtype):
        return _shape.astype(self, dtype)

    type = astype

    def float(self):
        return self.astype(backend.float32)

    def double(self):
        return self.astype(backend.float64)

    def long(self):
        return self.astype(backend.int64)

    def int(self):
        return self.astype(backend.int32)

    def bool(self):
        return self.astype(backend.bool_)

    def clone(self):
        return _shape.clone(self)

    def contiguous(self):
        return self

    # ---- in place: only outside the graph (optimizers, init, data preparation) ----
    def _inplace(self, op, other=None):
        check_inplace(self, other)
        value = other.data if isinstance(other, Tensor) else other
        try:
            if op == "copy":
                self.data[...] = value
            elif op == "add":
                self.data += value
            elif op == "sub":
                self.data -= value
            elif op == "mul":
                self.data *= value
            elif op == "div":
                self.data /= value
        except (TypeError, ValueError) as err:  # NumPy's words, made to name the op and shapes
            _inplace_error(self, op, value, err)
        self._mark_modified()
        return self

    def __iadd__(self, other):
        return self._inplace("add", other)

    def __isub__(self, other):
        return self._inplace("sub", other)

    def __imul__(self, other):
        return self._inplace("mul", other)

    def __itruediv__(self, other):
        return self._inplace("div", other)

    def add_(self, other, alpha=1):
        return self._inplace("add", other if alpha == 1 else other * alpha)

    def sub_(self, other, alpha=1):
        return self._inplace("sub", other if alpha == 1 else other * alpha)

    def mul_(self, other):
        return self._inplace("mul", other)

    def div_(self, other):
        return self._inplace("div", other)

    def copy_(self, src):
        return self._inplace("copy", src)

    def fill_(self, value):
        return self._inplace("copy", value)

    def zero_(self):
        return self._inplace("copy", 0)

    def clamp_(self, min=None, max=None):
        check_inplace(self)
        xp.clip(self.data, min, max, out=self.data)
        self._mark_modified()
        return self

    def __setitem__(self, index, value):
        check_inplace(self, value)
        self.data[_shape.array_index(index)] = value.data if isinstance(value, Tensor) else value
        self._mark_modified()

    # ---- arithmetic ---------------------------------------------------------------
    def __add__(self, other):
        return _ew.add(self, other)

    def __radd__(self, other):
        return _ew.add(other, self)

    def __sub__(self, other):
        return _ew.sub(self, other)

    def __rsub__(self, other):
        return _ew.sub(other, self)

    def __mul__(self, other):
        return _ew.mul(self, other)

    def __rmul__(self, other):
        return _ew.mul(other, self)

    def __truediv__(self, other):
        return _ew.div(self, other)

    def __rtruediv__(self, other):
        return _ew.div(other, self)

    def __pow__(self, other):
        return _ew.pow(self, other)

    def __rpow__(self, other):
        return _ew.pow(other, self)

    def __neg__(self):
        return _ew.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ew.abs(self)

    def __matmul__(self, other):
        return _linalg.matmul(self, other)

    def __rmatmul__(self, other):
        return _linalg.matmul(other, self)

    # comparisons give bool tensors and no gradient
    def __eq__(self, other):
        return _ew.compare("eq", self, other)

    def __ne__(self, other):
        return _ew.compare("ne", self, other)

    def __lt__(self, other):
        return _ew.compare("lt", self, other)

    def __le__(self, other):
        return _ew.compare("le", self, other)

    def __gt__(self, other):
        return _ew.compare("gt", self, other)

    def __ge__(self, other):
        return _ew.compare("ge", self, other)

    def __invert__(self):
        return _ew.logical_not(self)

    def __and__(self, other):
        return _ew.compare("and", self, other)

    def __or__(self, other):
        return _ew.compare("or", self, other)

    def __xor__(self, other):
        return _ew.compare("xor", self, other)

    def eq(self, other):
        return self == other

    def ne(self, other):
        return self != other

    def lt(self, other):
        return self < other

    def le(self, other):
        return self <= other

    def gt(self, other):
        return self > other

    def ge(self, other):
        return self >= other

    def add(self, other, alpha=1):
        return _ew.add(self, other if alpha == 1 else other * alpha)

    def sub(self, other, alpha=1):
        return _ew.sub(self, other if alpha == 1 else other * alpha)

    def mul(self, other):
        return _ew.mul(self, other)

    def div(self, other):
        return _ew.div(self, other)

    def pow(self, exponent):
        return _ew.pow(self, exponent)

    def matmul(self, other):
        return _linalg.matmul(self, other)

    def neg(self):
        return _ew.neg(self)

    def abs(self):
        return _ew.abs(self)

    def exp(self):
        return _ew.exp(self)

    def log(self):
        return _ew.log(self)

    def sqrt(self):
        return _ew.sqrt(self)

    def rsqrt(self):
        return 1.0 / _ew.sqrt(self)

    def square(self):
        return _ew.pow(self, 2)

    def sin(self):
        return _ew.sin(self)

    def cos(self):
        return _ew.cos(self)

    def tanh(self):
        return _ew.tanh(self)

    def sigmoid(self):
        return _ew.sigmoid(self)

    def relu(self):
        return _ew.relu(self)

    def clamp(self, min=None, max=None):
        return _ew.clamp(self, min, max)

    clip = clamp

    def maximum(self, other):
        return _ew.maximum(self, other)

    def minimum(self, other):
        return _ew.minimum(self, other)

    def sign(self):
        return _ew.sign(self)

    def logical_not(self):
        return _ew.logical_not(self)

    def isnan(self):
        return Tensor._make(xp.isnan(self.data))

    def isfinite(self):
        return Tensor._make(xp.isfinite(self.data))

    # ---- reductions -------------------------------------------------------------
    def sum(self, dim=None, keepdim=False, dtype=None):
        out = _reduce.sum(self, dim, keepdim)
        return out if dtype is None else out.astype(dtype)

    def mean(self, dim=None, keepdim=False):
        return _reduce.mean(self, dim, keepdim)

    def max(self, dim=None, keepdim=False):
        return _reduce.max(self, dim, keepdim)

    def min(self, dim=None, keepdim=False):
        return _reduce.min(self, dim, keepdim)

    def amax(self, dim=None, keepdim=False):
        return _reduce.amax(self, dim, keepdim)

    def amin(self, dim=None, keepdim=False):
        return _reduce.amin(self, dim, keepdim)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return _reduce.var(self, dim, unbiased, keepdim, correction=correction)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return _reduce.std(self, dim, unbiased, keepdim, correction=correction)

    def logsumexp(self, dim, keepdim=False):
        return _reduce.logsumexp(self, dim, keepdim)

    def argmax(self, dim=None, keepdim=False):
        return _reduce.argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        return _reduce.argmin(self, dim, keepdim)

    def norm(self, p=2, dim=None, keepdim=False):
        return _reduce.norm(self, p, dim, keepdim)

    def any(self, dim=None, keepdim=False):
        return _reduce.any(self, dim, keepdim)

    def all(self, dim=None, keepdim=False):
        return _reduce.all(self, dim, keepdim)

    def softmax(self, dim):
        return _nn_ops.softmax(self, dim)

    def log_softmax(self, dim):
        return _nn_ops.log_softmax(self, dim)

    # ---- shape --------------------------------------------------------------------
    def reshape(self, *shape):
        return _shape.reshape(self, *shape)

    def view(self, *shape):
        return _shape.reshape(self, *shape)

    def view_as(self, other):
        return _shape.reshape(self, other.shape)

    def reshape_as(self, other):
        return _shape.reshape(self, other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        return _shape.flatten(self, start_dim, end_dim)

    def squeeze(self, dim=None):
        return _shape.squeeze(self, dim)

    def unsqueeze(self, dim):
        return _shape.unsqueeze(self, dim)

    def transpose(self, dim0, dim1):
        return _shape.transpose(self, dim0, dim1)

    def permute(self, *dims):
        return _shape.permute(self, *dims)

    def expand(self, *sizes):
        return _shape.expand(self, *sizes)

    def expand_as(self, other):
        return _shape.expand(self, other.shape)

    def split(self, split_size_or_sections, dim=0):
        return _shape.split(self, split_size_or_sections, dim)

    def chunk(self, chunks, dim=0):
        return _shape.chunk(self, chunks, dim)

    def repeat(self, *sizes):
        return _shape.repeat(self, *sizes)

    @property
    def T(self):
        return _shape.permute(self, *reversed(range(self.ndim)))

    @property
    def mT(self):
        return _shape.transpose(self, -2, -1)

    def t(self):
        if self.ndim > 2:
            raise ValueError(f"t(): expects a tensor with <= 2 dims, got {self.ndim}; use transpose")
        return self.T

    def __getitem__(self, index):
        return _shape.getitem(self, index)

    def masked_fill(self, mask, value):
        return _ew.where(mask, value, self)

    # ---- printing ---------------------------------------------------------------
    def __repr__(self):
        extras = []
        # values tell int64 and bool apart; an empty tensor has none to show
        implied = (backend.get_default_dtype(),) + ((backend.int64, backend.bool_) if self.data.size else ())
        if self.data.dtype not in implied:
            extras.append(f"dtype=deepprimer.{self.data.dtype}")
        if self._ctx is not None:
            extras.append(f"grad_fn={self._ctx!r}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return format_tensor(self.data, "tensor", extras)


class _HookHandle:
    """What ``register_hook`` returns: ``handle.remove()`` unregisters the hook."""

    def __init__(self, owner, attr, hook):
        self.owner, self.attr, self.hook = owner, attr, hook

    def remove(self):
        hooks = [h for h in getattr(self.owner, self.attr) or () if h is not self.hook]
        setattr(self.owner, self.attr, hooks or None)


class Size(tuple):
    """A shape, printed as torch prints one: ``deepprimer.Size([2, 3])``."""

    def __repr__(self):
        return f"deepprimer.Size({list(self)})"

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n


def as_array(data, dtype=None):
    """An array from Python data, a NumPy array or a Tensor, with torch's dtype rules:

    Python floats become the default float dtype (float32), Python ints int64, bools bool;
    a NumPy array keeps its dtype unless ``dtype`` says otherwise.
    """
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        dtype = xp.dtype(dtype)
    if isinstance(data, xp.ndarray):
        return data.astype(dtype) if dtype is not None and data.dtype != dtype else data
    if isinstance(data, (list, tuple)) and any(isinstance(d, Tensor) for d in _flat(data)):
        data = [d.data if isinstance(d, Tensor) else d for d in data]
    array = xp.asarray(data)
    if dtype is not None:
        return array.astype(dtype, copy=False)
    if array.dtype.kind == "f" and not isinstance(data, xp.generic):
        return array.astype(backend.get_default_dtype(), copy=False)
    if array.dtype.kind in "iu" and array.dtype != backend.int64 and not isinstance(data, xp.generic):
        return array.astype(backend.int64)
    if array.dtype.kind not in "fiub":
        raise TypeError(f"tensor: cannot make a tensor from {type(data).__name__} data of dtype {array.dtype}")
    return array


def _flat(data):
    for d in data:
        if isinstance(d, (list, tuple)):
            yield from _flat(d)
        else:
            yield d


def normalize_dim(dim, ndim, op):
    """A dim in [-ndim, ndim) as a non-negative int, or a clear error."""
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise DimensionError(
            f"{op}: dimension {dim} is out of range for a tensor with {ndim} dims "
            f"(expected a dim in [{-n}, {n - 1}])"
        )
    return dim % n


class DimensionError(IndexError, ValueError):
    """A dim argument outside the tensor's dimensions."""


def _inplace_error(tensor, op, value, err):
    shape = tuple(xp.shape(value))
    dtype = getattr(value, "dtype", type(value).__name__)
    if not tensor.data.flags.writeable:
        raise ValueError(
            f"{op}_ (in place): this tensor's array is read-only (it shares memory NumPy marked "
            f"read-only); write x = x {_SYMBOL[op]} y for a new tensor"
        ) from None
    if isinstance(err, TypeError):
        raise TypeError(
            f"{op}_ (in place): the result of {tensor.dtype} {op} {dtype} cannot be stored in "
            f"this {tensor.dtype} tensor; write x = x {_SYMBOL[op]} y for a new tensor, or "
            f"convert x first (x = x.float())"
        ) from None
    raise ValueError(
        f"{op}_ (in place): a value of shape {shape} cannot be broadcast into this tensor "
        f"of shape {tuple(tensor.shape)} (an in-place result keeps the tensor's shape)"
    ) from None


_SYMBOL = {"add": "+", "sub": "-", "mul": "*", "div": "/", "copy": "="}


def _rebuild(data, requires_grad):
    """Unpickle a tensor: a leaf holding ``data``."""
    t = Tensor._make(data)
    t.requires_grad = requires_grad
    return t


def check_inplace(tensor, other=None):
    """In-place changes are refused where they would corrupt the graph."""
    if not autograd.is_grad_enabled():
        return
    if tensor.requires_grad:
        if tensor._ctx is None:
            raise RuntimeError(
                "a leaf tensor that requires grad is being changed in place (x += ..., "
                "x[i] = ...). Optimizers do this inside `with dp.no_grad():`; otherwise "
                "write x = x + ... to make a new tensor."
            )
        raise RuntimeError(
            "in-place change of a tensor that is part of the graph: backward still needs its "
            "value. Write y = y + ... (out of place) instead of y += ...."
        )
    if isinstance(other, Tensor) and other.requires_grad:
        raise RuntimeError(
            "in-place change with an operand that requires grad: the result would need a "
            "graph. Write x = x + y (out of place) instead."
        )


from . import autograd  # noqa: E402  (autograd needs Tensor defined first)
from .autograd.changes import note_change as _note_change  # noqa: E402
from .ops import elementwise as _ew  # noqa: E402
from .ops import linalg as _linalg  # noqa: E402
from .ops import nn_ops as _nn_ops  # noqa: E402
from .ops import reduce as _reduce  # noqa: E402
from .ops import shape as _shape  # noqa: E402
