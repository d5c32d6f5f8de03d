"""Batch normalisation and layer normalisation as fused kernels with hand-derived backward.

Both normalise, then scale and shift:  x_hat = (x - mean) / sqrt(var + eps),  y = w x_hat + b.
They differ only in which elements share a mean: batch norm averages each channel over
the batch (and any length dims), layer norm each sample over its last dims.

Backward, with M the number of elements averaged together and sums taken over them:

    db = sum(g)        dw = sum(g x_hat)
    dx = w / sqrt(var + eps) * (g - db / M - x_hat * dw / M)

(the two subtracted terms are the gradient flowing through the mean and the variance).
In evaluation mode batch norm uses fixed running statistics, so dx = g w / sqrt(var + eps).
The tests check both kernels against the same formulas composed of primitive ops.
"""
from ..autograd import Function
from ..backend import add_bias, column_sums, row_sums, xp


class BatchNorm(Function):
    """Batch norm over (N, C) or (N, C, *): statistics per channel C.

    In training mode, the batch statistics normalise, and ``running_mean``/``running_var``
    (arrays, updated in place) move towards them by ``momentum``; the running variance
    takes the unbiased batch variance, as in PyTorch. In evaluation mode the running
    statistics normalise.
    """

    def forward(self, x, weight, bias, running_mean, running_var, training, momentum, eps):
        c = x.shape[1]
        dt = x.dtype.type
        if x.ndim == 2:
            shape, axes = (1, c), (0,)
        else:
            shape, axes = (1, c) + (1,) * (x.ndim - 2), (0,) + tuple(range(2, x.ndim))
        count = x.size // c
        if training:
            if x.ndim == 2:
                mean = column_sums(x) * dt(1.0 / count)
                centered = x - mean
                var = column_sums(centered * centered) * dt(1.0 / count)
            else:
                mean = x.mean(axis=axes)
                centered = x - mean.reshape(shape)
                var = (centered * centered).mean(axis=axes)
            invstd = 1.0 / xp.sqrt(var + dt(eps))
            centered *= invstd.reshape(shape)
            xhat = centered
            if running_mean is not None:
                m = dt(momentum)
                running_mean *= 1 - m
                running_mean += m * mean.astype(running_mean.dtype, copy=False)
                unbiased = var * dt(count / max(count - 1, 1))
                running_var *= 1 - m
                running_var += m * unbiased.astype(running_var.dtype, copy=False)
        else:
            invstd = (1.0 / xp.sqrt(running_var + eps)).astype(x.dtype, copy=False)
            xhat = (x - running_mean.reshape(shape).astype(x.dtype, copy=False)) * invstd.reshape(shape)
        if weight is None:  # never modify xhat in place: backward needs it
            out = xhat if bias is None else xhat + bias.reshape(shape)
        else:
            out = xhat * weight.reshape(shape)
            if bias is not None:
                out += bias.reshape(shape)
        self.shape, self.axes, self.count, self.training = shape, axes, count, training
        self.save_for_backward(xhat, invstd, weight)
        return out

    def _channel_sum(self, a):
        return column_sums(a) if a.ndim == 2 else a.sum(axis=self.axes)

    def backward(self, grad):
        xhat, invstd, weight = self.saved
        need_x, need_w, need_b = self.needs_input_grad[:3]
        shape = self.shape
        db = self._channel_sum(grad) if (need_b or (need_x and self.training)) else None
        dw = self._channel_sum(grad * xhat) if (need_w or (need_x and self.training)) else None
        dx = None
        if need_x:
            scale = invstd if weight is None else invstd * weight
            if self.training:
                k = grad.dtype.type(1.0 / self.count)
                dx = grad - (db * k).reshape(shape)
                dx -= xhat * (dw * k).reshape(shape)
                dx *= scale.reshape(shape)
            else:
                dx = grad * scale.reshape(shape)
        return (
            dx,
            dw if need_w else None,
            db if need_b else None,
            None, None, None, None, None,
        )


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """torch's F.batch_norm: normalise each channel of (N, C) or (N, C, *) input.

    ``running_mean``/``running_var`` (tensors or None) are updated in place when
    ``training``; without ``training`` they are what normalises, so they must be given.
    """
    shape = input.data.shape
    if len(shape) < 2:
        raise ValueError(f"batch_norm: input must have shape (N, C) or (N, C, *), got {tuple(shape)}")
    c = shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        if t is not None and t.data.shape != (c,):
            raise ValueError(
                f"batch_norm: {name} has shape {tuple(t.shape)} but the input of shape "
                f"{tuple(shape)} has {c} channels (dim 1); it must have shape ({c},)"
            )
    if not training and (running_mean is None or running_var is None):
        raise ValueError("batch_norm: running_mean and running_var are needed when training=False")
    if training and input.data.size // max(c, 1) <= 1:
        raise ValueError(
            f"batch_norm: expected more than 1 value per channel when training, got input of "
            f"shape {tuple(shape)}"
        )
    rm = None if running_mean is None else running_mean.data
    rv = None if running_var is None else running_var.data
    if training and running_mean is not None:  # noted before the node is recorded: its
        running_mean._mark_modified()  # own update must not count as a change after it
        running_var._mark_modified()
    return BatchNorm.apply(input, weight, bias, rm, rv, bool(training), momentum, eps)


