"""Pooling and upsampling layers: MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Upsample.

Pooling shrinks feature maps by summarising each window with one number: its max (keeps
the strongest response: "is the feature somewhere here?") or its mean. It has no
parameters. Adaptive pooling picks the windows so the output has a given size whatever
the input size (AdaptiveAvgPool2d(1) is global average pooling). Upsample enlarges
(nearest neighbour: each pixel repeated), as decoders need.

The arithmetic lives in ``ops/pooling.py``.
"""
from ..ops import pooling as _pool
from .module import Module


class MaxPool2d(Module):
    """Max over kernel_size windows of (N, C, H, W) (or (C, H, W)) input, moved by ``stride``
    (default: the kernel size, so windows do not overlap):

        H_out = floor((H + 2 padding - dilation (k - 1) - 1) / stride) + 1   (ceil with ceil_mode)

    The gradient flows only to each window's maximum. ``return_indices=True`` also returns
    the argmax as a flat index into each (H, W) plane.
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if (stride is not None) else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input):
        return _pool.max_pool2d(
            input, self.kernel_size, self.stride, self.padding, self.dilation,
            ceil_mode=self.ceil_mode, return_indices=self.return_indices,
        )

    def forward_relu(self, input):
        """self(relu(input)) as one graph node, computed as relu(self(input)) on the smaller
        pooled array: how Sequential runs a ReLU followed by a MaxPool2d whose windows
        neither overlap nor dilate (then the two agree bit for bit; nn/relu_pairs.py).
        Not for ``return_indices=True``."""
        return _pool.max_pool2d_relu(input, self.kernel_size, self.stride, self.padding, self.dilation,
                                     ceil_mode=self.ceil_mode)

    def extra_repr(self):
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class AvgPool2d(Module):
    """Mean over kernel_size windows of (N, C, H, W) input. The zero padding counts in the
    mean when ``count_include_pad`` (the default); ``divisor_override`` replaces the divisor."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if (stride is not None) else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input):
        return _pool.avg_pool2d(
            input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
            self.divisor_override,
        )

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed ``output_size`` (an int, or a pair whose None entries keep
    that input size): output cell i averages input rows floor(i H / H_out) to
    ceil((i + 1) H / H_out), as in torch. AdaptiveAvgPool2d(1) averages each whole map."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return _pool.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class Upsample(Module):
    """Enlarge (N, C, L), (N, C, H, W) or (N, C, D, H, W) input to ``size`` or by
    ``scale_factor``. Modes: "nearest" (torch's default: source index floor(i / scale))
    and "nearest-exact"; the interpolating modes (bilinear, ...) are not implemented."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None):
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, (tuple, list)):
            self.scale_factor = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        return _pool.interpolate(
            input, self.size, self.scale_factor, self.mode, self.align_corners,
            recompute_scale_factor=self.recompute_scale_factor,
        )

    def extra_repr(self):
        if self.scale_factor is not None:
            info = f"scale_factor={self.scale_factor!r}"
        else:
            info = f"size={self.size!r}"
        return info + f", mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """Upsample with mode="nearest" on (N, C, H, W) input (torch's older name for it)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")
