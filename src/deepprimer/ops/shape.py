"""Shape ops: they move numbers around without changing them.

Their backward moves the gradient back the same way: reshape reshapes it back,
transpose transposes it back, indexing scatters it back into the positions it came from.
"""
import builtins

from ..autograd import Function
from ..backend import xp
from ..tensor import Tensor, normalize_dim


def _sizes(args, op):
    """(2, 3), ((2, 3),) or ([2, 3],) -> (2, 3)."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    try:
        return tuple(int(s) for s in args)
    except (TypeError, ValueError):
        raise TypeError(f"{op}: sizes must be ints, got {args!r}") from None


class AsType(Function):
    def forward(self, a, dtype):
        self.in_dtype = a.dtype
        return a.astype(dtype)

    def backward(self, grad):
        return grad.astype(self.in_dtype), None


def astype(a, dtype):
    dtype = xp.dtype(dtype)
    if a.data.dtype == dtype:
        return a
    return AsType.apply(a, dtype)


class Clone(Function):
    def forward(self, a):
        return a.copy()

    def backward(self, grad):
        return grad


def clone(a):
    return Clone.apply(a)


class Reshape(Function):
    def forward(self, a, shape):
        self.in_shape = a.shape
        return a.reshape(shape)

    def backward(self, grad):
        return grad.reshape(self.in_shape), None


def reshape(a, *shape):
    shape = _sizes(shape, "reshape")
    n = a.data.size
    known = 1
    for s in shape:
        if s != -1:
            known *= s
    if shape.count(-1) > 1 or (-1 in shape and (known == 0 or n % known)) or (-1 not in shape and known != n):
        raise ValueError(
            f"reshape: cannot view a tensor of shape {tuple(a.shape)} ({n} elements) as "
            f"shape {shape}" + (f" ({known} elements)" if -1 not in shape else "")
        )
    if shape == a.data.shape:
        return a
    return Reshape.apply(a, shape)


def flatten(a, start_dim=0, end_dim=-1):
    if a.ndim == 0:
        return reshape(a, 1)
    start = normalize_dim(start_dim, a.ndim, "flatten")
    end = normalize_dim(end_dim, a.ndim, "flatten")
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    shape = a.data.shape
    return reshape(a, shape[:start] + (-1 if 0 not in shape else 0,) + shape[end + 1 :])


def squeeze(a, dim=None):
    shape = a.data.shape
    if dim is None:
        return reshape(a, tuple(s for s in shape if s != 1))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    drop = {normalize_dim(d, a.ndim, "squeeze") for d in dims}
    return reshape(a, tuple(s for i, s in enumerate(shape) if not (i in drop and s == 1)))


def unsqueeze(a, dim):
    d = normalize_dim(dim, a.ndim + 1, "unsqueeze")
    shape = a.data.shape
    return reshape(a, shape[:d] + (1,) + shape[d:])


class Permute(Function):
    def forward(self, a, dims):
        self.inverse = tuple(xp.argsort(dims))
        return a.transpose(dims)

    def backward(self, grad):
        return grad.transpose(self.inverse), None


def permute(a, *dims):
    dims = _sizes(dims, "permute")
    if len(dims) != a.ndim or sorted(normalize_dim(d, a.ndim, "permute") for d in dims) != list(range(a.ndim)):
        raise ValueError(
            f"permute: dims {dims} must be a rearrangement of all {a.ndim} dims of a tensor "
            f"of shape {tuple(a.shape)}"
        )
    dims = tuple(normalize_dim(d, a.ndim, "permute") for d in dims)
    if dims == tuple(range(a.ndim)):
        return a
    return Permute.apply(a, dims)


def transpose(a, dim0, dim1):
    d0, d1 = normalize_dim(dim0, a.ndim, "transpose"), normalize_dim(dim1, a.ndim, "transpose")
    if a.ndim == 0:
        return a
    dims = list(range(a.ndim))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return permute(a, *dims)


class Expand(Function):
    """Broadcast to a larger shape (a view). The engine sums the gradient back."""

    def forward(self, a, shape):
        return xp.broadcast_to(a, shape)

    def backward(self, grad):
        return grad, None


def expand(a, *sizes):
    sizes = _sizes(sizes, "expand")
    lead = len(sizes) - a.ndim
    if lead < 0:
        raise ValueError(f"expand: cannot expand shape {tuple(a.shape)} to fewer dims {sizes}")
    if -1 in sizes[:lead]:
        raise ValueError(f"expand: -1 (keep the size) is not allowed for the new leading dims in {sizes}")
    shape = tuple(a.data.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    try:
        xp.broadcast_to(a.data, shape)
    except ValueError:
        raise ValueError(
            f"expand: shape {tuple(a.shape)} cannot expand to {sizes}: only dims of size 1 "
            f"can grow"
        ) from None
    return Expand.apply(a, shape)


def repeat(a, *sizes):
    sizes = _sizes(sizes, "repeat")
    if len(sizes) < a.ndim:
        raise ValueError(f"repeat: give at least {a.ndim} repeat counts for shape {tuple(a.shape)}")
    a = reshape(a, (1,) * (len(sizes) - a.ndim) + a.data.shape)
    # repeat = expand along new axes interleaved with the old ones, then merge them
    inter = []
    for s, r in zip(a.data.shape, sizes):
        inter += [r, s]
    grown = expand(reshape(a, tuple(x for s in a.data.shape for x in (1, s))), *inter)
    return reshape(grown, tuple(s * r for s, r in zip(a.data.shape, sizes)))


# ---- indexing ---------------------------------------------------------------------


def array_index(index):
    """A tensor index as NumPy understands it (tensors and lists become arrays)."""
    if isinstance(index, tuple):
        return tuple(array_index(i) for i in index)
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list):
        return xp.asarray(index)
    return index


def _is_basic(index):
    parts = index if isinstance(index, tuple) else (index,)
    return builtins.all(
        isinstance(p, (int, slice, type(None), type(Ellipsis))) and not isinstance(p, bool)
        for p in parts
    )


class GetItem(Function):
    """x[index]. Backward scatter-adds, so an index repeated k times gets k gradients."""

    def forward(self, a, index):
        self.in_shape, self.dtype, self.index = a.shape, a.dtype, index
        # backward reads the index arrays through self.index; saved too, so that one changed
        # in place before backward is caught (autograd/changes.py)
        self.save_for_backward(*(part for part in (index if isinstance(index, tuple) else (index,))
                                 if isinstance(part, xp.ndarray)))
        return a[index]

    def backward(self, grad):
        full = xp.zeros(self.in_shape, dtype=self.dtype)
        if _is_basic(self.index):
            full[self.index] = grad
        else:
            xp.add.at(full, self.index, grad)
        return full, None


def getitem(a, index):
    index = array_index(index)
    try:
        return GetItem.apply(a, index)
    except IndexError as err:
        raise IndexError(f"index {index!r} into a tensor of shape {tuple(a.shape)}: {err}") from None


# ---- joining and splitting ---------------------------------------------------------


class Cat(Function):
    def forward(self, *arrays, axis):
        self.axis = axis
        self.bounds = xp.cumsum([a.shape[axis] for a in arrays])[:-1]
        return xp.concatenate(arrays, axis=axis)

    def backward(self, grad):
        return tuple(xp.split(grad, self.bounds, axis=self.axis))


def _common(tensors, op):
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise ValueError(f"{op}: expected a non-empty sequence of tensors")
    # torch's promotion: a float among them decides (int64 with float32 is float32, not float64)
    dtypes = [t.data.dtype for t in tensors]
    dtype = xp.result_type(*([d for d in dtypes if d.kind == "f"] or dtypes))
    return [t.astype(dtype) for t in tensors]


def cat(tensors, dim=0):
    tensors = _common(tensors, "cat")
    axis = normalize_dim(dim, tensors[0].ndim, "cat")
    first = tensors[0].data.shape
    for i, t in enumerate(tensors[1:], 1):
        shape = t.data.shape
        if len(shape) != len(first) or builtins.any(
            s != f for d, (s, f) in enumerate(zip(shape, first)) if d != axis
        ):
            raise ValueError(
                f"cat: tensor {i} has shape {tuple(shape)} but tensor 0 has {tuple(first)}; "
                f"all sizes except dim {dim} must match"
            )
    return Cat.apply(*tensors, axis=axis)


def stack(tensors, dim=0):
    tensors = _common(tensors, "stack")
    first = tensors[0].data.shape
    for i, t in enumerate(tensors[1:], 1):
        if t.data.shape != first:
            raise ValueError(
                f"stack: tensor {i} has shape {tuple(t.shape)} but tensor 0 has {tuple(first)}; "
                f"stack needs equal shapes"
            )
    d = normalize_dim(dim, len(first) + 1, "stack")
    return cat([unsqueeze(t, d) for t in tensors], d)


def split(a, split_size_or_sections, dim=0):
    axis = normalize_dim(dim, a.ndim, "split")
    length = a.data.shape[axis]
    if isinstance(split_size_or_sections, int):
        if split_size_or_sections <= 0:
            raise ValueError(f"split: split_size must be positive, got {split_size_or_sections}")
        sizes = [split_size_or_sections] * (length // split_size_or_sections)
        if length % split_size_or_sections:
            sizes.append(length % split_size_or_sections)
    else:
        sizes = list(split_size_or_sections)
        if builtins.sum(sizes) != length:
            raise ValueError(f"split: sections {sizes} add up to {builtins.sum(sizes)}, not {length}")
    pieces, start = [], 0
    lead = (slice(None),) * axis
    for size in sizes:
        pieces.append(getitem(a, lead + (slice(start, start + size),)))
        start += size
    return tuple(pieces)


def chunk(a, chunks, dim=0):
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    length = a.data.shape[normalize_dim(dim, a.ndim, "chunk")]
    return split(a, max(-(-length // chunks), 1), dim)


# ---- padding -------------------------------------------------------------------------


class PadConstant(Function):
    def forward(self, a, widths, value):
        self.inner = tuple(slice(lo, lo + s) for (lo, _), s in zip(widths, a.shape))
        return xp.pad(a, widths, mode="constant", constant_values=value)

    def backward(self, grad):
        return grad[self.inner], None, None


class PadIndexed(Function):
    """reflect / replicate / circular padding: a gather along each padded axis."""

    def forward(self, a, maps):
        self.maps, self.in_shape = maps, a.shape
        for axis, index in maps:
            a = a.take(index, axis=axis)
        return a

    def backward(self, grad):
        for axis, index in reversed(self.maps):
            moved = xp.moveaxis(grad, axis, 0)
            out = xp.zeros((self.in_shape[axis],) + moved.shape[1:], dtype=grad.dtype)
            xp.add.at(out, index, moved)
            grad = xp.moveaxis(out, 0, axis)
        return grad, None


def _pad_index(n, lo, hi, mode):
    positions = xp.arange(-lo, n + hi)
    if mode == "replicate":
        return xp.clip(positions, 0, n - 1)
    if mode == "circular":
        return positions % n
    period = 2 * (n - 1)  # reflect: ... 2 1 [0 1 2 3] 2 1 ...
    folded = xp.abs(positions) % period
    return xp.where(folded >= n, period - folded, folded)


def pad(a, pad, mode="constant", value=0.0):
    """torch's F.pad: ``pad`` lists (left, right) widths starting from the LAST dim."""
    if len(pad) % 2 or len(pad) // 2 > a.ndim:
        raise ValueError(
            f"pad: expected an even number of widths for at most {a.ndim} dims, got {tuple(pad)}"
        )
    widths = [(0, 0)] * a.ndim
    for i in range(len(pad) // 2):
        widths[a.ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    if builtins.any(lo < 0 or hi < 0 for lo, hi in widths):
        raise ValueError(f"pad: negative widths {tuple(pad)} are not supported")
    if mode == "constant":
        return PadConstant.apply(a, tuple(widths), value)
    if mode not in ("reflect", "replicate", "circular"):
        raise ValueError(f"pad: mode must be constant, reflect, replicate or circular, got {mode!r}")
    maps = []
    for axis, (lo, hi) in enumerate(widths):
        if lo or hi:
            n = a.data.shape[axis]
            if mode == "reflect" and (lo >= n or hi >= n):
                raise ValueError(f"pad: reflect padding {lo, hi} must be smaller than the dim size {n}")
            maps.append((axis, _pad_index(n, lo, hi, mode)))
    return PadIndexed.apply(a, tuple(maps))
