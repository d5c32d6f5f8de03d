"""Fused kernels: where one hand-derived backward beats a chain of primitives.

Each is checked against its composition of primitives in the tests (DESIGN.md): the
composition is the reference, the fused kernel is the fast path.
"""
from .. import random
from ..autograd import Function
from ..backend import add_bias, column_sums, max_keepdims, sum_keepdims, xp
from ..tensor import Tensor, normalize_dim
from .elementwise import ReLUAfter, stable_sigmoid

# ---- softmax and log-softmax ---------------------------------------------------------


def _log_softmax(x, axis):
    """x - logsumexp(x): subtracting the max first keeps exp() from overflowing."""
    shifted = x - max_keepdims(x, axis)
    return shifted - xp.log(sum_keepdims(xp.exp(shifted), axis))


class Softmax(Function):
    """softmax(x)_i = e^{x_i} / sum_j e^{x_j}; backward: s * (g - sum(g * s))."""

    def forward(self, x, axis):
        e = xp.exp(x - max_keepdims(x, axis))
        out = e / sum_keepdims(e, axis)
        self.axis = axis
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        (out,) = self.saved
        return out * (grad - sum_keepdims(grad * out, self.axis)), None


class LogSoftmax(Function):
    """log softmax(x) = x - logsumexp(x); backward: g - softmax(x) * sum(g)."""

    def forward(self, x, axis):
        out = _log_softmax(x, axis)
        self.axis = axis
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        (out,) = self.saved
        return grad - xp.exp(out) * sum_keepdims(grad, self.axis), None


def _softmax_dim(x, dim):
    if dim is None:  # torch's legacy choice when no dim is given
        dim = 0 if x.ndim in (0, 1, 3) else 1
    return normalize_dim(dim, x.ndim, "softmax")


def softmax(x, dim=None):
    return Softmax.apply(x, _softmax_dim(x, dim))


def log_softmax(x, dim=None):
    return LogSoftmax.apply(x, _softmax_dim(x, dim))


# ---- cross-entropy from logits -----------------------------------------------------------


