"""Channel dropout layers: Dropout1d, Dropout2d, Dropout3d.

Like Dropout, but one decision per (sample, channel): a dropped channel is zeroed as a
whole feature map. Neighbouring pixels in a map are strongly correlated, so dropping
single pixels (plain Dropout) barely regularises a conv net; dropping whole maps does
(Tompson et al., 2015). The kernel lives in ``ops/channel_dropout.py``.
"""
from ..ops import channel_dropout as _cd
from .module import Module


class _DropoutNd(Module):
    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(_DropoutNd):
    """In training, zero each channel of (N, C, L) (or (C, L)) input with probability ``p``
    and scale the kept ones by 1 / (1 - p); the identity in eval mode."""

    def forward(self, input):
        return _cd.dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """In training, zero each (sample, channel) feature map of (N, C, H, W) input with
    probability ``p`` and scale the kept ones by 1 / (1 - p); the identity in eval mode.
    Masks come from the seeded generator (``dp.manual_seed``). As in torch, 3-D input is
    taken as (N, C, L), with a warning."""

    def forward(self, input):
        return _cd.dropout2d(input, self.p, self.training, self.inplace)


class Dropout3d(_DropoutNd):
    """Channel dropout on (N, C, D, H, W) (or (C, D, H, W)) volumes."""

    def forward(self, input):
        return _cd.dropout3d(input, self.p, self.training, self.inplace)
