"""A catalog of every differentiable op, each written once for deepprimer and for torch.

A case is ``fn(lib, F, *tensors)`` where ``lib`` is ``deepprimer`` or ``torch`` and ``F``
their ``nn.functional``. The same table drives ``deepprimer check`` (a float64 gradcheck
of every op), the tests' gradchecks and the PyTorch parity tests, so every op is listed
once and checked every way.

Inputs are described, not given: ``real((3, 4))`` is a standard normal array,
``positive`` stays away from 0 (log, sqrt, a pow base), ``away`` is |x| in [0.5, 2] with a
random sign (kinks and denominators), ``unit`` lies in (0.05, 0.95), ``probs`` sums to 1
along an axis, ``index`` holds int64 class indices, ``mask`` bools. ``const`` marks a
float input that does not require grad.
"""
import zlib
from operator import attrgetter
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Spec:
    kind: str
    shape: tuple
    high: int = 0  # index: values in [0, high)
    axis: int = -1  # probs: the axis that sums to 1
    grad: bool = True  # float inputs: whether they require grad

    @property
    def floating(self):
        return self.kind not in ("index", "mask")


def real(*shape):
    return Spec("real", shape)


def positive(*shape):
    return Spec("positive", shape)


def away(*shape):
    return Spec("away", shape)


def unit(*shape):
    return Spec("unit", shape)


def probs(*shape, axis=-1):
    return Spec("probs", shape, axis=axis)


def index(*shape, high):
    return Spec("index", shape, high=high)


def mask(*shape):
    return Spec("mask", shape)


def const(spec):
    return Spec(spec.kind, spec.shape, spec.high, spec.axis, grad=False)


def make_array(spec, rng):
    shape = spec.shape
    if spec.kind == "real":
        return rng.standard_normal(shape)
    if spec.kind == "positive":
        return rng.uniform(0.5, 2.0, shape)
    if spec.kind == "away":
        return rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    if spec.kind == "unit":
        return rng.uniform(0.05, 0.95, shape)
    if spec.kind == "probs":
        e = np.exp(rng.standard_normal(shape))
        return e / e.sum(axis=spec.axis, keepdims=True)
    if spec.kind == "index":
        return rng.integers(0, spec.high, shape).astype(np.int64)
    if spec.kind == "mask":
        return rng.random(shape) < 0.5
    raise ValueError(spec.kind)


def make_arrays(specs, rng):
    return [np.asarray(make_array(s, rng)) for s in specs]


@dataclass
class Case:
    """An op written once for both frameworks; ``gradcheck=False`` for ops without a
    gradient (or too steep for finite differences at the sample)."""

    name: str
    fn: object
    inputs: tuple
    gradcheck: bool = True
    marks: tuple = ()  # pytest marks for the tests (e.g. xfail); ignored elsewhere

    def arrays(self):
        rng = np.random.default_rng(zlib.crc32(self.name.encode()))
        return make_arrays(self.inputs, rng)

    def deepprimer_inputs(self):
        """The inputs as float64 deepprimer tensors, requiring grad where the spec says."""
        from ..creation import tensor

        return [tensor(a, requires_grad=s.floating and s.grad) for a, s in zip(self.arrays(), self.inputs)]

    def deepprimer_fn(self):
        """The op as a function of deepprimer tensors (what gradcheck differentiates)."""
        import deepprimer
        from deepprimer.nn import functional

        return lambda *tensors: self.fn(deepprimer, functional, *tensors)

    def __repr__(self):
        return self.name


def case(name, fn, *inputs, **kwargs):
    return Case(name, fn, tuple(inputs), **kwargs)




# ---- elementwise ---------------------------------------------------------------------

BROADCAST_PAIRS = [((3, 4), (3, 4)), ((3, 1), (1, 4)), ((2, 3, 4), (4,)), ((), (2, 3)), ((2, 1, 4), (3, 1))]


def _binary(name, fn, left=real, right=real):
    return [
        case(f"{name}{a}{b}", fn, left(*a), right(*b)) for a, b in BROADCAST_PAIRS
    ]


