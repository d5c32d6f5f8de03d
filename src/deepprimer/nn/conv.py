"""Convolution layers: Conv1d, Conv2d and ConvTranspose2d, with PyTorch's arguments.

A convolution slides a small filter over the input and takes a dot product at every
position: each output channel is one filter's response map. Compared with a Linear
layer on the flattened image it shares the filter's weights across positions (far fewer
parameters) and keeps the spatial layout, which is why it suits images.

    out[n, o, i, j] = bias[o] + sum_{c, a, b} weight[o, c, a, b] * x_pad[n, c, i*s + a*d, j*s + b*d]

The arithmetic lives in ``ops/conv.py`` (im2col + one GEMM); these classes hold the
parameters and the options.
"""
import math

from ..backend import xp
from ..ops import conv as _conv
from ..ops.shape import pad as _pad
from . import init
from ._factory import factory_dtype
from .module import Module, Parameter

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """What every convolution layer shares: options, parameters, their initialisation."""

    _dims = 2
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, output_padding,
                 groups, bias, padding_mode, device=None, dtype=None):
        super().__init__()
        dtype = factory_dtype(device, dtype)
        name, n = type(self).__name__, self._dims
        if not isinstance(groups, int) or isinstance(groups, bool) or groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError(
                f"in_channels must be divisible by groups (in_channels={in_channels}, groups={groups})"
            )
        if out_channels % groups != 0:
            raise ValueError(
                f"out_channels must be divisible by groups (out_channels={out_channels}, groups={groups})"
            )
        stride = _conv.ntuple(stride, n, "stride", name, minimum=1)
        dilation = _conv.ntuple(dilation, n, "dilation", name, minimum=1)
        kernel_size = _conv.ntuple(kernel_size, n, "kernel_size", name, minimum=1)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of {{'same', 'valid'}}")
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
        else:
            padding = _conv.ntuple(padding, n, "padding", name, minimum=0)
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"padding_mode must be one of {set(_PADDING_MODES)}, but got padding_mode={padding_mode!r}"
            )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.transposed = self._transposed
        self.output_padding = _conv.ntuple(output_padding, n, "output_padding", name, minimum=0)
        self.groups = groups
        self.padding_mode = padding_mode
        # F.pad's widths (last dim first) for the non-zero padding modes, as torch keeps them
        if padding == "valid":
            pairs = ((0, 0),) * n
        elif padding == "same":
            pairs = _conv.same_padding(kernel_size, dilation)
        else:
            pairs = tuple((p, p) for p in padding)
        self._reversed_padding_repeated_twice = [w for pair in reversed(pairs) for w in pair]
        if self._transposed:
            shape = (in_channels, out_channels // groups) + kernel_size
        else:
            shape = (out_channels, in_channels // groups) + kernel_size
        self.weight = Parameter(xp.empty(shape, dtype=dtype))
        if bias:
            self.bias = Parameter(xp.empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's default: W ~ U(-b, b) with b = 1/sqrt(fan_in) (kaiming_uniform_ with
        a = sqrt(5)), and the bias from the same range; fan_in = weight.shape[1] * kH * kW."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def _padded_input(self, input):
        """(input, padding for the conv kernel): non-zero padding modes pad here, with F.pad."""
        if self.padding_mode == "zeros":
            return input, self.padding
        return _pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode), 0

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        n = self._dims
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv1d(_ConvNd):
    """1-D convolution over (N, C_in, L) (or unbatched (C_in, L)) -> (N, C_out, L_out),

        L_out = floor((L + 2 padding - dilation (kernel_size - 1) - 1) / stride) + 1

    ``weight`` is (out_channels, in_channels / groups, kernel_size), ``bias`` (out_channels,).
    ``padding`` is an int, a 1-tuple, "valid" or "same"; ``padding_mode`` "zeros",
    "reflect", "replicate" or "circular".
    """

    _dims = 1

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, 0, groups, bias,
                         padding_mode, device, dtype)

    def forward(self, input):
        x, padding = self._padded_input(input)
        return _conv.conv1d(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


class Conv2d(_ConvNd):
    """2-D convolution over (N, C_in, H, W) (or unbatched (C_in, H, W)) -> (N, C_out, H_out, W_out),

        H_out = floor((H + 2 padding - dilation (kH - 1) - 1) / stride) + 1     (W alike)

    ``weight`` is (out_channels, in_channels / groups, kH, kW), ``bias`` (out_channels,).
    ``padding`` is an int, a pair, "valid" (none) or "same" (H_out = H; stride 1 only);
    ``padding_mode`` "zeros", "reflect", "replicate" or "circular". ``groups`` splits the
    channels into independent convolutions (groups = in_channels: depthwise).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, 0, groups, bias,
                         padding_mode, device, dtype)

    def forward(self, input):
        return self._run(_conv.conv2d, input)

    def forward_relu(self, input):
        """relu(self(input)) as one graph node: how Sequential runs a Conv2d followed by a ReLU."""
        return self._run(_conv.conv2d_relu, input)

    def _run(self, conv, input):
        x, padding = self._padded_input(input)
        return conv(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


class ConvTranspose2d(_ConvNd):
    """Transposed 2-D convolution ("deconvolution"): the gradient of a Conv2d with respect
    to its input, used as a layer that upsamples (decoders, generators).
    (N, C_in, H, W) -> (N, C_out, H_out, W_out) with

        H_out = (H - 1) stride - 2 padding + dilation (kH - 1) + output_padding + 1

    ``weight`` is (in_channels, out_channels / groups, kH, kW), ``bias`` (out_channels,).
    ``forward(input, output_size)`` picks the output_padding that gives ``output_size``.
    """

    _transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        if padding_mode != "zeros":
            raise ValueError('Only "zeros" padding mode is supported for ConvTranspose2d')
        if isinstance(padding, str):
            raise TypeError(
                f"ConvTranspose2d: padding must be an int or a pair (no 'same'/'valid'), got {padding!r}"
            )
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, output_padding,
                         groups, bias, padding_mode, device, dtype)

    def forward(self, input, output_size=None):
        output_padding = self.output_padding
        if output_size is not None:
            spatial = tuple(input.shape[-2:])
            output_padding = _conv.transpose_output_padding(
                spatial, output_size, self.kernel_size, self.stride, self.padding, self.dilation,
                "ConvTranspose2d",
            )
        return _conv.conv_transpose2d(
            input, self.weight, self.bias, self.stride, self.padding, output_padding, self.groups, self.dilation
        )
