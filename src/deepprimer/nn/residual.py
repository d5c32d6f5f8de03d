"""Skip connections (He et al., 2016): learn a correction F(x) to the identity, y = x + F(x).

Why it helps: the gradient of y = x + F(x) is dy/dx = 1 + dF/dx, so the identity path
carries the gradient to early layers undiminished however deep the network is, and a
block whose F is near zero starts out as the identity rather than as noise.

These are deepprimer's own layers (PyTorch has no Residual module; torchvision's ResNet
writes the addition inside each block):

* :class:`Residual` wraps any module ``f`` whose output has its input's shape: x + f(x).
* :class:`ResidualMLPBlock` is ResNet's BasicBlock with Linear layers in place of convs:
  relu(shortcut(x) + norm2(linear2(relu(norm1(linear1(x)))))), where the shortcut is the
  identity, or a projection when the feature count changes.
"""
from ..backend import xp
from .activation import GELU, ReLU
from .containers import Sequential
from .dropout import Dropout
from .linear import Identity, Linear
from .module import Module
from .normalization import BatchNorm1d, LayerNorm

__all__ = ["Residual", "ResidualMLPBlock"]


class Residual(Module):
    """y = x + module(x): a skip connection around ``module`` (ours; not in torch).

    Extra arguments of ``forward`` go to the wrapped module: ``Residual(attn)(x, mask)``
    computes x + attn(x, mask). The module's output must have x's shape (or broadcast to it).
    """

    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, x, *args, **kwargs):
        fx = self.module(x, *args, **kwargs)
        if tuple(fx.shape) != tuple(x.shape) and not _broadcasts_to(fx.shape, x.shape):
            raise ValueError(
                f"Residual: the wrapped {type(self.module).__name__} maps shape {tuple(x.shape)} to "
                f"{tuple(fx.shape)}; a skip connection x + f(x) needs f to keep the shape"
            )
        return x + fx


def _broadcasts_to(shape, target):
    try:
        return xp.broadcast_shapes(tuple(shape), tuple(target)) == tuple(target)
    except ValueError:
        return False


def _norm(norm, features):
    if norm is None or norm == "none":
        return Identity()
    if norm == "batch":
        return BatchNorm1d(features)
    if norm == "layer":
        return LayerNorm(features)
    raise ValueError(f"ResidualMLPBlock: norm must be 'batch', 'layer' or None, got {norm!r}")


def _activation(activation):
    if isinstance(activation, Module):
        return activation
    if activation == "relu":
        return ReLU()
    if activation == "gelu":
        return GELU()
    raise ValueError(f"ResidualMLPBlock: activation must be 'relu', 'gelu' or a Module, got {activation!r}")


class ResidualMLPBlock(Module):
    """ResNet's BasicBlock for vectors (ours; not in torch), on input (N, in_features):

        out = act(shortcut(x) + norm2(linear2(dropout(act(norm1(linear1(x)))))))

    ``hidden_features`` defaults to ``out_features``, which defaults to ``in_features``.
    ``norm``: "batch" (BatchNorm1d, as in ResNet; the linear layers then have no bias,
    which the norm would cancel), "layer" (LayerNorm; any leading dims) or None.
    When ``in_features != out_features`` the shortcut is a projection: a Linear without
    bias followed by the same norm (ResNet's option B); otherwise it is the identity.
    """

    def __init__(self, in_features, out_features=None, hidden_features=None, norm="batch", activation="relu",
                 dropout=0.0):
        super().__init__()
        out_features = in_features if out_features is None else out_features
        hidden_features = out_features if hidden_features is None else hidden_features
        self.in_features, self.out_features, self.hidden_features = in_features, out_features, hidden_features
        bias = norm != "batch"
        self.linear1 = Linear(in_features, hidden_features, bias=bias)
        self.norm1 = _norm(norm, hidden_features)
        self.act = _activation(activation)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(hidden_features, out_features, bias=bias)
        self.norm2 = _norm(norm, out_features)
        if in_features != out_features:
            self.shortcut = Sequential(Linear(in_features, out_features, bias=False), _norm(norm, out_features))
        else:
            self.shortcut = Identity()

    def forward(self, x):
        h = self.act(self.norm1(self.linear1(x)))
        h = self.norm2(self.linear2(self.dropout(h)))
        return self.act(self.shortcut(x) + h)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, hidden_features={self.hidden_features}"
