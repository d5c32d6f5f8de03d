"""Pooling and nearest-neighbour upsampling, as fused kernels.

Max and average pooling slide a kH x kW window over each channel; every output is the
max (or mean) of the window. Both are computed one kernel tap at a time: tap (a, b) of
every window at once is a strided view of the (padded) input,

    input[:, :, a*d : ... : stride, b*d : ... : stride]       (one array per tap)

so the Python loop runs over the kH*kW taps, never over output pixels. Backward:

* max pool: the gradient goes to the element that won (torch's rule: the first maximum
  in the window, row by row). Forward is a running ``maximum`` over the taps; backward
  finds the winners again, tap by tap (``tap == max`` and no earlier tap won), and adds
  ``grad * won`` into each tap's view. The usual CNN pool, 2x2 windows tiling a
  channels-last input, has its own path: forward records the winners with three
  comparisons, and both directions work on contiguous copies of the taps (see
  ``_tiled_2x2``);
* average pool: every element of a window receives grad / divisor.

The kernels work in whatever memory layout the input has: an (N, C, H, W) array that is
channels-last in memory (what the conv kernels hand out) is pooled as (N, H, W, C), whose
inner loop then runs over contiguous channels, and the result keeps that layout.

Adaptive average pooling is separable: it averages rows, then columns, each by a small
averaging matrix, so it is two matmuls (and its gradient the two transposed ones).
Nearest upsampling gathers rows and columns by index; its gradient sums back the
repeated ones with ``add.reduceat`` (the indices are sorted).

``conv_reference.py`` holds the same pools built from primitive ops, for the tests.
"""
import math

from ..autograd import Function
from ..backend import xp
from ..tensor import Tensor
from .conv import channels_last, fresh, kernel_taps, ntuple
from .elementwise import ReLUAfter

# ---- shared helpers -----------------------------------------------------------------------


def pool_output_size(size, kernel, stride, pad, dilation, ceil_mode):
    """torch's pooling_output_shape: the number of windows, floor or ceil; with ceil_mode
    the last window must still start inside the input or its left padding."""
    span = size + 2 * pad - dilation * (kernel - 1) - 1
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def _layout(x):
    """(view, channels_last): the input as (N, H, W, C) when that is how it lies in memory,
    else as it is, (N, C, H, W)."""
    v = channels_last(x)
    return (v, True) if v is not None else (x, False)


def _spatial_slice(last, rs, cs):
    return (slice(None), rs, cs) if last else (slice(None), slice(None), rs, cs)


def _padded(v, last, pads, value):
    """``v`` padded by ((top, bottom), (left, right)) on its spatial axes with ``value``."""
    (pt, pb), (pl, pr) = pads
    if not (pt or pb or pl or pr):
        return v
    if last:
        n, h, w, c = v.shape
        out = xp.full((n, pt + h + pb, pl + w + pr, c), value, dtype=v.dtype)
    else:
        n, c, h, w = v.shape
        out = xp.full((n, c, pt + h + pb, pl + w + pr), value, dtype=v.dtype)
    out[_spatial_slice(last, slice(pt, pt + h), slice(pl, pl + w))] = v
    return out


def _tiles(kernel, stride, dilation, padded_hw, out_hw):
    """True when the windows tile the padded input exactly: each element is in one window."""
    return all(
        d == 1 and s == k and o * k == p
        for k, s, d, p, o in zip(kernel, stride, dilation, padded_hw, out_hw)
    )


def _grad_layout(grad, last):
    return grad.transpose(0, 2, 3, 1) if last else grad


def _back_to_nchw(arr, last):
    return arr.transpose(0, 3, 1, 2) if last else arr


