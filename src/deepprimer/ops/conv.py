"""Convolution: conv2d by im2col and one GEMM, its gradients by GEMMs and col2im.

Shapes, as in PyTorch: input (N, C, H, W), weight (O, C/groups, kH, kW), bias (O,),
output (N, O, Ho, Wo) with, per spatial dim,

    Ho = floor((H + pad_before + pad_after - dilation * (kH - 1) - 1) / stride) + 1

Each output pixel is a dot product of the weight with the input patch ("receptive
field") under it. The fast path turns all of them into one matrix product:

1. The input is copied once into a zero-padded (N, Hp, Wp, C) array: channels last, so a
   patch's channels sit next to each other in memory.
2. im2col: an ``as_strided`` view of shape (N, Ho, Wo, kH, kW, C), whose row (n, i, j) is
   the receptive field of output pixel (i, j), is copied once into a reused matrix
   ``cols`` of shape (N*Ho*Wo, kH*kW*C).
3. One GEMM with the weight as a (kH*kW*C, O) matrix gives the output as (N*Ho*Wo, O).
   The bias rides in it: ``cols`` gets a last column of ones and the weight matrix the
   bias as its last row, which costs less than a pass over the output (with groups, the
   bias is added to the output instead). The result is handed out as an (N, O, Ho, Wo) view of
   that channels-last array, with no copy back. Elementwise ops and the pooling kernels
   keep that memory layout, so the next conv's step 1 is a plain contiguous copy.

An input with one channel, or not channels-last in memory (a network's first layer),
stays (N, C, H, W): its im2col matrix is filled tap by tap as a (kH*kW*C, N*Ho*Wo)
array, each tap's block one strided window of the input, and used transposed.

Backward, with g the output gradient as an (N*Ho*Wo, O) matrix:

    dW = (cols^T @ g)^T      (one GEMM, in the orientation BLAS runs faster here;
                              forward keeps cols when it is under KEEP_COLS_AT_MOST
                              bytes, else it is rebuilt from the saved padded input,
                              kH*kW times smaller than cols)
    db = the sum of g over every output pixel: the last row of dW's GEMM, through
                             the column of ones (with groups, a GEMV ones @ g)
    dx = col2im(g @ W)       one kernel tap at a time: tap (a, b)'s (N*Ho*Wo, C) block
                             g @ W_ab is added into the padded input gradient at the
                             window that tap reads (shifted by (a, b), strided by stride)

so the Python loop runs over the kH*kW kernel taps, never over output pixels.

Groups split the channels into ``groups`` independent convolutions; here they are a
leading batch dim of the same matrices (g, N*Ho*Wo, kH*kW*C/g), multiplied by one
batched matmul. The transposed convolution is this layer's gradient run forwards:
its forward is col2im, its input gradient is the conv's forward.

Memory: col2im's blocks, and the im2col matrix when backward will not need it, live in
per-thread scratch buffers reused from step to step (a fresh array of several MB costs a
page fault per 4 KB the first time it is written; in the CNN training step that cost as
much as the arithmetic). :func:`release_buffers` frees them. When the weight needs a
gradient and the matrix is under KEEP_COLS_AT_MOST bytes, forward keeps it instead
(``needs_input_grad`` is known at forward time) and saves no padded input.

``conv_reference.py`` builds the same convolutions from primitive ops; the tests check
one against the other.
"""
import threading

from ..autograd import Function
from ..backend import add_bias, column_sums, xp
from ..tensor import Tensor
from .elementwise import ReLUAfter

_as_strided = xp.lib.stride_tricks.as_strided

# ---- memory: scratch buffers ---------------------------------------------

_scratch = threading.local()
KEEP_AT_MOST = 1 << 28  # bytes: larger work arrays are made fresh each time, not kept
KEEP_COLS_AT_MOST = 1 << 25  # bytes: a larger im2col matrix is rebuilt in backward, not saved


