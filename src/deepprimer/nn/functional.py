"""``deepprimer.nn.functional`` (``F``): the stateless layer and loss functions.

The same names and arguments as ``torch.nn.functional``. Thin: each is a fused kernel
from ``ops/`` or a short composition of tensor ops whose gradient autograd derives.
"""
from ..backend import xp
from ..ops import elementwise as _ew
from ..ops.embedding import embedding
from ..ops.normalization import batch_norm, layer_norm
from ..ops import shape as _shape
from ..ops.nn_ops import (
    BCEWithLogits,
    BinaryCrossEntropy,
    check_reduction,
    classes_last,
    cross_entropy,
    dropout,
    linear,
    log_softmax,
    softmax,
)
from ..ops.attention import scaled_dot_product_attention  # noqa: F401  (part of F)
from ..ops.channel_dropout import dropout1d, dropout2d, dropout3d  # noqa: F401
from ..ops.conv import conv1d, conv2d, conv_transpose2d  # noqa: F401
from ..ops.pooling import adaptive_avg_pool2d, avg_pool2d, interpolate, max_pool2d  # noqa: F401
from ..tensor import Tensor

relu = _ew.relu
leaky_relu = _ew.leaky_relu
gelu = _ew.gelu
elu = _ew.elu
softplus = _ew.softplus
sigmoid = _ew.sigmoid
tanh = _ew.tanh
pad = _shape.pad

__all__ = [
    "relu", "leaky_relu", "gelu", "elu", "softplus", "sigmoid", "tanh", "softmax",
    "log_softmax", "linear", "dropout", "pad", "one_hot", "cross_entropy", "nll_loss",
    "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "kl_div", "batch_norm", "layer_norm", "embedding",
    "scaled_dot_product_attention", "conv1d", "conv2d", "conv_transpose2d", "max_pool2d",
    "avg_pool2d", "adaptive_avg_pool2d", "interpolate", "dropout1d", "dropout2d", "dropout3d",
]


def _reduce(loss, reduction, op):
    check_reduction(reduction, op)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _same_shape(input, target, op):
    target = target if isinstance(target, Tensor) else Tensor(target)
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(
            f"{op}: input shape {tuple(input.shape)} and target shape {tuple(target.shape)} "
            f"differ; they must match (reshape the target, e.g. y.reshape(-1, 1))"
        )
    return target


def mse_loss(input, target, reduction="mean"):
    """Mean squared error: mean((input - target)^2)."""
    diff = input - _same_shape(input, target, "mse_loss")
    return _reduce(diff * diff, reduction, "mse_loss")


def l1_loss(input, target, reduction="mean"):
    """Mean absolute error: mean(|input - target|)."""
    return _reduce((input - _same_shape(input, target, "l1_loss")).abs(), reduction, "l1_loss")


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta."""
    d = (input - _same_shape(input, target, "smooth_l1_loss")).abs()
    if beta == 0:
        return _reduce(d, reduction, "smooth_l1_loss")
    loss = _ew.where(d < beta, d * d * (0.5 / beta), d - 0.5 * beta)
    return _reduce(loss, reduction, "smooth_l1_loss")


def huber_loss(input, target, reduction="mean", delta=1.0):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta)."""
    d = (input - _same_shape(input, target, "huber_loss")).abs()
    loss = _ew.where(d < delta, d * d * 0.5, (d - 0.5 * delta) * delta)
    return _reduce(loss, reduction, "huber_loss")


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood of log-probabilities: -input[i, target_i], class-weighted."""
    check_reduction(reduction, "nll_loss")
    target = target if isinstance(target, Tensor) else Tensor(target)
    if input.ndim == 1:  # one sample of C log-probabilities and a 0-d class index
        loss = nll_loss(input.reshape(1, -1), target.reshape(1), weight, ignore_index, reduction)
        return loss.reshape(()) if reduction == "none" else loss
    spatial = tuple(input.shape[2:])
    rows = classes_last(input, "nll_loss")
    t = target.data.reshape(-1)
    if t.shape[0] != rows.shape[0]:
        raise ValueError(f"nll_loss: input of shape {tuple(input.shape)} needs targets of shape "
                         f"{(input.shape[0],) + spatial}, got {tuple(target.shape)}")
    valid = t != ignore_index
    safe = xp.where(valid, t, 0)
    c = rows.shape[1]
    if safe.size and (safe.min() < 0 or safe.max() >= c):
        raise ValueError(f"nll_loss: target classes must be in 0..{c - 1}, got {int(safe.max())}")
    w = xp.ones(c, dtype=rows.dtype) if weight is None else (weight.data if isinstance(weight, Tensor) else weight)
    coef = (w[safe] * valid).astype(rows.dtype)
    loss = -rows[xp.arange(rows.shape[0]), safe] * Tensor._make(coef)
    if reduction == "mean":
        return loss.sum() / Tensor._make(xp.asarray(coef.sum(), dtype=rows.dtype))
    if reduction == "sum":
        return loss.sum()
    return loss.reshape(input.shape[0], *spatial) if spatial else loss


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """BCE on probabilities in [0, 1]; prefer the _with_logits form, which is stabler."""
    target = _same_shape(input, target, "binary_cross_entropy")
    if input.data.size and (input.data.min() < 0 or input.data.max() > 1):
        raise ValueError("binary_cross_entropy: input must hold probabilities in [0, 1]; for raw "
                         "scores use binary_cross_entropy_with_logits")
    loss = BinaryCrossEntropy.apply(input, target.astype(input.dtype))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    """Sigmoid and binary cross-entropy in one stable kernel (any logit magnitude)."""
    target = _same_shape(input, target, "binary_cross_entropy_with_logits")
    pw = pos_weight.data if isinstance(pos_weight, Tensor) else pos_weight
    loss = BCEWithLogits.apply(input, target.astype(input.dtype), pw)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy_with_logits")


def kl_div(input, target, reduction="mean", log_target=False):
    """KL(target || prediction) with torch's convention: ``input`` holds log-probabilities.

    pointwise: target * (log target - input), taken as 0 where target is 0.
    ``reduction="batchmean"`` divides the sum by the batch size: the true KL divergence.
    """
    check_reduction(reduction, "kl_div", extra=("batchmean",))
    target = _same_shape(input, target, "kl_div")
    if log_target:
        loss = target.exp() * (target - input)
    else:
        positive = target > 0
        safe_log = _ew.where(positive, target, 1.0).log()
        loss = target * (safe_log - input)
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction, "kl_div")


def one_hot(tensor, num_classes=-1):
    """Class indices (int64) -> one-hot rows of ``num_classes`` int64 entries."""
    if tensor.data.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expected an integer tensor of class indices, got {tensor.dtype}")
    data = tensor.data
    if num_classes == -1:
        num_classes = int(data.max()) + 1 if data.size else 0
    if data.size and (data.min() < 0 or data.max() >= num_classes):
        raise ValueError(f"one_hot: class values must be in 0..{num_classes - 1}")
    return Tensor._make((data[..., None] == xp.arange(num_classes)).astype(xp.int64))