def _pool_geometry(x, kernel, stride, padding, dilation, ceil_mode, op, pad_limit):
    """Output size and the (before, after) pads per spatial dim, the after pad grown so
    ceil_mode's last window fits; with torch's checks and messages."""
    for k, p, d in zip(kernel, padding, dilation):
        limit = (d * (k - 1) + 1) // 2 if pad_limit == "effective" else k // 2
        if p > limit:
            what = "effective kernel size" if pad_limit == "effective" else "kernel size"
            raise ValueError(
                f"{op}: pad should be at most half of {what}, but got pad={p}, "
                f"kernel_size={k}" + (f" and dilation={d}" if pad_limit == "effective" else "")
            )
    h, w = x.shape[2:]
    out_hw = tuple(
        pool_output_size(size, k, s, p, d, ceil_mode)
        for size, k, s, p, d in zip((h, w), kernel, stride, padding, dilation)
    )
    if min(out_hw) < 1:
        raise ValueError(
            f"{op}: given input size ({x.shape[1]}x{h}x{w}) with kernel_size={kernel}, stride="
            f"{stride}, padding={padding}, dilation={dilation}, the output size would be "
            f"({x.shape[1]}x{out_hw[0]}x{out_hw[1]}): too small. Use a smaller kernel or "
            f"more padding, or pool a larger input"
        )
    pads = []
    for size, k, s, p, d, o in zip((h, w), kernel, stride, padding, dilation, out_hw):
        needed = (o - 1) * s + d * (k - 1) + 1
        pads.append((p, p + max(0, needed - (size + 2 * p))))
    return out_hw, tuple(pads)


def pool_args(kernel_size, stride, padding, dilation, op):
    """(kernel, stride, padding, dilation) as pairs of ints, checked; the stride defaults to the kernel."""
    kernel = ntuple(kernel_size, 2, "kernel_size", op, minimum=1)
    if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0):
        stride = kernel
    stride = ntuple(stride, 2, "stride", op, minimum=1)
    padding = ntuple(padding, 2, "padding", op, minimum=0)
    dilation = ntuple(dilation, 2, "dilation", op, minimum=1)
    return kernel, stride, padding, dilation


def _batched(input, op):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim == 4:
        return input, False
    if input.ndim == 3:
        return input.unsqueeze(0), True
    raise ValueError(
        f"{op}: expected a 4-D input (N, C, H, W) or a 3-D unbatched one (C, H, W), got shape {tuple(input.shape)}"
    )


# ---- max pooling ---------------------------------------------------------------------------