def scratch(name, shape, dtype):
    """A reused work array of ``shape``, for results that never leave the call using it
    (the im2col matrix, col2im's per-tap blocks). Reuse matters: a fresh array of several
    MB costs a page fault per 4 KB the first time it is written, as much as the copy
    into it. One buffer per name and thread, grown when a larger one is asked for (up to
    ``KEEP_AT_MOST`` bytes; beyond that a fresh array each time)."""
    size = 1
    for s in shape:
        size *= s
    if size * dtype.itemsize > KEEP_AT_MOST:
        return xp.empty(shape, dtype=dtype)
    buffers = _scratch.__dict__
    buf = buffers.get(name)
    if buf is None or buf.dtype != dtype or buf.size < size:
        buf = buffers[name] = xp.empty(size, dtype=dtype)
    return buf[:size].reshape(shape)


def release_buffers():
    """Free this thread's scratch buffers (made again when needed)."""
    _scratch.__dict__.clear()


def fresh(shape, dtype, zero=False):
    """A new array for a kernel's result (page faults on first write are kept cheap by the
    allocator tuning in backend.py, so results need no pooling)."""
    return (xp.zeros if zero else xp.empty)(shape, dtype=dtype)


# ---- arguments -----------------------------------------------------------------------------


def ntuple(value, n, name, op, minimum=None):
    """An int or a sequence of n ints as a tuple of n ints, checked against ``minimum``."""
    if isinstance(value, (int, xp.integer)) and not isinstance(value, bool):
        values = (int(value),) * n
    elif isinstance(value, (tuple, list)) and len(value) == n and all(
        isinstance(v, (int, xp.integer)) and not isinstance(v, bool) for v in value
    ):
        values = tuple(int(v) for v in value)
    else:
        raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    if minimum is not None and any(v < minimum for v in values):
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {value!r}")
    return values


def output_size(size, kernel, stride, pad_total, dilation):
    """Output length of a sliding window: floor((size + pads - dilation (k - 1) - 1) / stride) + 1."""
    return (size + pad_total - dilation * (kernel - 1) - 1) // stride + 1


