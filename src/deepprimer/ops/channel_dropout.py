"""Channel dropout (Dropout1d/2d/3d): zero whole feature maps, not single activations.

Neighbouring pixels of a feature map are strongly correlated, so dropping single
activations barely regularises a conv net: the neighbours carry the same signal.
Channel dropout draws one keep/drop decision per (sample, channel) and scales the kept
channels by 1 / (1 - p), so the expected activation is unchanged and eval mode is the
identity. The mask is a constant of shape (N, C, 1, ...): a multiplication, whose
gradient is the same mask.
"""
import warnings

from .. import random
from ..backend import xp
from ..tensor import Tensor


def _check_p(p, op):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")


def channel_dropout(input, p, training, generator=None, op="dropout2d"):
    """Zero each (sample, channel) slice of ``input`` (N, C, *) with probability p."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    _check_p(p, op)
    if input.ndim < 2:
        raise ValueError(f"{op}: expected input of shape (N, C, ...), got shape {tuple(input.shape)}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    dtype = input.dtype
    keep = random.get_rng(generator).random(tuple(input.shape[:2]), dtype=xp.float32) >= p
    mask = keep.astype(dtype) * dtype.type(1.0 / (1.0 - p))
    return input * Tensor._make(mask.reshape(mask.shape + (1,) * (input.ndim - 2)))


def dropout1d(input, p=0.5, training=True, inplace=False):
    """torch's F.dropout1d: input (N, C, L) or unbatched (C, L); whole channels dropped."""
    if input.ndim not in (2, 3):
        raise ValueError(
            f"dropout1d: expected a 2-D (C, L) or 3-D (N, C, L) input, got shape {tuple(input.shape)}"
        )
    if input.ndim == 2:
        return channel_dropout(input.unsqueeze(0), p, training, op="dropout1d").squeeze(0)
    return channel_dropout(input, p, training, op="dropout1d")


def dropout2d(input, p=0.5, training=True, inplace=False):
    """torch's F.dropout2d: input (N, C, H, W); each (n, c) feature map is zeroed with
    probability p, the rest scaled by 1 / (1 - p). As in torch, a 3-D input is taken as
    (N, C, L) (with a warning). ``inplace`` is accepted; the result is a new tensor."""
    if input.ndim == 3:
        warnings.warn(
            "dropout2d: received a 3-D input; as torch does, it is taken as (N, C, L) and whole "
            "length-L channels are dropped. For an unbatched (C, H, W) image, add the batch dim "
            "(x.unsqueeze(0)), or use dropout1d for (N, C, L)",
            stacklevel=2,
        )
    elif input.ndim != 4:
        warnings.warn(
            f"dropout2d: received a {input.ndim}-D input; channel dropout expects (N, C, H, W)",
            stacklevel=2,
        )
    return channel_dropout(input, p, training, op="dropout2d")


def dropout3d(input, p=0.5, training=True, inplace=False):
    """torch's F.dropout3d: input (N, C, D, H, W) or unbatched (C, D, H, W)."""
    if input.ndim not in (4, 5):
        raise ValueError(
            f"dropout3d: expected a 4-D (C, D, H, W) or 5-D (N, C, D, H, W) input, got shape {tuple(input.shape)}"
        )
    if input.ndim == 4:
        return channel_dropout(input.unsqueeze(0), p, training, op="dropout3d").squeeze(0)
    return channel_dropout(input, p, training, op="dropout3d")
