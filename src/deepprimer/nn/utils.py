"""``deepprimer.nn.utils``: counting and summarising models, weight penalties, gradient clipping.

``clip_grad_norm_``, ``clip_grad_value_``, ``parameters_to_vector`` and
``vector_to_parameters`` are PyTorch's. ``count_parameters``, ``summary``, ``l1_penalty``
and ``l2_penalty`` are deepprimer's own (PyTorch has no equivalent in ``torch.nn.utils``).
"""
import math

from .. import backend
from ..autograd import Function, no_grad
from ..backend import xp
from ..random import Generator
from ..tensor import Tensor
from .module import Module

__all__ = [
    "count_parameters", "summary", "ModelSummary", "l1_penalty", "l2_penalty", "weight_parameters",
    "clip_grad_norm_", "clip_grad_value_", "get_total_norm", "parameters_to_vector",
    "vector_to_parameters",
]


def _as_list(parameters):
    if isinstance(parameters, Tensor):
        return [parameters]
    return list(parameters)


# ---- counting and summarising ----------------------------------------------------------------


def count_parameters(model, trainable_only=False):
    """The number of scalar parameters in ``model`` (each shared parameter counted once);
    with ``trainable_only``, only those that require grad."""
    params = model.parameters() if isinstance(model, Module) else _as_list(model)
    return sum(p.numel() for p in params if p.requires_grad or not trainable_only)


class ModelSummary:
    """What :func:`summary` measured: ``rows`` of (layer name, type, output shape, parameter
    count), the totals, and ``str()`` the printed table."""

    def __init__(self, rows, total_params, trainable_params, text):
        self.rows = rows
        self.total_params = total_params
        self.trainable_params = trainable_params
        self.text = text

    def __str__(self):
        return self.text

    def __repr__(self):
        return f"<ModelSummary: {len(self.rows)} layers, {self.total_params:,} parameters>"


def _shape_of(output):
    if isinstance(output, Tensor):
        return tuple(output.shape)
    if isinstance(output, (tuple, list)):
        return [_shape_of(o) for o in output]
    return type(output).__name__


def summary(model, input_shape, dtype=None, print_fn=print):
    """Run ``model`` once on a batch of shape ``input_shape`` (the batch dim included, e.g.
    ``(64, 784)``) and print each layer's output shape and parameter count, then the totals.

    The forward pass runs in eval mode without recording a graph, on a private random
    input (the global seed's stream is not touched), and the model's mode is restored after.
    ``input_shape`` may be a list of shapes for a model taking several inputs; ``dtype``
    (default float32) may be an integer dtype for models that start with an Embedding.
    Returns a :class:`ModelSummary`; pass ``print_fn=None`` to only get it.
    """
    shapes = input_shape if input_shape and isinstance(input_shape[0], (tuple, list)) else [input_shape]
    dtype = backend.get_default_dtype() if dtype is None else xp.dtype(dtype)
    rng = Generator(0).rng
    if dtype.kind == "f":
        inputs = [Tensor._make(rng.standard_normal(tuple(s)).astype(dtype)) for s in shapes]
    else:
        inputs = [Tensor._make(xp.zeros(tuple(s), dtype=dtype)) for s in shapes]

    names = {id(m): name for name, m in model.named_modules()}
    rows, handles = [], []

    def record(module, args, output):
        own = sum(p.numel() for p in module.parameters(recurse=False))
        rows.append((names.get(id(module), "?"), type(module).__name__, _shape_of(output), own))

    for name, module in model.named_modules():
        leaf = next(iter(module.children()), None) is None
        if module is not model and (leaf or any(True for _ in module.parameters(recurse=False))):
            handles.append(module.register_forward_hook(record))
    modes = {id(m): m.training for m in model.modules()}
    try:
        model.eval()
        with no_grad():
            output = model(*inputs)
    finally:
        for h in handles:
            h.remove()
        for m in model.modules():
            m.__dict__["training"] = modes[id(m)]
    if not rows:  # a model with no submodules: one row for itself
        rows.append((type(model).__name__, type(model).__name__, _shape_of(output), count_parameters(model)))

    total = count_parameters(model)
    trainable = count_parameters(model, trainable_only=True)
    layer_col = max([len("Layer (type)")] + [len(f"{n} ({t})") for n, t, _, _ in rows]) + 2
    shape_col = max([len("Output Shape")] + [len(str(s)) for _, _, s, _ in rows]) + 2
    count_col = max([len("Param #")] + [len(f"{c:,}") for *_, c in rows])
    width = layer_col + shape_col + count_col
    lines = [
        f"{'Layer (type)':<{layer_col}}{'Output Shape':<{shape_col}}{'Param #':>{count_col}}",
        "=" * width,
    ]
    lines += [f"{f'{n} ({t})':<{layer_col}}{s!s:<{shape_col}}{c:>{count_col},}" for n, t, s, c in rows]
    lines += [
        "=" * width,
        f"Input shape: {', '.join(str(tuple(s)) for s in shapes)}",
        f"Total params: {total:,}",
        f"Trainable params: {trainable:,}",
        f"Non-trainable params: {total - trainable:,}",
    ]
    result = ModelSummary(rows, total, trainable, "\n".join(lines))
    if print_fn is not None:
        print_fn(result.text)
    return result


