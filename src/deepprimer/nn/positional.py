"""Positional encodings: telling attention where in the sequence each token sits.

Attention by itself is blind to order (permute the keys and the output does not change),
so a position signal is added to the token embeddings before the first layer. These two
layers are deepprimer's own (PyTorch has no built-in ones; its tutorials write the
sinusoidal one by hand):

* :class:`SinusoidalPositionalEncoding`, fixed, from "Attention Is All You Need":

      PE[pos, 2i]     = sin(pos / 10000^(2i / d_model))
      PE[pos, 2i + 1] = cos(pos / 10000^(2i / d_model))

  Each pair of dims is a clock at its own frequency, so PE[pos + k] is a linear function
  (a rotation) of PE[pos], and it extends to any position without training.
* :class:`LearnedPositionalEncoding`: one trained vector per position (BERT, GPT-2),
  an embedding table looked up by position.

Both add their (L, E) table to input of shape (N, L, E) with ``batch_first=True``,
(L, N, E) with ``batch_first=False`` (the default, as ``nn.Transformer``), or (L, E),
then apply dropout.
"""
import math

from ..backend import xp
from ..tensor import Tensor
from . import functional as F
from . import init
from ._factory import factory_dtype
from .module import Module, Parameter

__all__ = ["LearnedPositionalEncoding", "SinusoidalPositionalEncoding", "sinusoidal_table"]


def sinusoidal_table(max_len, d_model, dtype=None, base=10000.0):
    """The (max_len, d_model) array of sines and cosines defined above (any d_model, odd too)."""
    dtype = factory_dtype(None, dtype)
    position = xp.arange(max_len, dtype=xp.float64)[:, None]
    div_term = xp.exp(xp.arange(0, d_model, 2, dtype=xp.float64) * (-math.log(base) / d_model))
    table = xp.zeros((max_len, d_model), dtype=xp.float64)
    table[:, 0::2] = xp.sin(position * div_term)
    table[:, 1::2] = xp.cos(position * div_term[: d_model // 2])
    return table.astype(dtype)


class _PositionalEncoding(Module):
    def _add(self, x, table):
        """x + table[:L], with the table laid out to broadcast over the batch dim."""
        seq_dim = 1 if (self.batch_first and x.ndim == 3) else 0
        if x.ndim not in (2, 3):
            raise ValueError(
                f"{type(self).__name__}: expected input (L, E), (L, N, E) or (N, L, E) (batch_first), "
                f"got shape {tuple(x.shape)}"
            )
        L, E = x.shape[seq_dim], x.shape[-1]
        if E != self.d_model:
            raise ValueError(f"{type(self).__name__}: input has {E} features (shape {tuple(x.shape)}), expected d_model={self.d_model}")
        if L > self.max_len:
            raise ValueError(
                f"{type(self).__name__}: sequence of length {L} (dim {seq_dim} of shape {tuple(x.shape)}) is longer "
                f"than max_len={self.max_len}; build the layer with a larger max_len"
                + ("" if self.batch_first or x.ndim == 2 else " (or did you mean batch_first=True?)")
            )
        pe = table[:L]
        if x.ndim == 3 and seq_dim == 0:
            pe = pe.reshape(L, 1, E)
        return F.dropout(x + pe, self.dropout_p, self.training)

    def extra_repr(self):
        s = f"d_model={self.d_model}, max_len={self.max_len}, batch_first={self.batch_first}"
        return s + (f", dropout={self.dropout_p}" if self.dropout_p else "")


class SinusoidalPositionalEncoding(_PositionalEncoding):
    """Adds the fixed sine/cosine table of "Attention Is All You Need" (ours: not in torch).

    ``pe`` is a buffer of shape (max_len, d_model), not learned and not saved in the state
    dict (it is rebuilt from the arguments). ``dropout`` is applied to the sum, as in the
    paper and torch's tutorial.
    """

    def __init__(self, d_model, max_len=5000, dropout=0.0, batch_first=False, device=None, dtype=None):
        super().__init__()
        self.d_model, self.max_len, self.dropout_p, self.batch_first = d_model, max_len, dropout, batch_first
        self.register_buffer("pe", Tensor._make(sinusoidal_table(max_len, d_model, factory_dtype(device, dtype))),
                             persistent=False)

    def forward(self, x):
        pe = self.pe
        if pe.dtype != x.dtype:
            pe = pe.astype(x.dtype)
        return self._add(x, pe)


class LearnedPositionalEncoding(_PositionalEncoding):
    """Adds a learned vector per position (ours: not in torch): ``weight`` of shape
    (max_len, d_model), like an Embedding table looked up by position, initialised
    N(0, ``init_std``^2) with 0.02 as in GPT-2."""

    def __init__(self, max_len, d_model, dropout=0.0, batch_first=False, init_std=0.02, device=None, dtype=None):
        super().__init__()
        self.d_model, self.max_len, self.dropout_p, self.batch_first = d_model, max_len, dropout, batch_first
        self.init_std = init_std
        self.weight = Parameter(xp.empty((max_len, d_model), dtype=factory_dtype(device, dtype)))
        self.reset_parameters()

    def reset_parameters(self):
        init.normal_(self.weight, 0.0, self.init_std)

    def forward(self, x):
        return self._add(x, self.weight)