class SoftmaxCrossEntropy(Function):
    """Cross-entropy of softmax(logits) against a target distribution q, per row:

        loss_i = -sum_c q_ic log softmax(x_i)_c

    and its gradient with respect to the logits is simply softmax(x_i) * sum(q_i) - q_i
    (p - onehot(y) for a plain class index). Class indices, ignore_index, class weights
    and label smoothing only change q, so one kernel serves them all.
    """

    fresh_grads = True  # softmax(x) computed anew in backward, and the target's gradient

    def forward(self, logits, target, weight, ignore_index, reduction, smoothing):
        n, c = logits.shape
        dtype = logits.dtype
        eps = dtype.type(smoothing)
        shifted = logits - max_keepdims(logits, 1)  # exp() cannot overflow now
        exp = xp.exp(shifted)
        sums = sum_keepdims(exp, 1)
        log_sums = xp.log(sums)  # log softmax(x) = shifted - log_sums
        # backward reads softmax(x) = exp / sums and the targets, all saved (so a target
        # changed in place before backward is caught)
        if target.ndim == 1:  # class indices
            rows, safe, valid = _class_rows(target, ignore_index, c)
            try:
                picked = shifted[rows, safe] - log_sums[:, 0]  # log softmax at the target class
            except IndexError:
                bad = int(safe[safe >= c][0])
                raise ValueError(f"cross_entropy: target class {bad} is out of range for {c} classes (0..{c - 1})") from None
            if weight is None and valid is None:
                coef = dtype.type(1)  # every row counts fully: no per-row weight array needed
            else:
                coef = xp.ones(n, dtype=dtype) if weight is None else weight[safe].astype(dtype)
                if valid is not None:
                    coef = coef * valid
            loss = -coef * picked
            if smoothing:
                wvec = xp.ones(c, dtype=dtype) if weight is None else weight.astype(dtype)
                smooth = -((shifted - log_sums) * wvec).sum(axis=1) / c
                smooth = smooth if valid is None else smooth * valid
                loss = (1 - eps) * loss + eps * smooth
            self.index = (rows, coef, valid)
            self.save_for_backward(exp, sums, safe)
            denom = dtype.type(n) if xp.ndim(coef) == 0 else coef.sum()
        else:  # class probabilities
            q = target.astype(dtype, copy=False)
            if smoothing:
                q = q * (1 - eps) + eps / c
            if weight is not None:
                q = q * weight.astype(dtype)
            self.logp = shifted - log_sums
            loss = -(q * self.logp).sum(axis=1)
            self.index = None
            self.save_for_backward(exp, sums, q)
            denom = dtype.type(n)
        self.reduction, self.smoothing, self.weight, self.denom = reduction, smoothing, weight, denom
        if reduction == "none":
            return loss
        total = loss.sum()
        if reduction == "sum":
            return total
        return total / denom if denom else dtype.type(xp.nan)  # every row ignored: nan, as torch

    def backward(self, grad):
        exp, sums, target = self.saved  # target: class per row, or the probabilities q
        c = exp.shape[1]
        dtype = exp.dtype
        scale = grad
        if self.reduction == "mean":  # with every row ignored nothing counts: a zero gradient
            scale = grad / self.denom if self.denom else xp.zeros_like(grad)
        d = exp / sums  # softmax(x): a fresh array, ours to change in place
        if self.index is not None:
            rows, coef, valid = self.index
            eps = dtype.type(self.smoothing)
            hot = coef * (1 - eps) if self.smoothing else coef
            if self.smoothing:
                wvec = xp.ones(c, dtype=dtype) if self.weight is None else self.weight.astype(dtype)
                row_mass = hot + (eps / c) * wvec.sum() * (1 if valid is None else valid)
                d *= _per_row(row_mass)
                d -= (eps / c) * (wvec[None, :] if valid is None else valid[:, None] * wvec[None, :])
            elif xp.ndim(coef):
                d *= coef[:, None]
            d[rows, target] -= hot
            grad_target = None
        else:
            q = target
            d *= q.sum(axis=1, keepdims=True)
            d -= q
            grad_target = None
            if self.needs_input_grad[1]:
                factor = (1 - self.smoothing) * (1 if self.weight is None else self.weight)
                grad_target = -self.logp * factor
                grad_target = grad_target * (scale[:, None] if self.reduction == "none" else scale)
        d *= scale[:, None] if self.reduction == "none" else scale
        return d, grad_target


def _class_rows(target, ignore_index, c):
    """(row numbers, class index per row, valid-row mask or None when every row counts).

    Rows marked ``ignore_index`` get class 0 as a placeholder (their weight is zero).
    Indices of ``c`` or more are caught where they are used; negative ones here, since
    NumPy would read them from the end.
    """
    rows = xp.arange(target.shape[0])
    if not target.size or (ignore_index < 0 and target.min() >= 0):
        return rows, target, None  # the usual case: all real classes, nothing to ignore
    valid = target != ignore_index
    if valid.all():
        valid = None
    safe = target if valid is None else xp.where(valid, target, 0)
    if safe.min() < 0:
        raise ValueError(f"cross_entropy: target class {int(safe[safe < 0][0])} is out of range for {c} classes (0..{c - 1})")
    return rows, safe, valid


def _per_row(value):
    """A per-row weight as a column to scale rows of class scores (a scalar stays a scalar)."""
    return value[:, None] if xp.ndim(value) else value


_REDUCTIONS = ("none", "mean", "sum")


def check_reduction(reduction, op, extra=()):
    if reduction not in _REDUCTIONS + tuple(extra):
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS + tuple(extra)}, got {reduction!r}")