class MaxPool2d(Function):
    """Max over each window; backward routes the gradient to the window's argmax.

    Forward is a running maximum over the taps' views. Backward finds each window's
    winner again, tap by tap in row-major order: the first tap equal to the max that no
    earlier tap claimed (torch's rule for ties), and writes grad there. 2x2 windows that
    tile a channels-last input take ``_tiled_2x2``, which records the winners in forward.
    """

    def forward(self, x, kernel, stride, pads, dilation, out_hw, indices_out):
        v, last = _layout(x)
        low = -xp.inf if x.dtype.kind == "f" else xp.iinfo(x.dtype).min
        vp = _padded(v, last, pads, low)
        self.geometry = (x.shape, vp.shape, last, kernel, stride, pads, dilation, out_hw)
        padded_hw = vp.shape[1:3] if last else vp.shape[2:]
        wins = None  # the tiled 2x2 path's winners (None: backward finds them by equality)
        # without a gradient to come no winners are needed, and the plain running maximum is as fast
        wanted = indices_out is not None or self.needs_input_grad[0]
        if wanted and last and kernel == (2, 2) and vp.flags.c_contiguous and _tiles(
                kernel, stride, dilation, padded_hw, out_hw):
            out, wins = _tiled_2x2(vp)
        else:
            out = None
            for _, rs, cs in kernel_taps(kernel, stride, dilation, out_hw):
                window = vp[_spatial_slice(last, rs, cs)]
                if out is None:
                    out = fresh(window.shape, window.dtype)
                    out[...] = window
                else:
                    xp.maximum(out, window, out=out)
        if indices_out is not None:
            if wins is not None:
                winner = _tap_index(wins)
            else:
                winner = xp.zeros(out.shape, dtype=xp.int64)
                for t, hit in self._winners(vp, out):
                    winner[hit] = t
            indices_out.append(_flat_indices(winner, last, x.shape, kernel, stride, pads, dilation))
        self.save_for_backward(vp, out, wins)
        return _back_to_nchw(out, last)

    def _winners(self, vp, out):
        """(tap, mask of the windows whose first maximum is that tap), tap by tap."""
        _, _, last, kernel, stride, _, dilation, out_hw = self.geometry
        count = kernel[0] * kernel[1]
        free = None  # windows whose maximum no earlier tap holds
        for t, rs, cs in kernel_taps(kernel, stride, dilation, out_hw):
            hit = vp[_spatial_slice(last, rs, cs)] == out
            if free is None:
                if count > 1:
                    free = ~hit
            else:
                hit &= free
                if t < count - 1:
                    free ^= hit
            yield t, hit

    def backward(self, grad):
        vp, out, wins = self.saved[:3]  # MaxPool2dReLU saves its output after them
        x_shape, pad_shape, last, kernel, stride, pads, dilation, out_hw = self.geometry
        g = _grad_layout(grad, last)
        if kernel[0] * kernel[1] > 2 and not g.flags.c_contiguous:
            g = xp.ascontiguousarray(g)  # read once per tap: worth one copy into our layout
        padded_hw = pad_shape[1:3] if last else pad_shape[2:]
        (pt, _), (pl, _) = pads
        h, w = x_shape[2:]
        if wins is not None:
            dpad = _tiled_2x2_backward(g, wins, pad_shape)
            return _back_to_nchw(dpad[:, pt:pt + h, pl:pl + w], last), *(None,) * 6
        tiles = _tiles(kernel, stride, dilation, padded_hw, out_hw)
        dpad = fresh(pad_shape, grad.dtype, zero=not tiles)
        taps = {t: (rs, cs) for t, rs, cs in kernel_taps(kernel, stride, dilation, out_hw)}
        for t, hit in self._winners(vp, out):
            window = dpad[_spatial_slice(last, *taps[t])]
            if tiles:  # each element lies in one window: write, nothing to accumulate
                xp.multiply(g, hit, out=window)
            else:
                window += g * hit
        return _back_to_nchw(dpad[_spatial_slice(last, slice(pt, pt + h), slice(pl, pl + w))], last), *(None,) * 6


# ---- 2x2 windows that tile a channels-last input: the usual CNN pool -------------------------
#
# In (N, H, W, C) memory a tap's view is runs of C contiguous values with gaps between: NumPy's
# loops then go C elements at a time and per-call overhead, not arithmetic, sets the cost (a
# maximum of two such views took ~6x one of contiguous arrays of the same size). So the four
# taps are first copied whole runs at a time into one contiguous (4, N, Ho, Wo, C) array (a
# copy of a view whose elements are the C-value runs themselves, an opaque void dtype), all
# arithmetic runs on contiguous arrays, and backward scatters its four gradient taps back
# with one ``take`` over runs. Measured on (64, 28, 28, 16) float32 (the CNN benchmark's
# first pool): alone, forward 0.23 ms as before and backward 0.61 -> 0.26 ms; inside a
# training step, where the gather meets cold memory, forward 0.24 -> 0.34 ms and backward
# 0.8-1.0 -> 0.32 ms. Without a gradient to record, the running maximum is used.
#
# Forward also records each window's winner (torch's rule: the first maximum, row by row)
# with three comparisons: i01 = w1 > w0 (the right one of the top pair wins), i23 = w3 > w2,
# up = max(w2, w3) > max(w0, w1) (the bottom pair wins). Strict comparisons send ties to the
# earlier tap, as the rule wants, and backward needs no comparison with the output. NaN
# compares false, so a window holding NaN would get a winner where the equality rule gives
# none: then forward records nothing and backward takes the general path.

_SCATTERS = {}  # (n, ho, wo) -> run permutation for the backward scatter; a few shapes at a time


def _runs(a, c):
    """A contiguous array as an array of its C-value runs (one opaque element per run)."""
    return a.view(xp.dtype((xp.void, c * a.itemsize)))