def same_padding(kernel, dilation):
    """padding="same" as torch does it: the total dilation (k - 1) split as evenly as
    possible, the odd one out on the bottom/right. Returns (before, after) per dim."""
    result = []
    for k, d in zip(kernel, dilation):
        total = d * (k - 1)
        result.append((total // 2, total - total // 2))
    return tuple(result)


def conv_padding(padding, kernel, stride, dilation, op):
    """``padding`` (int, tuple, "valid" or "same") as ((before, after), ...) per spatial dim."""
    n = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(
                    f"{op}: padding='same' is not supported for strided convolutions (stride="
                    f"{stride}); give the padding as numbers, e.g. padding={kernel[0] // 2}"
                )
            return same_padding(kernel, dilation)
        raise ValueError(f"{op}: padding must be an int, a tuple, 'valid' or 'same', got {padding!r}")
    return tuple((p, p) for p in ntuple(padding, n, "padding", op, minimum=0))


# ---- layout helpers ----------------------------------------------------------------------


def channels_last(x):
    """The (N, H, W, C) view of an (N, C, H, W) array if that view is contiguous, else None."""
    v = x.transpose(0, 2, 3, 1)
    return v if v.flags.c_contiguous else None


def prefers_channels_last(x):
    """Whether to work on ``x`` (N, C, H, W) channels-last: when it lies so in memory (the
    conv kernels' own outputs do) and has more than one channel."""
    return x.shape[1] > 1 and channels_last(x) is not None


def padded(x, pads, last):
    """(N, C, H, W) in any memory layout -> zero-padded by (top, bottom, left, right), as
    (N, Hp, Wp, C) when ``last`` else (N, C, Hp, Wp). A new array unless no padding is asked
    and ``x`` already lies in that layout."""
    n, c, h, w = x.shape
    pt, pb, pl, pr = pads
    v = x.transpose(0, 2, 3, 1) if last else x
    if not (pt or pb or pl or pr):
        return v if v.flags.c_contiguous else xp.ascontiguousarray(v)
    hp, wp = pt + h + pb, pl + w + pr
    out = fresh((n, hp, wp, c) if last else (n, c, hp, wp), x.dtype)
    core = out[:, pt:pt + h] if last else out[:, :, pt:pt + h]
    spatial = out if last else out.transpose(0, 2, 3, 1)  # zero the border, (N, Hp, Wp, C)-wise
    spatial[:, :pt] = 0
    spatial[:, pt + h:] = 0
    spatial[:, pt:pt + h, :pl] = 0
    spatial[:, pt:pt + h, pl + w:] = 0
    if last:
        core[:, :, pl:pl + w] = v
    else:
        core[..., pl:pl + w] = v
    return out


def as_rows(grad):
    """An (N, O, Ho, Wo) array as the (N*Ho*Wo, O) matrix the GEMMs take (a view when the
    array is channels-last in memory, else one copy)."""
    n, o, ho, wo = grad.shape
    return grad.transpose(0, 2, 3, 1).reshape(n * ho * wo, o)


def weight_matrix(weight, groups):
    """(O, C/g, kH, kW) -> (g, O/g, kH*kW*C/g): each row a filter in im2col's column order."""
    o, cg, kh, kw = weight.shape
    return weight.reshape(groups, o // groups, cg, kh, kw).transpose(0, 1, 3, 4, 2).reshape(
        groups, o // groups, kh * kw * cg
    )


def weight_from_matrix(wm, shape):
    """The inverse of :func:`weight_matrix`: (g, O/g, kH*kW*C/g) -> (O, C/g, kH, kW)."""
    o, cg, kh, kw = shape
    g, og, _ = wm.shape
    return wm.reshape(g, og, kh, kw, cg).transpose(0, 1, 4, 2, 3).reshape(o, cg, kh, kw)


def kernel_taps(kernel, stride, dilation, out_hw):
    """(column offset of the tap in im2col's rows, row slice, column slice) of each kernel tap:
    the window of the padded input that tap (a, b) reads for every output pixel at once."""
    kh, kw = kernel
    sh, sw = stride
    dh, dw = dilation
    ho, wo = out_hw
    for a in range(kh):
        rs = slice(a * dh, a * dh + sh * (ho - 1) + 1, sh)
        for b in range(kw):
            yield a * kw + b, rs, slice(b * dw, b * dw + sw * (wo - 1) + 1, sw)


# ---- the three kernels -------------------------------------------------------------------------


def im2col(xpad, last, kernel, stride, dilation, out_hw, groups, keep=False, ones=False):
    """Receptive fields of a padded input as a (g, N*Ho*Wo, kH*kW*C/g) matrix.

    Row (n, i, j) holds input[n, c, i*s + a*d, j*s + b*d] for kernel tap (a, b) and
    channel c of the group, in (a, b, c) order. The matrix lives in a reused scratch
    buffer (valid until the next im2col call), or in a new array when ``keep``. With
    ``ones`` (one group only) each row ends with a 1: the GEMM with the weight matrix
    followed by the bias as its last column then adds the bias, and the weight
    gradient's GEMM gives the bias gradient as its last column.

    Channels-last input (N, Hp, Wp, C): one copy from an ``as_strided`` view of shape
    (g, N, Ho, Wo, kH, kW, C/g). Channels-first input (N, C, Hp, Wp), such as a network's
    first layer with its 1 or 3 channels: the matrix is filled tap by tap as its
    transpose, where each tap's block is a plain (strided) window of the input, and
    handed out as a transposed view; BLAS takes either.
    """
    kh, kw = kernel
    sh, sw = stride
    dh, dw = dilation
    ho, wo = out_hw
    n, c = (xpad.shape[0], xpad.shape[3]) if last else xpad.shape[:2]
    cg = c // groups
    rows, width = n * ho * wo, kh * kw * cg
    extra = 1 if ones else 0
    # channels-last input: rows of receptive fields; else the matrix's transpose, column by column
    shape = (groups, rows, width + extra) if last else (groups, width + extra, rows)
    matrix = fresh(shape, xpad.dtype) if keep else scratch("cols", shape, xpad.dtype)
    if last:
        s0, s1, s2, s3 = xpad.strides
        view = _as_strided(
            xpad, (groups, n, ho, wo, kh, kw, cg),
            (s3 * cg, s0, s1 * sh, s2 * sw, s1 * dh, s2 * dw, s3), writeable=False,
        )
        matrix[:, :, :width].reshape(view.shape)[...] = view
        if ones:
            matrix[:, :, width] = 1
        return matrix
    blocks = matrix[:, :width].reshape(groups, kh * kw, cg, n, ho, wo)
    for t, rs, cs in kernel_taps(kernel, stride, dilation, out_hw):
        blocks[:, t] = xpad[:, :, rs, cs].transpose(1, 0, 2, 3).reshape(groups, cg, n, ho, wo)
    if ones:
        matrix[:, width] = 1
    return matrix.transpose(0, 2, 1)


def cols_times_weight(cols, wm):
    """(g, M, K) @ (g, O/g, K)^T -> (M, O): the GEMM, groups side by side in the columns."""
    if cols.shape[0] == 1:
        return cols[0] @ wm[0].T
    out = xp.matmul(cols, wm.transpose(0, 2, 1))  # (g, M, O/g)
    return out.transpose(1, 0, 2).reshape(cols.shape[1], -1)


def _inside(offset, stride, count, pad, size):
    """A tap reads padded positions offset, offset + stride, ... (count of them). Which of
    them fall inside the input proper, [pad, pad + size)? Returns (the slice of those
    outputs, the slice of input positions they hit), or None if none does."""
    first = max(0, -((offset - pad) // stride))  # ceil((pad - offset) / stride)
    last = min(count - 1, (pad + size - 1 - offset) // stride)
    if last < first:
        return None
    start = offset + stride * first - pad
    return slice(first, last + 1), slice(start, start + stride * (last - first) + 1, stride)


def col2im(rows, wm, x_shape, pads, last, kernel, stride, dilation, out_hw):
    """The adjoint of im2col followed by the GEMM: (N*Ho*Wo, O) rows -> the input's
    gradient, (N, H, W, C) if ``last`` else (N, C, H, W); ``x_shape`` is (N, C, H, W).

    For each kernel tap (a, b), the block rows @ W_ab (N*Ho*Wo, C) is added into the
    window of the input that this tap reads: rows a*d - pad, a*d - pad + s, ... and
    columns b*d - pad, ... (what lands in the padding is dropped). One GEMM and one
    strided add per tap, never a loop over pixels. A tap whose window is the whole input
    (the centre tap of a "same" conv) goes first and is written, not added: no zeroing.
    """
    n, c, h, w = x_shape
    g, og, _ = wm.shape
    cg = c // g
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = kernel, stride, dilation, out_hw
    pt, _, pl, _ = pads
    taps = []
    for a in range(kh):
        rows_in = _inside(a * dh, sh, ho, pt, h)
        for b in range(kw):
            cols_in = _inside(b * dw, sw, wo, pl, w)
            if rows_in is not None and cols_in is not None:
                whole = all(src == slice(0, size, None) and dst == slice(0, size, 1) for (src, dst), size in
                            ((rows_in, h), (cols_in, w))) and (ho, wo) == (h, w)
                taps.append((not whole, a * kw + b, rows_in, cols_in))
    taps.sort(key=lambda tap: tap[0])  # a tap covering everything first
    cover = bool(taps) and not taps[0][0]
    if last:
        out = fresh((n, h, w, g, cg), rows.dtype, zero=not cover)
        grouped = rows.reshape(-1, g, og).transpose(1, 0, 2) if g > 1 else None  # (g, M, O/g)
    else:
        out = fresh((n, g, cg, h, w), rows.dtype, zero=not cover)
        grouped = rows.reshape(-1, g, og).transpose(1, 2, 0)  # (g, O/g, M)
    for add, t, (src_r, dst_r), (src_c, dst_c) in taps:
        w_tap = wm[:, :, t * cg:(t + 1) * cg]  # (g, O/g, C/g)
        if last:
            if g == 1:
                if not add:  # the whole input: the GEMM writes straight into it
                    xp.matmul(rows, w_tap[0], out=out.reshape(-1, cg))
                    continue
                block = xp.matmul(rows, w_tap[0], out=scratch("block", (rows.shape[0], cg), rows.dtype))
                block = block.reshape(n, ho, wo, 1, cg)
            else:
                block = xp.matmul(grouped, w_tap, out=scratch("block", (g, rows.shape[0], cg), rows.dtype))
                block = xp.moveaxis(block.reshape(g, n, ho, wo, cg), 0, 3)
            target, block = out[:, dst_r, dst_c], block[:, src_r, src_c]
        else:
            block = scratch("block", (g, cg, rows.shape[0]), rows.dtype)
            block = xp.matmul(w_tap.transpose(0, 2, 1), grouped, out=block)
            block = block.reshape(g, cg, n, ho, wo).transpose(2, 0, 1, 3, 4)
            target, block = out[:, :, :, dst_r, dst_c], block[:, :, :, src_r, src_c]
        if add:
            target += block
        else:
            target[...] = block
    return out.reshape((n, h, w, c) if last else (n, c, h, w))


def rows_times_cols(rows, cols, groups):
    """The weight gradient's GEMM: (M, O)^T @ (g, M, K) -> (g, O/g, K).

    With one group it is computed as (cols^T @ rows)^T: the same product, which OpenBLAS
    runs faster in this orientation for a long M and short O and K (the CNN benchmark's
    (50176, 16) x (50176, 9): 250 -> 190 us; (12544, 32) x (12544, 144): 632 -> 576 us).
    The result is then a transposed (Fortran-ordered) view.
    """
    if groups == 1:
        return (cols[0].T @ rows).T[None]
    return xp.matmul(rows.reshape(rows.shape[0], groups, -1).transpose(1, 2, 0), cols)


# ---- conv2d ----------------------------------------------------------------------------------


class Conv2d(Function):
    """conv2d by im2col + one GEMM (see the module docstring); NCHW in and out."""

    fresh_grads = True  # col2im's result and two GEMM results, new every backward

    def forward(self, x, weight, bias, stride, pads, dilation, groups):
        n, _, h, w = x.shape
        o, _, kh, kw = weight.shape
        pt, pb, pl, pr = pads
        ho = output_size(h, kh, stride[0], pt + pb, dilation[0])
        wo = output_size(w, kw, stride[1], pl + pr, dilation[1])
        last = prefers_channels_last(x)
        xpad = padded(x, pads, last)
        # keep the im2col matrix for the weight gradient when it is small enough: rebuilding
        # it in backward costs as much as building it here. Kept, it replaces the padded input.
        fold = bias is not None and groups == 1
        keep = self.needs_input_grad[1] and n * ho * wo * (kh * kw * x.shape[1] + fold) * x.itemsize <= KEEP_COLS_AT_MOST
        # the bias as the weight of a column of ones: the GEMM adds it, and the weight
        # gradient's GEMM yields its gradient (the CNN benchmark's step: ~2% faster than
        # a separate pass over the output and a column sum of its gradient)
        self.folded = fold
        cols = im2col(xpad, last, (kh, kw), stride, dilation, (ho, wo), groups, keep=keep, ones=fold)
        wm = weight_matrix(weight, groups)
        if fold:
            wm = xp.concatenate((wm, bias.reshape(1, o, 1)), axis=2)
        out = cols_times_weight(cols, wm)
        if bias is not None and not fold:
            add_bias(out, bias)
        self.geometry = (x.shape, last, weight.shape, stride, pads, dilation, (ho, wo))
        self.save_for_backward(None if keep else xpad, wm, cols if keep else None)
        return out.reshape(n, ho, wo, o).transpose(0, 3, 1, 2)

    def backward(self, grad):
        xpad, wm, cols = self.saved[:3]  # Conv2dReLU saves its output after them
        x_shape, last, w_shape, stride, pads, dilation, out_hw = self.geometry
        need_x, need_w, need_b = self.needs_input_grad[:3]
        fold = self.folded
        rows = as_rows(grad)
        grad_b = column_sums(rows) if need_b and not (fold and need_w) else None
        grad_w = None
        if need_w:
            if cols is None:
                cols = im2col(xpad, last, w_shape[2:], stride, dilation, out_hw, wm.shape[0], ones=fold)
            product = rows_times_cols(rows, cols, wm.shape[0])
            if fold:  # the last column is the bias's gradient
                if need_b:
                    grad_b = product[0, :, -1].copy()
                product = product[:, :, :-1]
            grad_w = xp.ascontiguousarray(weight_from_matrix(product, w_shape))  # C order, as the weight
        grad_x = None
        if need_x:
            grad_x = col2im(rows, wm, x_shape, pads, last, w_shape[2:], stride, dilation, out_hw)
            if last:
                grad_x = grad_x.transpose(0, 3, 1, 2)
        return grad_x, grad_w, grad_b, None, None, None, None


class Conv2dReLU(ReLUAfter, Conv2d):
    """relu(conv2d(x)) as one node (see ReLUAfter): a Conv2d followed by a ReLU in Sequential."""


def _check_tensor(t, name, op):
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")


def _check_bias(bias, channels, weight, op):
    if bias is None:
        return
    _check_tensor(bias, "bias", op)
    if tuple(bias.shape) != (channels,):
        raise ValueError(
            f"{op}: bias has shape {tuple(bias.shape)} but the weight of shape {tuple(weight.shape)} "
            f"makes {channels} output channels; bias must have shape ({channels},)"
        )
    if bias.dtype != weight.dtype:
        raise TypeError(f"{op}: bias is {bias.dtype} but the weight is {weight.dtype}; they must match")


def _batched(input, op, dims=4, names="(N, C, H, W)"):
    """(input with a batch dim, whether one was added): torch also takes unbatched input."""
    if input.ndim == dims:
        return input, False
    if input.ndim == dims - 1:
        return input.unsqueeze(0), True
    raise ValueError(
        f"{op}: expected a {dims}-D input {names} or a {dims - 1}-D unbatched one, got shape "
        f"{tuple(input.shape)}"
    )


def _check_conv_args(input, weight, groups, op, in_channels_of_weight, shape_names):
    _check_tensor(input, "input", op)
    _check_tensor(weight, "weight", op)
    if input.dtype != weight.dtype:
        raise TypeError(
            f"{op}: input is {input.dtype} but the weight is {weight.dtype}; convert one "
            f"(x.float() or model.to(dp.float64))"
        )
    if not isinstance(groups, (int, xp.integer)) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    c = input.shape[1]
    if c != in_channels_of_weight:
        extra = f", groups={groups}" if groups != 1 else ""
        raise ValueError(
            f"{op}: input has {c} channels but the weight expects {in_channels_of_weight} "
            f"(weight shape {tuple(weight.shape)}{extra}); input must be {shape_names}"
        )


def _check_fits(op, in_hw, pads, kernel, dilation, stride):
    names = ("height", "width") if len(in_hw) == 2 else ("length",)
    for name, size, (lo, hi), k, d, s in zip(names, in_hw, pads, kernel, dilation, stride):
        if output_size(size, k, s, lo + hi, d) < 1:
            extent = d * (k - 1) + 1
            raise ValueError(
                f"{op}: the kernel's {name} {k}" + (f" (dilated: {extent})" if d > 1 else "")
                + f" is larger than the padded input's {name} {size + lo + hi} (input {size} "
                f"plus padding {lo} + {hi}); use a smaller kernel or more padding, or a larger input"
            )


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """torch's F.conv2d: input (N, C, H, W) or (C, H, W), weight (O, C/groups, kH, kW).

    ``padding`` is an int, a pair, "valid" (none) or "same" (output size = input size;
    stride 1 only). Zero padding; other modes: pad first with F.pad.
    """
    return _conv2d(Conv2d, input, weight, bias, stride, padding, dilation, groups)


def conv2d_relu(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """relu(conv2d(...)) as one graph node (:class:`Conv2dReLU`)."""
    return _conv2d(Conv2dReLU, input, weight, bias, stride, padding, dilation, groups)


def _conv2d(fn, input, weight, bias, stride, padding, dilation, groups):
    """Check conv2d's arguments, then apply ``fn`` (Conv2d or Conv2dReLU)."""
    op = "conv2d"
    _check_tensor(input, "input", op)
    _check_tensor(weight, "weight", op)
    if weight.ndim != 4:
        raise ValueError(
            f"{op}: weight must be 4-D (out_channels, in_channels/groups, kH, kW), got shape {tuple(weight.shape)}"
        )
    x, unbatched = _batched(input, op)
    _check_conv_args(x, weight, groups, op, weight.shape[1] * groups, "(N, C, H, W)")
    o = weight.shape[0]
    if o % groups:
        raise ValueError(f"{op}: the weight's {o} output channels are not divisible by groups={groups}")
    _check_bias(bias, o, weight, op)
    kernel = tuple(weight.shape[2:])
    stride = ntuple(stride, 2, "stride", op, minimum=1)
    dilation = ntuple(dilation, 2, "dilation", op, minimum=1)
    pads = conv_padding(padding, kernel, stride, dilation, op)
    _check_fits(op, tuple(x.shape[2:]), pads, kernel, dilation, stride)
    out = fn.apply(x, weight, bias, stride, pads[0] + pads[1], dilation, groups)
    return out.squeeze(0) if unbatched else out


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """torch's F.conv1d: input (N, C, L) or (C, L), weight (O, C/groups, k); through conv2d
    with a unit height."""
    op = "conv1d"
    _check_tensor(input, "input", op)
    _check_tensor(weight, "weight", op)
    if weight.ndim != 3:
        raise ValueError(
            f"{op}: weight must be 3-D (out_channels, in_channels/groups, kernel_size), got shape {tuple(weight.shape)}"
        )
    x, unbatched = _batched(input, op, dims=3, names="(N, C, L)")
    _check_conv_args(x, weight, groups, op, weight.shape[1] * groups, "(N, C, L)")
    o = weight.shape[0]
    if o % groups:
        raise ValueError(f"{op}: the weight's {o} output channels are not divisible by groups={groups}")
    _check_bias(bias, o, weight, op)
    kernel = (weight.shape[2],)
    stride = ntuple(stride, 1, "stride", op, minimum=1)
    dilation = ntuple(dilation, 1, "dilation", op, minimum=1)
    pads = conv_padding(padding, kernel, stride, dilation, op)
    _check_fits(op, (x.shape[2],), pads, kernel, dilation, stride)
    n, c, length = x.shape
    out = Conv2d.apply(
        x.reshape(n, c, 1, length), weight.reshape(o, weight.shape[1], 1, kernel[0]), bias,
        (1,) + stride, (0, 0) + pads[0], (1,) + dilation, groups,
    )
    out = out.reshape(n, o, out.shape[3])
    return out.squeeze(0) if unbatched else out


# ---- conv_transpose2d ------------------------------------------------------------------------


class ConvTranspose2d(Function):
    """The transposed convolution: the gradient of conv2d with respect to its input, run
    forwards. Weight (C_in, C_out/groups, kH, kW) is that conv's (O, C/groups, kH, kW).

    forward: col2im of the input rows;  input gradient: conv2d of the output gradient;
    weight gradient: input rows^T @ im2col(output gradient).
    """

    def forward(self, x, weight, bias, stride, padding, output_padding, dilation, groups):
        n, _, h, w = x.shape
        _, cg, kh, kw = weight.shape
        ph, pw = padding
        hout = (h - 1) * stride[0] - 2 * ph + dilation[0] * (kh - 1) + output_padding[0] + 1
        wout = (w - 1) * stride[1] - 2 * pw + dilation[1] * (kw - 1) + output_padding[1] + 1
        rows = as_rows(x)
        wm = weight_matrix(weight, groups)
        pads = (ph, ph, pw, pw)
        out = col2im(rows, wm, (n, cg * groups, hout, wout), pads, True, (kh, kw), stride, dilation, (h, w))
        if bias is not None:
            add_bias(out, bias)
        self.geometry = (x.shape, weight.shape, stride, pads, dilation, (h, w))
        self.save_for_backward(rows, wm)
        return out.transpose(0, 3, 1, 2)

    def backward(self, grad):
        rows, wm = self.saved
        x_shape, w_shape, stride, pads, dilation, in_hw = self.geometry
        need_x, need_w, need_b = self.needs_input_grad[:3]
        n, c_in, h, w = x_shape
        groups = wm.shape[0]
        grad_b = grad.sum(axis=(0, 2, 3)) if need_b else None
        grad_x = grad_w = None
        if need_x or need_w:
            last = prefers_channels_last(grad)
            cols = im2col(padded(grad, pads, last), last, w_shape[2:], stride, dilation, in_hw, groups)
            if need_x:
                grad_x = cols_times_weight(cols, wm).reshape(n, h, w, c_in).transpose(0, 3, 1, 2)
            if need_w:
                grad_w = weight_from_matrix(rows_times_cols(rows, cols, groups), w_shape)
        return grad_x, grad_w, grad_b, None, None, None, None, None


def transpose_output_padding(input_hw, output_size, kernel, stride, padding, dilation, op="conv_transpose2d"):
    """The output_padding that makes a transposed conv produce ``output_size`` (torch's rule:
    it must lie within [smallest, smallest + stride - 1])."""
    output_size = tuple(int(s) for s in output_size)[-len(input_hw):]
    result = []
    for size, want, k, s, p, d in zip(input_hw, output_size, kernel, stride, padding, dilation):
        smallest = (size - 1) * s - 2 * p + d * (k - 1) + 1
        if not smallest <= want <= smallest + s - 1:
            raise ValueError(
                f"{op}: requested an output size of {output_size}, but valid sizes range from "
                f"{smallest} to {smallest + s - 1} (for an input of {tuple(input_hw)})"
            )
        result.append(want - smallest)
    return tuple(result)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """torch's F.conv_transpose2d: input (N, C_in, H, W), weight (C_in, C_out/groups, kH, kW);
    output (N, C_out, Hout, Wout) with Hout = (H - 1) stride - 2 padding + dilation (kH - 1)
    + output_padding + 1."""
    op = "conv_transpose2d"
    _check_tensor(input, "input", op)
    _check_tensor(weight, "weight", op)
    if weight.ndim != 4:
        raise ValueError(
            f"{op}: weight must be 4-D (in_channels, out_channels/groups, kH, kW), got shape {tuple(weight.shape)}"
        )
    x, unbatched = _batched(input, op)
    _check_conv_args(x, weight, groups, op, weight.shape[0], "(N, C_in, H, W)")
    if weight.shape[0] % groups:
        raise ValueError(
            f"{op}: the weight's {weight.shape[0]} input channels are not divisible by groups={groups}"
        )
    out_channels = weight.shape[1] * groups
    _check_bias(bias, out_channels, weight, op)
    if isinstance(padding, str):
        raise TypeError(f"{op}: padding must be an int or a tuple of ints (no 'same'/'valid'), got {padding!r}")
    stride = ntuple(stride, 2, "stride", op, minimum=1)
    padding = ntuple(padding, 2, "padding", op, minimum=0)
    output_padding = ntuple(output_padding, 2, "output_padding", op, minimum=0)
    dilation = ntuple(dilation, 2, "dilation", op, minimum=1)
    kernel = tuple(weight.shape[2:])
    for op_, s, d in zip(output_padding, stride, dilation):
        if op_ >= s and op_ >= d:
            raise ValueError(
                f"{op}: output padding must be smaller than either stride or dilation, got "
                f"output_padding={output_padding}, stride={stride}, dilation={dilation}"
            )
    sizes = zip(("height", "width"), x.shape[2:], kernel, stride, padding, dilation, output_padding)
    for name, size, k, s, p, d, q in sizes:
        if (size - 1) * s - 2 * p + d * (k - 1) + q + 1 < 1:
            raise ValueError(
                f"{op}: padding {padding} is too large: the output's {name} would be "
                f"{(size - 1) * s - 2 * p + d * (k - 1) + q + 1}"
            )
    out = ConvTranspose2d.apply(x, weight, bias, stride, padding, output_padding, dilation, groups)
    return out.squeeze(0) if unbatched else out