ELEMENTWISE = (
    _binary("add", lambda lib, F, x, y: x + y)
    + _binary("sub", lambda lib, F, x, y: x - y)
    + _binary("mul", lambda lib, F, x, y: x * y)
    + _binary("div", lambda lib, F, x, y: x / y, right=away)
    + _binary("pow", lambda lib, F, x, y: x**y, left=positive)
    + _binary("maximum", lambda lib, F, x, y: lib.maximum(x, y))
    + _binary("minimum", lambda lib, F, x, y: lib.minimum(x, y))
    + [
        case("add_scalar", lambda lib, F, x: x + 2.5, real(3, 4)),
        case("radd_scalar", lambda lib, F, x: 2 + x, real(3, 4)),
        case("sub_scalar", lambda lib, F, x: x - 1.5, real(3, 4)),
        case("rsub_scalar", lambda lib, F, x: 1 - x, real(3, 4)),
        case("mul_scalar", lambda lib, F, x: x * -3, real(3, 4)),
        case("rmul_scalar", lambda lib, F, x: 0.5 * x, real(3, 4)),
        case("div_scalar", lambda lib, F, x: x / 4, real(3, 4)),
        case("rdiv_scalar", lambda lib, F, x: 2 / x, away(3, 4)),
        case("pow_2", lambda lib, F, x: x**2, real(3, 4)),
        case("pow_3", lambda lib, F, x: x**3, real(3, 4)),
        case("pow_half", lambda lib, F, x: x**0.5, positive(3, 4)),
        case("pow_neg", lambda lib, F, x: x**-1.5, positive(3, 4)),
        case("rpow", lambda lib, F, x: 2**x, real(3, 4)),
        case("rpow_float", lambda lib, F, x: 1.5**x, real(3, 4)),
        case("neg", lambda lib, F, x: -x, real(3, 4)),
        case("abs", lambda lib, F, x: lib.abs(x), away(3, 4)),
        case("abs_method", lambda lib, F, x: abs(x), away(3, 4)),
        case("exp", lambda lib, F, x: lib.exp(x), real(3, 4)),
        case("log", lambda lib, F, x: lib.log(x), positive(3, 4)),
        case("sqrt", lambda lib, F, x: lib.sqrt(x), positive(3, 4)),
        case("sin", lambda lib, F, x: lib.sin(x), real(3, 4)),
        case("cos", lambda lib, F, x: x.cos(), real(3, 4)),
        case("tanh", lambda lib, F, x: lib.tanh(x), real(3, 4)),
        case("sigmoid", lambda lib, F, x: lib.sigmoid(x), real(3, 4)),
        case("sigmoid_large", lambda lib, F, x: (x * 50).sigmoid(), real(3, 4)),
        case("relu", lambda lib, F, x: lib.relu(x), away(3, 4)),
        case("F_relu", lambda lib, F, x: F.relu(x), away(3, 4)),
        case("leaky_relu", lambda lib, F, x: F.leaky_relu(x), away(3, 4)),
        case("leaky_relu_slope", lambda lib, F, x: F.leaky_relu(x, 0.2), away(3, 4)),
        case("gelu", lambda lib, F, x: F.gelu(x), real(3, 4)),
        case("gelu_tanh", lambda lib, F, x: F.gelu(x, approximate="tanh"), real(3, 4)),
        case("elu", lambda lib, F, x: F.elu(x), away(3, 4)),
        case("elu_alpha", lambda lib, F, x: F.elu(x, alpha=0.7), away(3, 4)),
        case("softplus", lambda lib, F, x: F.softplus(x), real(3, 4)),
        case("softplus_beta", lambda lib, F, x: F.softplus(x * 4, beta=2.0, threshold=5.0), away(3, 4)),
        case("clamp", lambda lib, F, x: lib.clamp(x, min=-0.5, max=0.6), real(4, 5)),
        case("clamp_min", lambda lib, F, x: x.clamp(min=0.1), real(4, 5)),
        case("clamp_max", lambda lib, F, x: x.clamp(max=-0.1), real(4, 5)),
        case("clamp_tensor", lambda lib, F, x, lo: lib.clamp(x, min=lo), real(4, 5), real(5)),
        case("where", lambda lib, F, c, x, y: lib.where(c, x, y), mask(3, 4), real(3, 4), real(3, 4)),
        case("where_broadcast", lambda lib, F, c, x, y: lib.where(c, x, y), mask(3, 1), real(1, 4), real(3, 4)),
        case("where_scalar", lambda lib, F, x: lib.where(x > 0, x, 0.0), away(3, 4)),
        case("where_scalar_left", lambda lib, F, x: lib.where(x > 0, 1.0, x), away(3, 4)),
        case("masked_fill", lambda lib, F, x: x.masked_fill(x < 0, -1.0), away(3, 4)),
        case("compose", lambda lib, F, x, y: (x * y + x.exp()).tanh() / (1 + y * y), real(3, 4), real(4)),
        case("reuse", lambda lib, F, x: x * x + x.sin() * x, real(5)),
    ]
)

