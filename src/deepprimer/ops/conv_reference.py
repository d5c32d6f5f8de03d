"""Convolution and pooling written with primitive ops only: the readable reference.

Nothing here has a hand-written backward: every function is a short composition of
tensor ops (pad, slicing, permute, matmul, stack, max, sum), and autograd derives the
gradient. They are slow and meant to be read, and to check the fast kernels in
``conv.py`` and ``pooling.py`` (the tests compare the two, values and gradients).

The one idea behind all of them: a kernel tap (a, b) sees, for all output pixels at
once, a strided window of the padded input,

    window(a, b) = x_pad[:, :, a*d : a*d + s*(Ho-1) + 1 : s,  b*d : b*d + s*(Wo-1) + 1 : s]

A convolution sums window(a, b) @ W[:, :, a, b]^T over the taps (a matmul over the
channels); max and average pooling take the max or mean of the windows.
"""
from ..backend import xp
from ..tensor import Tensor
from .conv import conv_padding, ntuple, output_size
from .pooling import adaptive_ranges, nearest_index, pool_output_size
from .shape import cat, pad, stack


def _window(x, a, b, stride, dilation, out_hw):
    """Tap (a, b)'s view of the padded input x (N, C, Hp, Wp): shape (N, C, Ho, Wo)."""
    (sh, sw), (dh, dw), (ho, wo) = stride, dilation, out_hw
    return x[:, :, a * dh: a * dh + sh * (ho - 1) + 1: sh, b * dw: b * dw + sw * (wo - 1) + 1: sw]


def _pad_or_crop(x, top, bottom, left, right):
    """Zero-pad each side by a positive amount, or cut it by a negative one."""
    x = pad(x, (max(left, 0), max(right, 0), max(top, 0), max(bottom, 0)))
    h, w = x.shape[2:]
    return x[:, :, max(-top, 0): h - max(-bottom, 0), max(-left, 0): w - max(-right, 0)]