# ---- weight penalties -------------------------------------------------------------------------


def weight_parameters(model, include_all=False):
    """The parameters that weight penalties act on.

    By default the "weights": parameters with two or more dims (Linear and conv kernels,
    embedding tables, recurrent weight matrices). Biases and normalisation scales/shifts are
    1-D and left out, which is what weight decay in PyTorch recipes usually does.
    ``include_all=True`` takes every parameter. Frozen parameters (``requires_grad=False``)
    are always left out. A list of tensors instead of a model is used as given.
    """
    if not isinstance(model, Module):
        return _as_list(model)
    return [p for p in model.parameters() if p.requires_grad and (include_all or p.ndim >= 2)]


class _Penalty(Function):
    """sum over tensors of sum |w| (p=1) or sum w^2 (p=2), in one node; backward: sign(w)
    or 2w times the incoming gradient, for each tensor."""

    def forward(self, *arrays, p):
        self.p = p
        self.save_for_backward(*arrays)
        if not arrays:
            return xp.zeros((), dtype=backend.get_default_dtype())
        dtype = arrays[0].dtype
        if p == 1:
            total = sum(float(xp.abs(a).sum()) for a in arrays)
        else:
            total = sum(float(xp.vdot(a.ravel(), a.ravel())) for a in arrays)
        return xp.asarray(total, dtype=dtype)

    def backward(self, grad):
        g = grad.item()
        if self.p == 1:
            return tuple(xp.sign(a) * a.dtype.type(g) for a in self.saved)
        return tuple(a * a.dtype.type(2 * g) for a in self.saved)


def l1_penalty(model, include_all=False):
    """sum |w| over the model's weights (see :func:`weight_parameters` for which count):
    a differentiable scalar to add to the loss, ``loss = loss + 1e-4 * l1_penalty(model)``.

    deepprimer's own; in PyTorch one writes ``sum(p.abs().sum() for p in ...)``.
    """
    params = weight_parameters(model, include_all)
    return _Penalty.apply(*params, p=1)


def l2_penalty(model, include_all=False):
    """sum w^2 over the model's weights (see :func:`weight_parameters`): a differentiable
    scalar to add to the loss. ``loss + (wd / 2) * l2_penalty(model, include_all=True)``
    gives the same gradient as SGD's ``weight_decay=wd``."""
    params = weight_parameters(model, include_all)
    return _Penalty.apply(*params, p=2)


# ---- gradient clipping --------------------------------------------------------------------------


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The ``norm_type``-norm of all the given tensors together, as one vector."""
    arrays = [t.data if isinstance(t, Tensor) else xp.asarray(t) for t in _as_list(tensors)]
    norm_type = float(norm_type)
    if not arrays:
        return Tensor._make(xp.zeros((), dtype=backend.get_default_dtype()))
    if norm_type == math.inf:
        total = max(float(xp.abs(a).max()) if a.size else 0.0 for a in arrays)
    elif norm_type == 2.0:
        total = math.sqrt(sum(float(xp.vdot(a.ravel(), a.ravel())) for a in arrays))
    else:
        total = sum(float((xp.abs(a.astype(xp.float64)) ** norm_type).sum()) for a in arrays) ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it "
            f"cannot be clipped. To disable this error and scale the gradients by the non-finite norm "
            f"anyway, set `error_if_nonfinite=False`"
        )
    return Tensor._make(xp.asarray(total, dtype=arrays[0].dtype))


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Rescale the gradients in place so that their joint ``norm_type``-norm is at most
    ``max_norm``; returns the norm they had (a scalar tensor), as PyTorch does.

    The scale is max_norm / (norm + 1e-6), applied only when it is below 1.
    """
    params = [p for p in _as_list(parameters) if p.grad is not None]
    grads = [p.grad for p in params]
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    coef = float(max_norm) / (float(total.data) + 1e-6)
    if not coef >= 1.0:  # also when the norm is NaN: the gradients become NaN, as in PyTorch
        with no_grad():
            for g in grads:
                g.data *= g.data.dtype.type(coef)
    return total


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    for p in _as_list(parameters):
        if p.grad is not None:
            xp.clip(p.grad.data, -clip_value, clip_value, out=p.grad.data)


def parameters_to_vector(parameters):
    """All parameters flattened and joined into one 1-D tensor (a copy, outside the graph)."""
    arrays = [p.data.reshape(-1) for p in _as_list(parameters)]
    return Tensor._make(xp.concatenate(arrays) if arrays else xp.zeros(0))


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of the 1-D ``vec`` into the parameters, in place."""
    data = vec.data if isinstance(vec, Tensor) else xp.asarray(vec)
    if data.ndim != 1:
        raise TypeError(f"expected a 1-D vector, got shape {tuple(data.shape)}")
    offset = 0
    with no_grad():
        for p in _as_list(parameters):
            n = p.data.size
            p.data[...] = data[offset:offset + n].reshape(p.data.shape)
            p._mark_modified()
            offset += n