# ---- reductions ------------------------------------------------------------------------

_REDUCE_DIMS = [
    dict(),
    dict(dim=0),
    dict(dim=1),
    dict(dim=2),
    dict(dim=-1, keepdim=True),
    dict(dim=(0, 2)),
    dict(dim=(0, 1), keepdim=True),
]


def _dims_name(kw):
    return "(" + ",".join(f"{k}={v}" for k, v in kw.items()).replace(" ", "") + ")"


def _reductions(name, method):
    return [
        case(f"{name}{_dims_name(kw)}", (lambda kw: lambda lib, F, x: method(x, **kw))(kw), real(2, 3, 4))
        for kw in _REDUCE_DIMS
    ]


REDUCE = (
    _reductions("sum", lambda x, **kw: x.sum(**kw))
    + _reductions("mean", lambda x, **kw: x.mean(**kw))
    + _reductions("var", lambda x, **kw: x.var(**kw))
    + _reductions("std", lambda x, **kw: x.std(**kw))
    + _reductions("amax", lambda x, **kw: x.amax(**kw))
    + _reductions("amin", lambda x, **kw: x.amin(**kw))
    + [
        case(f"logsumexp(dim={d})", (lambda d: lambda lib, F, x: lib.logsumexp(x, d))(d), real(2, 3, 4))
        for d in (0, 1, 2, -1, (0, 2))
    ]
    + [
        case("logsumexp_keepdim", lambda lib, F, x: x.logsumexp(1, keepdim=True), real(2, 3, 4)),
        case("max_all", lambda lib, F, x: x.max(), real(2, 3, 4)),
        case("min_all", lambda lib, F, x: lib.min(x), real(2, 3, 4)),
    ]
    + [
        case(f"{m}(dim={d},keepdim={k})", (lambda m, d, k: lambda lib, F, x: getattr(x, m)(dim=d, keepdim=k))(m, d, k), real(2, 3, 4))
        for m in ("max", "min")
        for d, k in ((0, False), (1, False), (2, True), (-1, False))
    ]
    + [
        case("var_unbiased_false", lambda lib, F, x: x.var(dim=1, unbiased=False), real(3, 4)),
        case("var_correction0", lambda lib, F, x: x.var(dim=0, correction=0), real(3, 4)),
        case("std_unbiased_false_all", lambda lib, F, x: x.std(unbiased=False), real(3, 4)),
        case("sum_dtype_mean_chain", lambda lib, F, x: (x.mean(0) * x.sum(1, keepdim=True)).sum(), real(3, 4)),
        case("norm", lambda lib, F, x: x.norm(), real(3, 4)),
        case("norm_dim", lambda lib, F, x: x.norm(dim=1), real(3, 4)),
        case("norm_p1", lambda lib, F, x: x.norm(p=1, dim=0), away(3, 4)),
        case("sum_1d", lambda lib, F, x: lib.sum(x), real(5)),
        case("mean_0d", lambda lib, F, x: x.mean(), real()),
        case("sum_0d_dim", lambda lib, F, x: x.sum(0), real()),
        case("amax_0d_dim_keepdim", lambda lib, F, x: x.amax(-1, keepdim=True), real()),
        case("max_0d_dim", lambda lib, F, x: x.max(dim=0), real()),
        case("logsumexp_0d", lambda lib, F, x: x.logsumexp(0), real()),
    ]
    + [
        case(f"{m}(dim={d},keepdim={k})", (lambda m, d, k: lambda lib, F, x: getattr(x, m)(dim=d, keepdim=k))(m, d, k), real(2, 3, 4), gradcheck=False)
        for m in ("argmax", "argmin")
        for d, k in ((None, False), (None, True), (0, False), (1, True), (-1, False))
    ]
)

# ---- shape ops and indexing ----------------------------------------------------------