def classes_last(x, op):
    """(N, C, d1, ...) -> (N * d1 * ..., C), so the kernels see rows of class scores."""
    if x.ndim < 2:
        raise ValueError(f"{op}: input must have shape (N, C) or (N, C, d1, ...), got {tuple(x.shape)}")
    if x.ndim == 2:
        return x
    return x.permute(0, *range(2, x.ndim), 1).reshape(-1, x.shape[1])


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """Cross-entropy from logits: log-softmax and negative log-likelihood in one stable kernel.

    ``target`` holds class indices of shape (N,) or (N, d1, ...), or class probabilities
    of the input's shape. Stays finite for logits of any magnitude.
    """
    check_reduction(reduction, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    target = target if isinstance(target, Tensor) else Tensor(target)
    shape, target_shape = input.data.shape, target.data.shape
    if len(shape) == 1:  # one sample (C,): a batch of one, and the batch dim dropped again
        loss = cross_entropy(
            input.reshape(1, -1), target.reshape(1, *target_shape), weight, ignore_index,
            reduction, label_smoothing,
        )
        return loss.reshape(()) if reduction == "none" else loss
    if target.data.dtype.kind == "f":  # class probabilities: a tensor, it may need a gradient
        if target_shape != shape:
            raise ValueError(
                f"cross_entropy: probability targets must have the input's shape {shape}, "
                f"got {target_shape}"
            )
        target = classes_last(target, "cross_entropy")
    else:  # class indices: a plain array
        if target.data.dtype.kind not in "iu":
            raise TypeError(f"cross_entropy: target must hold int64 class indices or float probabilities, got {target.dtype}")
        expected = (shape[0],) + shape[2:]
        if target_shape != expected:
            raise ValueError(
                f"cross_entropy: input of shape {shape} (N, C, ...) needs class-index "
                f"targets of shape {expected}, got {target_shape}"
            )
        target = target.data.reshape(-1)
    w = weight.data if isinstance(weight, Tensor) else weight
    if w is not None and w.shape != (shape[1],):
        raise ValueError(f"cross_entropy: weight must have shape ({shape[1]},), got {tuple(w.shape)}")
    loss = SoftmaxCrossEntropy.apply(
        classes_last(input, "cross_entropy"), target, weight=w, ignore_index=ignore_index,
        reduction=reduction, smoothing=float(label_smoothing),
    )
    if reduction == "none" and len(shape) > 2:
        loss = loss.reshape(shape[0], *shape[2:])
    return loss


# ---- linear -------------------------------------------------------------------------------


class Linear(Function):
    """y = x W^T + b. Backward: dx = g W, dW = g^T x, db = sum of g over the rows.

    Inputs with extra leading dims (batch, time, features) are folded into one 2-D matrix
    first, so each product is a single GEMM (about 10% faster than NumPy's batched matmul
    for a (32, 64, 128) input) and the weight gradient needs no batch reduction.
    """

    fresh_grads = True  # three GEMM results, new every backward

    def forward(self, x, weight, bias):
        self.save_for_backward(x, weight)
        rows = x if x.ndim == 2 else x.reshape(-1, x.shape[-1])
        out = rows @ weight.T
        if bias is not None:
            add_bias(out, bias)
        return out.reshape(*x.shape[:-1], weight.shape[0]) if x.ndim != 2 else out

    def backward(self, grad):
        x, weight = self.saved[:2]  # LinearReLU saves its output after them
        need_x, need_w, need_b = self.needs_input_grad
        grad_rows = grad if grad.ndim == 2 else grad.reshape(-1, weight.shape[0])
        grad_x = grad_w = None
        if need_x:
            grad_x = (grad_rows @ weight).reshape(x.shape)
        if need_w:
            grad_w = grad_rows.T @ (x if x.ndim == 2 else x.reshape(-1, x.shape[-1]))
        return grad_x, grad_w, (column_sums(grad_rows) if need_b else None)


class LinearReLU(ReLUAfter, Linear):
    """relu(x W^T + b) as one node (see ReLUAfter): a Linear followed by a ReLU in Sequential."""


def check_linear(input, weight, bias):
    """Raise a clear error if ``input``, ``weight`` and ``bias`` do not fit a linear layer."""
    if input.ndim == 0:
        raise ValueError(f"linear: input must have at least 1 dimension (..., {weight.shape[-1]}), got a scalar")
    if input.shape[-1] != weight.shape[-1]:
        raise ValueError(
            f"linear: input of shape {tuple(input.shape)} has {input.shape[-1]} features but the "
            f"weight of shape {tuple(weight.shape)} expects {weight.shape[-1]} "
            f"(weight is (out_features, in_features))"
        )
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ValueError(
            f"linear: bias of shape {tuple(bias.shape)} does not fit the weight of shape "
            f"{tuple(weight.shape)}: it needs shape ({weight.shape[0]},), one per output feature"
        )
    if input.dtype != weight.dtype:
        raise TypeError(
            f"linear: input is {input.dtype} but the weight is {weight.dtype}; convert one "
            f"(x.float() or model.to(dp.float64))"
        )


def linear(input, weight, bias=None):
    check_linear(input, weight, bias)
    return Linear.apply(input, weight, bias)


def linear_relu(input, weight, bias=None):
    """relu(linear(input, weight, bias)) as one graph node (:class:`LinearReLU`)."""
    check_linear(input, weight, bias)
    return LinearReLU.apply(input, weight, bias)


# ---- dropout ------------------------------------------------------------------------------


class Dropout(Function):
    """Zero each element with probability p and scale survivors by 1/(1-p) (inverted
    dropout), so the expected activation is unchanged and eval needs no rescaling."""

    def forward(self, x, p, generator):
        keep = random.get_rng(generator).random(x.shape, dtype=xp.float32) >= p
        mask = keep.astype(x.dtype) * x.dtype.type(1.0 / (1.0 - p))
        self.save_for_backward(mask)
        return x * mask

    def backward(self, grad):
        (mask,) = self.saved
        return grad * mask, None, None


def dropout(input, p=0.5, training=True, inplace=False, generator=None):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    return Dropout.apply(input, p, generator)


# ---- binary cross-entropy -------------------------------------------------------------------


class BCEWithLogits(Function):
    """-[t log sigma(x) + (1 - t) log(1 - sigma(x))] written stably, elementwise:

        (1 - t) x + (1 + (pw - 1) t) softplus(-x)       (pw: pos_weight, usually 1)

    with softplus(-x) = log(1 + e^-|x|) + max(-x, 0). Gradient: sigma(x) - t when pw = 1.
    """

    def forward(self, x, t, pos_weight):
        sp = xp.log1p(xp.exp(-xp.abs(x))) + xp.maximum(-x, 0)
        lw = 1 if pos_weight is None else 1 + (pos_weight - 1) * t
        self.save_for_backward(x, t, sp)
        self.pos_weight = pos_weight
        return (1 - t) * x + lw * sp

    def backward(self, grad):
        x, t, sp = self.saved
        pw = self.pos_weight
        lw = 1 if pw is None else 1 + (pw - 1) * t
        grad_x = grad * ((1 - t) - lw * stable_sigmoid(-x))
        grad_t = None
        if self.needs_input_grad[1]:
            grad_t = grad * (-x if pw is None else -x + (pw - 1) * sp)
        return grad_x, grad_t, None


class BinaryCrossEntropy(Function):
    """-[t log p + (1 - t) log(1 - p)] on probabilities, each log clamped at -100 as in torch."""

    def forward(self, p, t):
        self.save_for_backward(p, t)
        with xp.errstate(divide="ignore"):  # log(0) = -inf, clamped to -100 below
            return -(t * xp.maximum(xp.log(p), -100) + (1 - t) * xp.maximum(xp.log1p(-p), -100))

    def backward(self, grad):
        p, t = self.saved
        eps = p.dtype.type(1e-12)
        grad_p = grad * (p - t) / xp.maximum((1 - p) * p, eps)
        grad_t = None
        if self.needs_input_grad[1]:
            with xp.errstate(divide="ignore"):
                grad_t = grad * (xp.maximum(xp.log1p(-p), -100) - xp.maximum(xp.log(p), -100))
        return grad_p, grad_t