class LayerNorm(Function):
    """Layer norm over the last ``ndim`` dims of x: statistics per sample (per row of the
    (rows, features) view). Row means are GEMVs with a ones vector and row dot products
    einsums, so the only full-size temporaries are x_hat and the output."""

    def forward(self, x, weight, bias, ndim, eps):
        features = 1
        for s in x.shape[x.ndim - ndim:]:
            features *= s
        x2 = x.reshape(-1, features)
        dt = x.dtype.type
        k = dt(1.0 / features)
        mean = row_sums(x2) * k
        xhat = x2 - mean[:, None]
        var = xp.einsum("ij,ij->i", xhat, xhat) * k
        invstd = 1.0 / xp.sqrt(var + dt(eps))
        xhat *= invstd[:, None]
        if weight is None:
            out = xhat if bias is None else xhat + bias.reshape(-1)
        else:
            out = xhat * weight.reshape(-1)
            if bias is not None:
                add_bias(out, bias.reshape(-1))
        self.in_shape, self.param_shape, self.k = x.shape, x.shape[x.ndim - ndim:], k
        self.save_for_backward(xhat, invstd, weight)
        return out.reshape(x.shape)

    def backward(self, grad):
        xhat, invstd, weight = self.saved
        need_x, need_w, need_b = self.needs_input_grad[:3]
        g = grad.reshape(xhat.shape)
        dw = column_sums(g * xhat).reshape(self.param_shape) if need_w else None
        db = column_sums(g).reshape(self.param_shape) if need_b else None
        dx = None
        if need_x:
            dx = g * weight.reshape(-1) if weight is not None else g.copy()
            mean_g = row_sums(dx) * self.k                        # mean of g w per row
            mean_gx = xp.einsum("ij,ij->i", dx, xhat) * self.k    # mean of g w x_hat per row
            dx -= mean_g[:, None]
            dx -= xhat * mean_gx[:, None]
            dx *= invstd[:, None]
            dx = dx.reshape(self.in_shape)
        return dx, dw, db, None, None


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """torch's F.layer_norm: normalise over the trailing dims given by ``normalized_shape``."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    elif type(normalized_shape) is not tuple:
        normalized_shape = tuple(int(s) for s in normalized_shape)
    shape = input.data.shape
    k = len(normalized_shape)
    if k == 0 or len(shape) < k or shape[len(shape) - k:] != normalized_shape:
        raise ValueError(
            f"layer_norm: normalized_shape {list(normalized_shape)} must match the last dims of the "
            f"input, but the input has shape {tuple(shape)}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.data.shape != normalized_shape:
            raise ValueError(
                f"layer_norm: {name} has shape {tuple(t.shape)}; it must be normalized_shape "
                f"{normalized_shape}"
            )
    return LayerNorm.apply(input, weight, bias, k, eps)