SHAPE = [
    case("reshape", lambda lib, F, x: x.reshape(4, 6), real(2, 3, 4)),
    case("reshape_tuple_infer", lambda lib, F, x: x.reshape((-1, 4)), real(2, 3, 4)),
    case("lib_reshape", lambda lib, F, x: lib.reshape(x, (3, 8)), real(2, 3, 4)),
    case("view", lambda lib, F, x: x.view(6, -1), real(2, 3, 4)),
    case("view_as", lambda lib, F, x, y: x.view_as(y), real(2, 3, 4), const(real(6, 4))),
    case("flatten", lambda lib, F, x: x.flatten(), real(2, 3, 4)),
    case("flatten_1", lambda lib, F, x: x.flatten(1), real(2, 3, 4)),
    case("flatten_0_1", lambda lib, F, x: lib.flatten(x, 0, 1), real(2, 3, 4)),
    case("squeeze", lambda lib, F, x: x.squeeze(), real(2, 1, 3, 1)),
    case("squeeze_dim", lambda lib, F, x: x.squeeze(1), real(2, 1, 3, 1)),
    case("squeeze_noop", lambda lib, F, x: x.squeeze(0), real(2, 1, 3, 1)),
    case("unsqueeze", lambda lib, F, x: x.unsqueeze(1), real(2, 3)),
    case("unsqueeze_neg", lambda lib, F, x: lib.unsqueeze(x, -1), real(2, 3)),
    case("transpose", lambda lib, F, x: x.transpose(0, 2), real(2, 3, 4)),
    case("lib_transpose", lambda lib, F, x: lib.transpose(x, -1, -2), real(2, 3, 4)),
    case("permute", lambda lib, F, x: x.permute(2, 0, 1), real(2, 3, 4)),
    case("permute_tuple", lambda lib, F, x: lib.permute(x, (1, 2, 0)), real(2, 3, 4)),
    case("T", lambda lib, F, x: x.T, real(3, 4)),
    case("transpose_0d", lambda lib, F, x: x.transpose(0, -1) * 2, real()),
    case("t", lambda lib, F, x: x.t(), real(3, 4)),
    case("mT", lambda lib, F, x: x.mT, real(2, 3, 4)),
    case("expand", lambda lib, F, x: x.expand(2, 3, 4), real(3, 1)),
    case("expand_minus1", lambda lib, F, x: x.expand(-1, 4), real(3, 1)),
    case("expand_as", lambda lib, F, x, y: x.expand_as(y), real(1, 4), const(real(3, 4))),
    case("repeat", lambda lib, F, x: x.repeat(2, 1, 3), real(2, 3)),
    case("clone", lambda lib, F, x: x.clone() * 2, real(2, 3)),
    # indexing
    case("index_int", lambda lib, F, x: x[1], real(3, 4)),
    case("index_neg_int", lambda lib, F, x: x[-1, 2], real(3, 4)),
    case("index_slice", lambda lib, F, x: x[:, 1:3], real(3, 4)),
    case("index_step", lambda lib, F, x: x[::2, 1::2], real(5, 4)),
    case("index_none", lambda lib, F, x: x[None, :, None], real(3, 4)),
    case("index_ellipsis", lambda lib, F, x: x[..., 1], real(2, 3, 4)),
    case("index_ellipsis_none", lambda lib, F, x: x[0, ..., None], real(2, 3, 4)),
    case("index_list_repeat", lambda lib, F, x: x[[0, 2, 0, 0]], real(3, 4)),
    case("index_tensor", lambda lib, F, x, i: x[i], real(4, 3), index(6, high=4)),
    case("index_tensor_2d", lambda lib, F, x, i: x[:, i], real(3, 4), index(2, 5, high=4)),
    case("index_two_arrays", lambda lib, F, x, i, j: x[i, j], real(3, 4), index(7, high=3), index(7, high=4)),
    case("index_array_slice_mix", lambda lib, F, x, i: x[i, 1:], real(3, 4, 2), index(5, high=3)),
    case("index_mask", lambda lib, F, x, m: x[m], real(3, 4), mask(3, 4)),
    case("index_mask_rows", lambda lib, F, x, m: x[m], real(5, 2), mask(5)),
    case("index_self_mask", lambda lib, F, x: x[x > 0], away(3, 4)),
    case("setitem_clone", lambda lib, F, x: x[0, 1:3] * x[1:, 0].sum(), real(3, 4)),
    # joining and splitting
    case("cat", lambda lib, F, x, y, z: lib.cat([x, y, z], dim=1), real(2, 3), real(2, 1), real(2, 4)),
    case("cat_dim0_neg", lambda lib, F, x, y: lib.cat((x, y), dim=-2), real(2, 3), real(4, 3)),
    case("stack", lambda lib, F, x, y: lib.stack([x, y]), real(2, 3), real(2, 3)),
    case("stack_last", lambda lib, F, x, y, z: lib.stack([x, y, z], dim=-1), real(2, 3), real(2, 3), real(2, 3)),
    case("split_size", lambda lib, F, x: x.split(2, dim=1), real(3, 5)),
    case("split_sections", lambda lib, F, x: lib.split(x, [1, 3, 1], dim=1), real(3, 5)),
    case("chunk", lambda lib, F, x: x.chunk(3), real(7, 2)),
    case("lib_chunk_dim", lambda lib, F, x: lib.chunk(x, 2, dim=-1), real(2, 5)),
    # padding
    case("pad_constant", lambda lib, F, x: F.pad(x, (1, 2)), real(2, 3)),
    case("pad_constant_value", lambda lib, F, x: F.pad(x, (1, 0, 2, 1), value=-1.5), real(2, 3, 4)),
    case("pad_constant_3dims", lambda lib, F, x: F.pad(x, (1, 1, 0, 2, 1, 0)), real(2, 3, 4)),
    case("pad_reflect", lambda lib, F, x: F.pad(x, (2, 1), mode="reflect"), real(2, 3, 4)),
    case("pad_reflect_2d", lambda lib, F, x: F.pad(x, (1, 2, 2, 1), mode="reflect"), real(1, 2, 3, 4)),
    case("pad_replicate", lambda lib, F, x: F.pad(x, (3, 1), mode="replicate"), real(2, 3, 4)),
    case("pad_replicate_2d", lambda lib, F, x: F.pad(x, (1, 2, 2, 3), mode="replicate"), real(1, 2, 3, 4)),
    case("pad_circular", lambda lib, F, x: F.pad(x, (2, 3), mode="circular"), real(2, 3, 4)),
    case("pad_circular_2d", lambda lib, F, x: F.pad(x, (1, 2, 2, 1), mode="circular"), real(1, 2, 3, 4)),
]