def _scatter_order(n, ho, wo):
    """For each C-value run of an (N, 2*Ho, 2*Wo, C) array in memory order, its row in the
    tap-major (tap (a, b), then window (n, i, j)) array of runs."""
    key = (n, ho, wo)
    rows = _SCATTERS.get(key)
    if rows is None:
        if len(_SCATTERS) >= 8:
            _SCATTERS.clear()
        tap_major = xp.arange(4 * n * ho * wo, dtype=xp.intp).reshape(2, 2, n, ho, wo)  # (a, b, n, i, j)
        rows = _SCATTERS[key] = xp.ascontiguousarray(tap_major.transpose(2, 3, 0, 4, 1)).reshape(-1)
    return rows


def _tiled_2x2(vp):
    """Max over the 2x2 windows tiling ``vp`` (N, Hp, Wp, C), contiguous: (N, Ho, Wo, C), and
    the (3, N, Ho, Wo, C) bools (i01, i23, up) that name each window's first maximum (None
    when a window holds NaN)."""
    n, hp, wp, c = vp.shape
    ho, wo = hp // 2, wp // 2
    taps = fresh((4, n, ho, wo, c), vp.dtype)
    source = _runs(vp.reshape(n, hp, wp * c), c).reshape(n, ho, 2, wo, 2)  # (n, i, a, j, b)
    xp.copyto(_runs(taps.reshape(2, 2, n, ho, wo * c), c), source.transpose(2, 4, 0, 1, 3))
    w0, w1, w2, w3 = taps
    wins = fresh((3,) + w0.shape, xp.bool_)
    xp.greater(w1, w0, out=wins[0])
    xp.greater(w3, w2, out=wins[1])
    out = fresh(w0.shape, vp.dtype)
    xp.maximum(w2, w3, out=out)  # on ties NumPy's maximum returns its second argument: the
    top = xp.maximum(w0, w1, out=w0)  # later tap, as a running maximum over the taps does
    xp.greater(out, top, out=wins[2])
    xp.maximum(top, out, out=out)
    if vp.dtype.kind == "f" and out.size and xp.isnan(out.max()):
        wins = None  # NaN windows have no winner under the equality rule
    return out, wins


def _tap_index(wins):
    """The winning tap (0..3, row-major in the window) of every window, int64."""
    i01, i23, up = wins
    winner = up.astype(xp.int64)
    winner *= 2
    winner += xp.greater(i01, up) | (up & i23)  # the right one of the winning pair
    return winner


