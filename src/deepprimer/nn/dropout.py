"""Dropout: zero activations at random while training (a regulariser), nothing in eval."""
from . import functional as F
from .module import Module


class Dropout(Module):
    """In training, zero each element with probability ``p`` and scale the survivors by
    1/(1-p) (inverted dropout: the expected activation is unchanged, so eval mode is the
    identity). Masks come from the seeded generator (``dp.manual_seed``).

    ``inplace=True`` is accepted for PyTorch compatibility; the result is computed out of place.
    """

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input):
        return F.dropout(input, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"