# ---- matmul ------------------------------------------------------------------------------

_MATMUL_SHAPES = [
    ((4,), (4,)),
    ((4,), (4, 3)),
    ((2, 4), (4,)),
    ((2, 4), (4, 3)),
    ((5, 2, 4), (5, 4, 3)),
    ((5, 2, 4), (4, 3)),
    ((2, 4), (5, 4, 3)),
    ((2, 1, 3, 4), (5, 4, 2)),
    ((4,), (2, 4, 3)),
    ((2, 3, 4), (4,)),
]

LINALG = [
    case(f"matmul{a}@{b}", lambda lib, F, x, y: x @ y, real(*a), real(*b)) for a, b in _MATMUL_SHAPES
] + [
    case("lib_matmul", lambda lib, F, x, y: lib.matmul(x, y), real(3, 4), real(4, 2)),
    case("method_matmul_const", lambda lib, F, x, y: x.matmul(y), real(3, 4), const(real(4, 2))),
    case("matmul_chain", lambda lib, F, x, w1, w2: ((x @ w1).tanh() @ w2).sum(), real(5, 4), real(4, 3), real(3, 2)),
]

# ---- fused nn kernels (ops/nn_ops.py) -----------------------------------------------------


def _ce(**kw):
    return lambda lib, F, x, t: F.cross_entropy(x, t, **kw)


def _then_relu(fused, layer, relu_first=False, **settings):
    """deepprimer's node of a layer and a ReLU (``deepprimer.ops.<fused>``, what Sequential
    runs) against torch's two calls: ``F.relu(F.<layer>(...))``, or with ``relu_first``
    ``F.<layer>(F.relu(x), ...)`` (a ReLU followed by a max-pool, which deepprimer pools first)."""
    def fn(lib, F, *tensors):
        if lib.__name__ == "deepprimer":
            return attrgetter(fused)(lib.ops)(*tensors, **settings)
        if relu_first:
            return getattr(F, layer)(F.relu(tensors[0]), *tensors[1:], **settings)
        return F.relu(getattr(F, layer)(*tensors, **settings))
    return fn


