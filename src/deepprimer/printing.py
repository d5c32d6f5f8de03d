"""How a tensor prints: PyTorch's layout, so a learner's printouts read the same in both.

``format_tensor(array, "tensor", extras)`` gives the body of ``repr(t)``: four decimals or
integer-looking floats, aligned columns, ``...`` for large tensors, and the extras
(``dtype=``, ``grad_fn=``, ``requires_grad=True``) after it.
"""
from .backend import float64, xp

_LINEWIDTH, _EDGEITEMS, _THRESHOLD, _PRECISION = 80, 3, 1000, 4


def format_tensor(array, name, extras):
    """``name(values, extra, ...)`` laid out as torch lays out a tensor: 4 decimals, whole
    numbers as "3.", scientific notation for wide ranges, edges only beyond 1000 elements."""
    prefix = f"{name}("
    indent = len(prefix)
    if array.size == 0:
        body = "[]"
        if array.ndim != 1:
            extras = [f"size={tuple(array.shape)}"] + list(extras)
    else:
        summarize = array.size > _THRESHOLD
        fmt = _Formatter(_summarized(array) if summarize else array)
        body = _tensor_str(array, indent, fmt, summarize)
    pieces = [prefix + body]
    for extra in extras:  # torch's rule: measured against the previous piece, all its lines
        wrap = len(pieces[-1]) + len(extra) + 2 > _LINEWIDTH
        pieces.append((",\n" + " " * indent if wrap else ", ") + extra)
    return "".join(pieces) + ")"


def _summarized(array):
    """The elements that get printed: the 3 at each edge of every long dim."""
    for axis, n in enumerate(array.shape):
        if n > 2 * _EDGEITEMS:
            keep = list(range(_EDGEITEMS)) + list(range(n - _EDGEITEMS, n))
            array = array.take(keep, axis=axis)
    return array


class _Formatter:
    """torch's choice of notation, made once from the values that will be shown."""

    def __init__(self, array):
        self.floating = array.dtype.kind == "f"
        self.mode = "int"
        if not self.floating:
            self.width = max(len(str(v)) for v in array.ravel().tolist())
            return
        values = array[xp.isfinite(array) & (array != 0)].astype(float64)
        self.width = 1
        if values.size == 0:
            return
        magnitude = xp.abs(values)
        wide = magnitude.max() / magnitude.min() > 1000.0 or magnitude.max() > 1.0e8
        if not xp.all(values == xp.ceil(values)):
            self.mode = "sci" if wide or magnitude.min() < 1.0e-4 else "fixed"
        elif wide:
            self.mode = "sci"
        self.width = max(len(self._plain(v)) for v in values.tolist())

    def _plain(self, v):
        if self.mode == "sci":
            return f"{v:.{_PRECISION}e}"
        if self.mode == "fixed":
            return f"{v:.{_PRECISION}f}"
        return f"{v:.0f}." if v - v == 0 else f"{v:.0f}"  # "3." but "inf", "nan"

    def __call__(self, v):
        text = self._plain(v) if self.floating else str(v)
        return text.rjust(self.width)


def _vector_str(array, indent, fmt, summarize):
    per_line = max(1, (_LINEWIDTH - indent) // (fmt.width + 2))
    if summarize and array.shape[0] > 2 * _EDGEITEMS:
        items = [fmt(v) for v in array[:_EDGEITEMS].tolist()] + [" ..."]
        items += [fmt(v) for v in array[-_EDGEITEMS:].tolist()]
    else:
        items = [fmt(v) for v in array.tolist()]
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _tensor_str(array, indent, fmt, summarize):
    if array.ndim == 0:
        return fmt(array.item())
    if array.ndim == 1:
        return _vector_str(array, indent, fmt, summarize)
    n = array.shape[0]
    if summarize and n > 2 * _EDGEITEMS:
        rows = [_tensor_str(array[i], indent + 1, fmt, summarize) for i in range(_EDGEITEMS)]
        rows.append("...")
        rows += [_tensor_str(array[i], indent + 1, fmt, summarize) for i in range(n - _EDGEITEMS, n)]
    else:
        rows = [_tensor_str(array[i], indent + 1, fmt, summarize) for i in range(n)]
    return "[" + ("," + "\n" * (array.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