def _tiled_2x2_backward(g, wins, pad_shape):
    """dL/d(padded input) of :func:`_tiled_2x2`: tap t of each window gets ``g * (t won)``,
    the same products the general path writes."""
    n, hp, wp, c = pad_shape
    i01, i23, up = wins
    won = fresh((4,) + i01.shape, xp.bool_)
    xp.logical_or(i01, up, out=won[0])
    xp.logical_not(won[0], out=won[0])  # top left: neither its right neighbour nor the bottom pair
    xp.greater(i01, up, out=won[1])  # top right: i01 and not up
    xp.greater(up, i23, out=won[2])  # bottom left: up and not i23
    xp.logical_and(up, i23, out=won[3])
    if not g.flags.c_contiguous:
        g = xp.ascontiguousarray(g)
    per_tap = xp.multiply(g, won)  # (4, N, Ho, Wo, C), tap-major
    scatter = _scatter_order(n, hp // 2, wp // 2)
    return xp.take(per_tap.reshape(-1, c), scatter, axis=0, mode="clip").reshape(pad_shape)


def _flat_indices(winner, last, x_shape, kernel, stride, pads, dilation):
    """torch's return_indices: the argmax as a flat index into each (H, W) input plane."""
    kw = kernel[1]
    w_in = x_shape[3]
    win = _back_to_nchw(winner, last).astype(xp.int64)
    ho, wo = win.shape[2:]
    rows = xp.arange(ho, dtype=xp.int64)[:, None] * stride[0] - pads[0][0] + (win // kw) * dilation[0]
    cols = xp.arange(wo, dtype=xp.int64)[None, :] * stride[1] - pads[1][0] + (win % kw) * dilation[1]
    return xp.ascontiguousarray(rows * w_in + cols)


class MaxPool2dReLU(ReLUAfter, MaxPool2d):
    """relu(maxpool(x)) as one node (see ReLUAfter): how Sequential runs a ReLU followed by
    a max-pool. ReLU is non-decreasing, so the maximum of ReLU'd values is the ReLU of the
    maximum: when every window holds an input element and no two overlap (dilation 1,
    stride >= kernel; nn/relu_pairs.py checks) the pool of the ReLU's output and the ReLU
    of the pool's output agree bit for bit, values and gradients, and the ReLU runs on the
    pooled array, kH*kW times smaller. Backward may find the winners by the pooled output,
    so the ReLU writes a new array."""

    relu_in_place = False


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """torch's F.max_pool2d on (N, C, H, W) or (C, H, W) input; ``stride`` defaults to the kernel.

    With ``return_indices``, also the argmax of each window as a flat index into its
    (H, W) input plane (int64), as torch returns it.
    """
    return _max_pool2d(MaxPool2d, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d_relu(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """relu(max_pool2d(...)), equal to max_pool2d(relu(...)), as one graph node (:class:`MaxPool2dReLU`)."""
    return _max_pool2d(MaxPool2dReLU, input, kernel_size, stride, padding, dilation, ceil_mode, False)


def _max_pool2d(fn, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    """Check max_pool2d's arguments, then apply ``fn`` (MaxPool2d or MaxPool2dReLU)."""
    op = "max_pool2d"
    x, unbatched = _batched(input, op)
    kernel, stride, padding, dilation = pool_args(kernel_size, stride, padding, dilation, op)
    out_hw, pads = _pool_geometry(x, kernel, stride, padding, dilation, ceil_mode, op, "effective")
    sink = [] if return_indices else None
    out = fn.apply(x, kernel, stride, pads, dilation, out_hw, sink)
    if unbatched:
        out = out.squeeze(0)
    if not return_indices:
        return out
    indices = sink[0][0] if unbatched else sink[0]
    return out, Tensor._make(indices)


# ---- average pooling ---------------------------------------------------------------------


def _window_counts(size, kernel, stride, pad, out):
    """Per output position of one dim: the window's length counting padding (clipped at
    the padded edge, as torch does) and not counting it."""
    start = xp.arange(out) * stride - pad
    end = xp.minimum(start + kernel, size + pad)
    with_pad = end - start
    without = xp.minimum(end, size) - xp.maximum(start, 0)
    return with_pad, without


class AvgPool2d(Function):
    """Mean over each window: a sum of the kH*kW tap views times 1 / divisor."""

    def forward(self, x, kernel, stride, pads, out_hw, scale):
        v, last = _layout(x)
        vp = _padded(v, last, pads, 0)
        out = None
        for _, rs, cs in kernel_taps(kernel, stride, (1, 1), out_hw):
            window = vp[_spatial_slice(last, rs, cs)]
            if out is None:
                out = fresh(window.shape, x.dtype)
                out[...] = window
            else:
                out += window
        scale = _scale_layout(scale, last, x.dtype)
        out *= scale
        self.geometry = (x.shape, vp.shape, last, kernel, stride, pads, out_hw, scale)
        return _back_to_nchw(out, last)

    def backward(self, grad):
        x_shape, pad_shape, last, kernel, stride, pads, out_hw, scale = self.geometry
        g = _grad_layout(grad, last) * scale
        padded_hw = pad_shape[1:3] if last else pad_shape[2:]
        tiles = _tiles(kernel, stride, (1, 1), padded_hw, out_hw)
        dpad = fresh(pad_shape, grad.dtype, zero=not tiles)
        for _, rs, cs in kernel_taps(kernel, stride, (1, 1), out_hw):
            window = dpad[_spatial_slice(last, rs, cs)]
            if tiles:
                window[...] = g
            else:
                window += g
        (pt, _), (pl, _) = pads
        h, w = x_shape[2:]
        return _back_to_nchw(dpad[_spatial_slice(last, slice(pt, pt + h), slice(pl, pl + w))], last), *(None,) * 5


def _scale_layout(scale, last, dtype):
    """1 / divisor as a scalar of ``dtype``, or an (Ho, Wo) array shaped to broadcast."""
    if scale.ndim == 0:
        return dtype.type(scale)
    scale = scale.astype(dtype)
    return scale[None, :, :, None] if last else scale[None, None]


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """torch's F.avg_pool2d. The divisor is the window's size, counting the zero padding
    when ``count_include_pad`` (torch's default), or ``divisor_override``."""
    op = "avg_pool2d"
    x, unbatched = _batched(input, op)
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating point, got {x.dtype}")
    kernel, stride, padding, _ = pool_args(kernel_size, stride, padding, 1, op)
    out_hw, pads = _pool_geometry(x, kernel, stride, padding, (1, 1), ceil_mode, op, "kernel")
    if divisor_override is not None:
        if divisor_override == 0:
            raise ValueError(f"{op}: divisor_override must be non-zero")
        scale = xp.asarray(1.0 / divisor_override)
    else:
        (ih, eh), (iw, ew) = (
            _window_counts(size, k, s, p, o)
            for size, k, s, p, o in zip(x.shape[2:], kernel, stride, padding, out_hw)
        )
        divisor = (ih[:, None] * iw[None, :]) if count_include_pad else (eh[:, None] * ew[None, :])
        if (divisor == divisor.flat[0]).all():
            scale = xp.asarray(1.0 / divisor.flat[0])
        else:
            scale = 1.0 / divisor
    out = AvgPool2d.apply(x, kernel, stride, pads, out_hw, scale)
    return out.squeeze(0) if unbatched else out


# ---- adaptive average pooling ----------------------------------------------------------------


def adaptive_ranges(size, out):
    """torch's windows: output i averages input [floor(i*size/out), ceil((i+1)*size/out))."""
    return [((i * size) // out, -((-(i + 1) * size) // out)) for i in range(out)]


def averaging_matrix(size, out, dtype):
    """(out, size) matrix whose row i averages the i-th adaptive window."""
    m = xp.zeros((out, size), dtype=dtype)
    for i, (start, end) in enumerate(adaptive_ranges(size, out)):
        m[i, start:end] = 1.0 / (end - start)
    return m


class AdaptiveAvgPool2d(Function):
    """out = A_h @ x @ A_w^T per channel, with the averaging matrices A; backward transposes them."""

    def forward(self, x, mh, mw):
        self.save_for_backward(mh, mw)
        return mh @ (x @ mw.T)

    def backward(self, grad):
        mh, mw = self.saved
        return (mh.T @ grad) @ mw, None, None


def _adaptive_size(output_size, in_hw, op):
    if isinstance(output_size, (int, xp.integer)) and not isinstance(output_size, bool):
        output_size = (int(output_size),) * 2
    if not isinstance(output_size, (tuple, list)) or len(output_size) != 2:
        raise TypeError(
            f"{op}: output_size must be an int or a pair (None keeps that input size), got {output_size!r}"
        )
    sizes = tuple(size if o is None else int(o) for o, size in zip(output_size, in_hw))
    if min(sizes) < 1:
        raise ValueError(f"{op}: output_size must be positive, got {output_size!r}")
    return sizes


def adaptive_avg_pool2d(input, output_size):
    """torch's F.adaptive_avg_pool2d: average windows chosen to give exactly ``output_size``."""
    op = "adaptive_avg_pool2d"
    x, unbatched = _batched(input, op)
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating point, got {x.dtype}")
    h, w = x.shape[2:]
    if h < 1 or w < 1:
        raise ValueError(f"{op}: input of shape {tuple(input.shape)} has an empty spatial dim")
    ho, wo = _adaptive_size(output_size, (h, w), op)
    out = AdaptiveAvgPool2d.apply(x, averaging_matrix(h, ho, x.dtype), averaging_matrix(w, wo, x.dtype))
    return out.squeeze(0) if unbatched else out


# ---- nearest-neighbour upsampling --------------------------------------------------------------


def nearest_index(in_size, out_size, scale, exact=False):
    """Source index of every output position along one dim, torch's float32 arithmetic:
    floor(i * s) ("nearest") or floor((i + 0.5) * s) ("nearest-exact"), clamped, with
    s = 1 / scale_factor when one is given, else in_size / out_size."""
    if not exact and out_size == in_size:
        return xp.arange(out_size)
    if not exact and out_size == 2 * in_size:  # torch's shortcut, whatever the scale factor
        return xp.arange(out_size) // 2
    if scale is not None and scale > 0:
        s = xp.float32(1.0 / scale)
    else:
        s = xp.float32(in_size) / xp.float32(out_size)
    pos = xp.arange(out_size, dtype=xp.float32)
    if exact:
        pos = pos + xp.float32(0.5)
    return xp.minimum(xp.floor(pos * s).astype(xp.int64), in_size - 1)


class UpsampleNearest(Function):
    """Gather along each spatial dim by index; backward sums the copies back."""

    def forward(self, x, indices):
        self.in_shape, self.indices = x.shape, indices
        out = x
        for axis, index in enumerate(indices, start=2):
            if index is not None:
                out = out.take(index, axis=axis)
        return x.copy() if out is x else out

    def backward(self, grad):
        for axis, index in reversed(list(enumerate(self.indices, start=2))):
            if index is None:
                continue
            keep, first = xp.unique(index, return_index=True)  # sorted; first copy of each
            sums = xp.add.reduceat(grad, first, axis=axis)
            if keep.size == self.in_shape[axis] and keep.size == sums.shape[axis]:
                grad = sums
            else:  # downsampling skips some inputs: they get zero gradient
                shape = list(grad.shape)
                shape[axis] = self.in_shape[axis]
                full = xp.zeros(shape, dtype=grad.dtype)
                full[(slice(None),) * axis + (keep,)] = sums
                grad = full
        return grad, None


_MODES = ("nearest", "nearest-exact")


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """torch's F.interpolate for modes "nearest" and "nearest-exact", on (N, C, L),
    (N, C, H, W) or (N, C, D, H, W) input. Give ``size`` or ``scale_factor``, not both."""
    op = "interpolate"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if mode not in _MODES:
        raise NotImplementedError(
            f"{op}: mode {mode!r} is not implemented; deepprimer has {', '.join(_MODES)}"
        )
    if align_corners is not None:
        raise ValueError(
            f"{op}: align_corners option can only be set with the interpolating modes: "
            f"linear | bilinear | bicubic | trilinear"
        )
    if antialias:
        raise ValueError(f"{op}: anti-alias option is only supported for bilinear and bicubic modes")
    dims = input.ndim - 2
    if dims < 1:
        raise ValueError(
            f"{op}: expected input of shape (N, C, *spatial) with 1 to 3 spatial dims, got shape {tuple(input.shape)}"
        )
    in_sizes = tuple(input.shape[2:])
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{op}: give exactly one of size and scale_factor")
    scales = (None,) * dims
    if size is not None:
        sizes = (int(size),) * dims if isinstance(size, (int, xp.integer)) else tuple(int(s) for s in size)
        if len(sizes) != dims:
            raise ValueError(
                f"{op}: input of shape {tuple(input.shape)} has {dims} spatial dims, so size must "
                f"have {dims} entries, got {size!r}"
            )
    else:
        if isinstance(scale_factor, (int, float)):
            factors = (float(scale_factor),) * dims
        else:
            factors = tuple(float(s) for s in scale_factor)
        if len(factors) != dims:
            raise ValueError(
                f"{op}: input of shape {tuple(input.shape)} has {dims} spatial dims, so scale_factor "
                f"must have {dims} entries, got {scale_factor!r}"
            )
        if min(factors) <= 0:
            raise ValueError(f"{op}: scale_factor must be positive, got {scale_factor!r}")
        sizes = tuple(math.floor(s * f) for s, f in zip(in_sizes, factors))
        if not recompute_scale_factor:
            scales = factors
    if min(sizes) < 1:
        raise ValueError(f"{op}: the output size {sizes} must be positive (input {in_sizes})")
    exact = mode == "nearest-exact"
    indices = tuple(
        None if (o == i and not exact) else nearest_index(i, o, s, exact)
        for i, o, s in zip(in_sizes, sizes, scales)
    )
    return UpsampleNearest.apply(input, indices)