NN_OPS = [
    case(f"softmax(dim={d})", (lambda d: lambda lib, F, x: lib.softmax(x, dim=d))(d), real(2, 3, 4))
    for d in (0, 1, 2, -1)
] + [
    case(f"log_softmax(dim={d})", (lambda d: lambda lib, F, x: F.log_softmax(x, dim=d))(d), real(2, 3, 4))
    for d in (0, 1, -1)
] + [
    case("softmax_method", lambda lib, F, x: x.softmax(-1), real(3, 5)),
    case("log_softmax_method", lambda lib, F, x: x.log_softmax(1), real(3, 5)),
    case("softmax_large", lambda lib, F, x: F.softmax(x * 1e3, dim=1), real(3, 5), gradcheck=False),
    case("ce", _ce(), real(5, 4), index(5, high=4)),
    case("ce_sum", _ce(reduction="sum"), real(5, 4), index(5, high=4)),
    case("ce_none", _ce(reduction="none"), real(5, 4), index(5, high=4)),
    case("ce_1d", _ce(), real(4), index(high=4)),
    case("ce_1d_none", _ce(reduction="none"), real(4), index(high=4)),
    case("ce_1d_probs_none", _ce(reduction="none", label_smoothing=0.1), real(4), probs(4)),
    case("ce_large_logits", lambda lib, F, x, t: F.cross_entropy(x * 1e4, t), real(5, 4), index(5, high=4), gradcheck=False),
    case("ce_large_logits_smoothing_none", lambda lib, F, x, t: F.cross_entropy(x * 1e4, t, label_smoothing=0.1, reduction="none"), real(5, 4), index(5, high=4), gradcheck=False),
    case("ce_large_logits_probs", lambda lib, F, x, t: F.cross_entropy(x * 1e4, t), real(5, 4), probs(5, 4), gradcheck=False),
    case("ce_weight", lambda lib, F, x, t, w: F.cross_entropy(x, t, weight=w), real(6, 4), index(6, high=4), const(positive(4))),
    case("ce_weight_none", lambda lib, F, x, t, w: F.cross_entropy(x, t, weight=w, reduction="none"), real(6, 4), index(6, high=4), const(positive(4))),
    case("ce_smoothing", _ce(label_smoothing=0.1), real(5, 4), index(5, high=4)),
    case("ce_smoothing_sum", _ce(label_smoothing=0.3, reduction="sum"), real(5, 4), index(5, high=4)),
    case("ce_smoothing_none", _ce(label_smoothing=0.2, reduction="none"), real(5, 4), index(5, high=4)),
    case("ce_smoothing_weight", lambda lib, F, x, t, w: F.cross_entropy(x, t, weight=w, label_smoothing=0.2), real(6, 4), index(6, high=4), const(positive(4))),
    case("ce_smoothing_weight_sum", lambda lib, F, x, t, w: F.cross_entropy(x, t, weight=w, label_smoothing=0.2, reduction="sum"), real(6, 4), index(6, high=4), const(positive(4))),
    case("ce_ignore", lambda lib, F, x, t: F.cross_entropy(x, lib.where(t == 1, -100, t)), real(8, 3), index(8, high=3)),
    case("ce_ignore_custom", lambda lib, F, x, t: F.cross_entropy(x, t, ignore_index=2), real(8, 3), index(8, high=3)),
    case("ce_ignore_none", lambda lib, F, x, t: F.cross_entropy(x, t, ignore_index=0, reduction="none"), real(8, 3), index(8, high=3)),
    case("ce_ignore_weight_smoothing", lambda lib, F, x, t, w: F.cross_entropy(x, t, weight=w, ignore_index=1, label_smoothing=0.1), real(8, 3), index(8, high=3), const(positive(3))),
    case("ce_ignore_weight_smoothing_none", lambda lib, F, x, t, w: F.cross_entropy(x, t, weight=w, ignore_index=1, label_smoothing=0.1, reduction="none"), real(8, 3), index(8, high=3), const(positive(3))),
    case("ce_probs", _ce(), real(5, 4), probs(5, 4)),
    case("ce_probs_sum", _ce(reduction="sum"), real(5, 4), probs(5, 4)),
    case("ce_probs_none", _ce(reduction="none"), real(5, 4), probs(5, 4)),
    case("ce_probs_smoothing", _ce(label_smoothing=0.2), real(5, 4), probs(5, 4)),
    case("ce_probs_weight", lambda lib, F, x, t, w: F.cross_entropy(x, t, weight=w), real(5, 4), probs(5, 4), const(positive(4))),
    case("ce_probs_weight_smoothing_none", lambda lib, F, x, t, w: F.cross_entropy(x, t, weight=w, label_smoothing=0.1, reduction="none"), real(5, 4), probs(5, 4), const(positive(4))),
    case("ce_spatial", _ce(), real(2, 4, 3), index(2, 3, high=4)),
    case("ce_spatial_none", _ce(reduction="none"), real(2, 4, 3), index(2, 3, high=4)),
    case("ce_spatial_2d", _ce(label_smoothing=0.1), real(2, 3, 2, 2), index(2, 2, 2, high=3)),
    case("ce_spatial_probs", _ce(), real(2, 4, 3), probs(2, 4, 3, axis=1)),
    case("ce_spatial_ignore_weight", lambda lib, F, x, t, w: F.cross_entropy(x, t, weight=w, ignore_index=0), real(2, 4, 3), index(2, 3, high=4), const(positive(4))),
    case("linear", lambda lib, F, x, w, b: F.linear(x, w, b), real(5, 4), real(3, 4), real(3)),
    case("linear_nobias", lambda lib, F, x, w: F.linear(x, w), real(5, 4), real(3, 4)),
    case("linear_3d", lambda lib, F, x, w, b: F.linear(x, w, b), real(2, 5, 4), real(3, 4), real(3)),
    case("linear_1d", lambda lib, F, x, w, b: F.linear(x, w, b), real(4), real(3, 4), real(3)),
    case("linear_relu", _then_relu("nn_ops.linear_relu", "linear"), real(5, 4), real(3, 4), real(3)),
    case("linear_relu_3d_nobias", _then_relu("nn_ops.linear_relu", "linear"), real(2, 5, 4), real(3, 4)),
    case("conv2d_relu", _then_relu("conv.conv2d_relu", "conv2d", padding=1), real(2, 3, 5, 4), real(4, 3, 3, 3), real(4)),
    case("max_pool2d_relu", _then_relu("pooling.max_pool2d_relu", "max_pool2d", True, kernel_size=2), real(2, 3, 4, 6)),
    case("max_pool2d_relu_3x3_padded", _then_relu("pooling.max_pool2d_relu", "max_pool2d", True, kernel_size=3, padding=1), real(1, 2, 7, 5)),
    case("conv2d_relu_stride_groups", _then_relu("conv.conv2d_relu", "conv2d", stride=2, groups=2), real(1, 4, 5, 5), real(6, 2, 2, 2), real(6)),
    case("bce_logits", lambda lib, F, x, t: F.binary_cross_entropy_with_logits(x, t), real(4, 3), unit(4, 3)),
    case("bce_logits_target_grad_pos_weight", lambda lib, F, x, t, pw: F.binary_cross_entropy_with_logits(x, t, pos_weight=pw, reduction="sum"), real(4, 3), unit(4, 3), const(positive(3))),
    case("bce", lambda lib, F, p, t: F.binary_cross_entropy(p, t), unit(4, 3), unit(4, 3)),
]