def conv2d_reference(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """F.conv2d as a sum over kernel taps:  out = sum_ab window(a, b) @ W[:, :, a, b]^T  (+ b)."""
    stride = ntuple(stride, 2, "stride", "conv2d_reference")
    dilation = ntuple(dilation, 2, "dilation", "conv2d_reference")
    o, cg, kh, kw = weight.shape
    (pt, pb), (pl, pr) = conv_padding(padding, (kh, kw), stride, dilation, "conv2d_reference")
    x = pad(input, (pl, pr, pt, pb))
    out_hw = (
        output_size(input.shape[2], kh, stride[0], pt + pb, dilation[0]),
        output_size(input.shape[3], kw, stride[1], pl + pr, dilation[1]),
    )
    og = o // groups
    per_group = []
    for g in range(groups):
        xg = x[:, g * cg:(g + 1) * cg]  # this group's input channels
        wg = weight[g * og:(g + 1) * og]  # and its filters
        total = None
        for a in range(kh):
            for b in range(kw):
                window = _window(xg, a, b, stride, dilation, out_hw).permute(0, 2, 3, 1)  # (N, Ho, Wo, C/g)
                term = window @ wg[:, :, a, b].T  # (N, Ho, Wo, O/g)
                total = term if total is None else total + term
        per_group.append(total)
    out = (cat(per_group, dim=3) if groups > 1 else per_group[0]).permute(0, 3, 1, 2)
    if bias is not None:
        out = out + bias.reshape(1, o, 1, 1)
    return out


def conv1d_reference(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """F.conv1d as conv2d on a height-1 image."""
    pad1 = padding if isinstance(padding, str) else (0, ntuple(padding, 1, "padding", "conv1d_reference")[0])
    out = conv2d_reference(
        input.unsqueeze(2), weight.unsqueeze(2), bias,
        (1, ntuple(stride, 1, "stride", "conv1d_reference")[0]), pad1,
        (1, ntuple(dilation, 1, "dilation", "conv1d_reference")[0]), groups,
    )
    return out.squeeze(2)


def _spread(x, stride):
    """Insert stride - 1 zeros between neighbouring pixels (rows and columns)."""
    sh, sw = stride
    n, c, h, w = x.shape
    if sh > 1:
        zeros = Tensor._make(xp.zeros(x.shape, dtype=x.dtype))
        x = stack([x] + [zeros] * (sh - 1), dim=3).reshape(n, c, h * sh, w)[:, :, :(h - 1) * sh + 1]
    if sw > 1:
        h2 = x.shape[2]
        zeros = Tensor._make(xp.zeros(x.shape, dtype=x.dtype))
        x = stack([x] + [zeros] * (sw - 1), dim=4).reshape(n, c, h2, w * sw)[:, :, :, :(w - 1) * sw + 1]
    return x


def conv_transpose2d_reference(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                               dilation=1):
    """F.conv_transpose2d as an ordinary convolution: spread the input out with stride - 1
    zeros between pixels, pad it by dilation (k - 1) - padding (plus output_padding at the
    bottom and right), and convolve with the kernel flipped and its in/out channels swapped.
    """
    stride = ntuple(stride, 2, "stride", "conv_transpose2d_reference")
    padding = ntuple(padding, 2, "padding", "conv_transpose2d_reference")
    output_padding = ntuple(output_padding, 2, "output_padding", "conv_transpose2d_reference")
    dilation = ntuple(dilation, 2, "dilation", "conv_transpose2d_reference")
    c_in, cog, kh, kw = weight.shape
    # (C_in, C_out/g, kH, kW) -> (C_out, C_in/g, kH, kW), flipped in both spatial dims
    flipped = weight[:, :, ::-1, ::-1]
    swapped = flipped.reshape(groups, c_in // groups, cog, kh, kw).transpose(1, 2)
    swapped = swapped.reshape(cog * groups, c_in // groups, kh, kw)
    x = _spread(input, stride)
    eh, ew = dilation[0] * (kh - 1) - padding[0], dilation[1] * (kw - 1) - padding[1]
    x = _pad_or_crop(x, eh, eh + output_padding[0], ew, ew + output_padding[1])
    return conv2d_reference(x, swapped, bias, 1, 0, dilation, groups)


# ---- pooling ---------------------------------------------------------------------------------


def _pool_geometry(x, kernel, stride, padding, dilation, ceil_mode):
    """(Ho, Wo) and, per dim, how far the last window overhangs the padded input (ceil_mode)."""
    h, w = x.shape[2:]
    out_hw = tuple(
        pool_output_size(size, k, s, p, d, ceil_mode)
        for size, k, s, p, d in zip((h, w), kernel, stride, padding, dilation)
    )
    extra = tuple(
        max(0, (o - 1) * s + d * (k - 1) + 1 - (size + 2 * p))
        for size, k, s, p, d, o in zip((h, w), kernel, stride, padding, dilation, out_hw)
    )
    return out_hw, extra


def _pool_windows(x, kernel, stride, padding, dilation, out_hw, extra, pad_value, overhang_value):
    """The taps' windows, stacked on a new last dim: (N, C, Ho, Wo, kH*kW), of x padded with
    ``pad_value`` and, past that, with ``overhang_value`` where ceil_mode's last window
    hangs over."""
    (ph, pw), (eh, ew) = padding, extra
    x = pad(x, (pw, pw, ph, ph), value=pad_value)
    if eh or ew:
        x = pad(x, (0, ew, 0, eh), value=overhang_value)
    windows = [
        _window(x, a, b, stride, dilation, out_hw)
        for a in range(kernel[0]) for b in range(kernel[1])
    ]
    return stack(windows, dim=4)


def _pool_args(kernel_size, stride, padding, dilation):
    kernel = ntuple(kernel_size, 2, "kernel_size", "pool_reference")
    stride = kernel if stride is None else ntuple(stride, 2, "stride", "pool_reference")
    padding = ntuple(padding, 2, "padding", "pool_reference")
    return kernel, stride, padding, ntuple(dilation, 2, "dilation", "pool_reference")


def max_pool2d_reference(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """F.max_pool2d: the max over the stacked windows (gradient to the first maximum)."""
    kernel, stride, padding, dilation = _pool_args(kernel_size, stride, padding, dilation)
    out_hw, extra = _pool_geometry(input, kernel, stride, padding, dilation, ceil_mode)
    windows = _pool_windows(input, kernel, stride, padding, dilation, out_hw, extra, -xp.inf, -xp.inf)
    return windows.max(dim=4).values


def avg_pool2d_reference(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                         divisor_override=None):
    """F.avg_pool2d: the sum over the stacked windows divided by the window's size. The
    sizes come from pooling a tensor of ones the same way: torch counts the zero padding
    when ``count_include_pad``, but never the ceil_mode overhang past it."""
    kernel, stride, padding, dilation = _pool_args(kernel_size, stride, padding, 1)
    out_hw, extra = _pool_geometry(input, kernel, stride, padding, dilation, ceil_mode)
    total = _pool_windows(input, kernel, stride, padding, dilation, out_hw, extra, 0.0, 0.0).sum(dim=4)
    if divisor_override:
        return total / divisor_override
    ones = Tensor._make(xp.ones((1, 1) + tuple(input.shape[2:]), dtype=input.dtype))
    inside = 1.0 if count_include_pad else 0.0
    counts = _pool_windows(ones, kernel, stride, padding, dilation, out_hw, extra, inside, 0.0).sum(dim=4)
    return total / counts


def adaptive_avg_pool2d_reference(input, output_size):
    """F.adaptive_avg_pool2d: each output cell is the mean of its window, one at a time."""
    h, w = input.shape[2:]
    if isinstance(output_size, int):
        output_size = (output_size, output_size)
    ho, wo = (size if o is None else o for o, size in zip(output_size, (h, w)))
    rows = []
    for hs, he in adaptive_ranges(h, ho):
        cells = [input[:, :, hs:he, ws:we].mean(dim=(2, 3)) for ws, we in adaptive_ranges(w, wo)]
        rows.append(stack(cells, dim=2))
    return stack(rows, dim=2)


def interpolate_nearest_reference(input, size):
    """F.interpolate(mode="nearest") to ``size``: pick source rows, then columns, by index."""
    out = input
    for axis, (in_size, out_size) in enumerate(zip(input.shape[2:], size), start=2):
        index = Tensor._make(nearest_index(in_size, out_size, None))
        out = out[(slice(None),) * axis + (index,)]
    return out