# ---- nn.functional (nn/functional.py) -----------------------------------------------------

REDUCTIONS = ("mean", "sum", "none")

FUNCTIONAL = (
    [case(f"mse_loss_{r}", (lambda r: lambda lib, F, x, y: F.mse_loss(x, y, reduction=r))(r), real(3, 4), real(3, 4)) for r in REDUCTIONS]
    + [case(f"l1_loss_{r}", (lambda r: lambda lib, F, x, y: F.l1_loss(x, y, reduction=r))(r), real(3, 4), real(3, 4)) for r in REDUCTIONS]
    + [
        case(f"smooth_l1_loss_{r}_beta{b}", (lambda r, b: lambda lib, F, x, y: F.smooth_l1_loss(x, y, reduction=r, beta=b))(r, b), real(3, 4), real(3, 4))
        for r in REDUCTIONS for b in (1.0, 0.5)
    ]
    + [case("smooth_l1_loss_beta0", lambda lib, F, x, y: F.smooth_l1_loss(x, y, beta=0.0), real(3, 4), real(3, 4))]
    + [
        case(f"huber_loss_{r}_delta{d}", (lambda r, d: lambda lib, F, x, y: F.huber_loss(x, y, reduction=r, delta=d))(r, d), real(3, 4), real(3, 4))
        for r in REDUCTIONS for d in (1.0, 0.7)
    ]
    + [
        case(f"nll_loss_{r}", (lambda r: lambda lib, F, x, t: F.nll_loss(x, t, reduction=r))(r), real(5, 4), index(5, high=4))
        for r in REDUCTIONS
    ]
    + [
        case("nll_loss_weight", lambda lib, F, x, t, w: F.nll_loss(x, t, weight=w), real(6, 3), index(6, high=3), const(positive(3))),
        case("nll_loss_ignore", lambda lib, F, x, t: F.nll_loss(x, t, ignore_index=1), real(6, 3), index(6, high=3)),
        case("nll_loss_ignore_none", lambda lib, F, x, t: F.nll_loss(x, t, ignore_index=1, reduction="none"), real(6, 3), index(6, high=3)),
        case("nll_loss_spatial", lambda lib, F, x, t: F.nll_loss(x, t), real(2, 3, 4), index(2, 4, high=3)),
        case("nll_loss_spatial_none", lambda lib, F, x, t: F.nll_loss(x, t, reduction="none"), real(2, 3, 4), index(2, 4, high=3)),
        case("nll_loss_1d", lambda lib, F, x, t: F.nll_loss(x, t), real(4), index(high=4)),
    ]
    + [
        case(f"bce_{r}", (lambda r: lambda lib, F, p, t: F.binary_cross_entropy(p, t, reduction=r))(r), unit(4, 3), unit(4, 3))
        for r in REDUCTIONS
    ]
    + [
        case("bce_weight", lambda lib, F, p, t, w: F.binary_cross_entropy(p, t, weight=w), unit(4, 3), unit(4, 3), const(positive(3))),
        case("bce_logits_weight", lambda lib, F, x, t, w: F.binary_cross_entropy_with_logits(x, t, weight=w), real(4, 3), unit(4, 3), const(positive(4, 1))),
        case("bce_logits_pos_weight", lambda lib, F, x, t, pw: F.binary_cross_entropy_with_logits(x, t, pos_weight=pw), real(4, 3), unit(4, 3), const(positive(3))),
        case("bce_logits_weight_pos_weight_none", lambda lib, F, x, t, w, pw: F.binary_cross_entropy_with_logits(x, t, weight=w, pos_weight=pw, reduction="none"), real(4, 3), unit(4, 3), const(positive(3)), const(positive(3))),
    ]
    + [
        case(f"bce_logits_{r}", (lambda r: lambda lib, F, x, t: F.binary_cross_entropy_with_logits(x, t, reduction=r))(r), real(4, 3), unit(4, 3))
        for r in REDUCTIONS
    ]
    + [
        case(f"kl_div_{r}_log_target{lt}", (lambda r, lt: lambda lib, F, x, t: F.kl_div(x.log_softmax(-1), t.log() if lt else t, reduction=r, log_target=lt))(r, lt), real(3, 4), probs(3, 4))
        for r in REDUCTIONS + ("batchmean",) for lt in (False, True)
    ]
    + [
        case("kl_div_zero_target", lambda lib, F, x, t: F.kl_div(x.log_softmax(-1), t * (t > 0.2), reduction="batchmean"), real(3, 4), const(probs(3, 4))),
        case("softmax_F", lambda lib, F, x: F.softmax(x, dim=-1), real(3, 4)),
        case("log_softmax_F", lambda lib, F, x: F.log_softmax(x, dim=0), real(3, 4)),
        case("sigmoid_F", lambda lib, F, x: F.sigmoid(x), real(3, 4)),
        case("tanh_F", lambda lib, F, x: F.tanh(x), real(3, 4)),
        case("one_hot", lambda lib, F, t: F.one_hot(t, 5), index(6, high=5), gradcheck=False),
        case("one_hot_infer", lambda lib, F, t: F.one_hot(t), index(2, 3, high=4), gradcheck=False),
    ]
)
