"""Scaled dot-product attention as one fused kernel, forward and backward by hand.

    S = scale * Q K^T + B          (B: an additive mask; -inf where a query may not look)
    P = softmax(S)                 (row by row, over the keys)
    P' = P * M / (1 - p)           (dropout on the attention weights, M a 0/1 mask)
    O = P' V

Backward, for an upstream gradient G = dL/dO:

    dV = P'^T G                    dP' = G V^T              dP = dP' * M / (1 - p)
    dS = P * (dP - rowsum(dP * P))                          (the softmax Jacobian)
    dQ = scale * dS K              dK = scale * dS^T Q      dB = dS

and rowsum(dP * P) equals rowsum(G * O), a sum over the value dim instead of the key dim
(the trick FlashAttention uses). A row whose keys are all masked gets weights 0 and
output 0 rather than NaN, as in PyTorch's ``scaled_dot_product_attention``.

The composition of primitive ops that this kernel replaces is
``ops/attention_reference.py``; the tests check one against the other.

Two entry points share the arithmetic:

* :func:`scaled_dot_product_attention` works on (..., L, E) queries and (..., S, E)
  keys/values, as ``torch.nn.functional.scaled_dot_product_attention``.
* :class:`MultiheadAttentionCore` is what ``nn.MultiheadAttention`` calls: it takes the
  projected queries/keys/values as rows in the layer's own layout, (N, L) or (L, N)
  positions, splits the heads as strided views (no copies), attends, and writes the
  merged heads straight into the output rows, so the layer needs no reshape/transpose
  ops around it. For self-attention the three projections are one packed (rows, 3E)
  array, and dQ, dK, dV are written into the slices of one gradient array.
"""
import math

from .. import random
from ..autograd import Function
from ..backend import xp
from ..tensor import Tensor

_NEG_INF = float("-inf")
_causal_cache = {}


def causal_bias(L, S, dtype):
    """An (L, S) additive mask: 0 where key j <= query i, -inf above the diagonal.

    Aligned at the top left, as torch's ``is_causal`` (query i sees keys 0..i). Cached and
    read-only; the array is a transposed view of a contiguous (S, L) one, the memory order
    of the scores in :func:`attend`."""
    key = (L, S, xp.dtype(dtype).str)
    bias = _causal_cache.get(key)
    if bias is None:
        bias = xp.ascontiguousarray(xp.triu(xp.full((L, S), _NEG_INF, dtype=dtype), 1).T).T
        bias.flags.writeable = False
        if len(_causal_cache) > 64:
            _causal_cache.clear()
        _causal_cache[key] = bias
    return bias


def _softmax_rows(s, may_be_masked):
    """Softmax over the last axis, in place. A row that is all -inf gives zeros."""
    m = s.max(axis=-1, keepdims=True)
    dead = None
    if may_be_masked:
        dead = xp.isneginf(m)
        if dead.any():
            m[dead] = 0.0  # exp(-inf - 0) = 0: the row sums to 0, fixed below
        else:
            dead = None
    s -= m
    xp.exp(s, out=s)
    total = s.sum(axis=-1, keepdims=True)
    if dead is not None:
        total[dead] = 1.0
    s /= total
    return s


def attend(q, k, v, bias, causal, scale, dropout_p, generator, out=None):
    """The forward arithmetic on arrays: (output, state for :func:`attend_backward`).

    ``q`` (..., L, D), ``k`` (..., S, D), ``v`` (..., S, Dv); ``bias`` broadcasts to
    (..., L, S) or is None. ``out``: an array (or strided view) to write the output into.

    Speed: the scores are stored key-major, as a contiguous (..., S, L) array seen through
    a transposed (..., L, S) view. The softmax then reduces over a strided axis, which
    NumPy vectorises across the contiguous one (about 2x faster than a max over short
    contiguous rows), and BLAS reads either layout at the same speed.
    """
    dtype = q.dtype
    qs = q * dtype.type(scale)
    s = xp.swapaxes(k @ xp.swapaxes(qs, -1, -2), -1, -2)  # (..., L, S) view of (..., S, L)
    if bias is not None:
        if xp.broadcast_shapes(s.shape, bias.shape) == s.shape:
            s += bias
        else:
            s = s + bias
    if causal:
        s += causal_bias(s.shape[-2], s.shape[-1], dtype)
    probs = _softmax_rows(s, bias is not None or causal)
    if dropout_p >= 1.0:  # everything dropped
        drop = xp.zeros(probs.shape, dtype=dtype)
        weights = drop
    elif dropout_p > 0.0:
        keep = random.get_rng(generator).random(probs.shape, dtype=xp.float32) >= dropout_p
        drop = keep.astype(dtype) * dtype.type(1.0 / (1.0 - dropout_p))
        weights = probs * drop
    else:
        drop = None
        weights = probs
    out = xp.matmul(weights, v, out=out)
    return out, (qs, k, v, probs, drop, weights, out)


def attend_backward(grad, state, scale, need_bias, dq=None, dk=None, dv=None):
    """(dq, dk, dv, dbias) from the upstream gradient and the forward's state; ``dq``,
    ``dk``, ``dv`` may be given as arrays (or strided views) to write into."""
    qs, k, v, probs, drop, weights, out = state
    dtype = qs.dtype
    dv = xp.matmul(xp.swapaxes(weights, -1, -2), grad, out=dv)
    # dP = G V^T, computed as (V G^T)^T so that it has the memory order of the weights
    dp = xp.swapaxes(v @ xp.swapaxes(grad, -1, -2), -1, -2)
    if drop is not None:
        dp *= drop
    # rowsum(dP * P) == rowsum(G * O): a sum over Dv rather than over S
    delta = xp.einsum("...i,...i->...", grad, out)[..., None]
    dp -= delta
    dp *= probs  # now dS
    dq = xp.matmul(dp, k, out=dq)
    dq *= dtype.type(scale)
    dk = xp.matmul(xp.swapaxes(dp, -1, -2), qs, out=dk)  # qs is already scaled
    return dq, dk, dv, (dp if need_bias else None)


class ScaledDotProductAttention(Function):
    """softmax(scale Q K^T + bias) V on (..., L, E) arrays, with optional causal mask and
    dropout on the weights. ``bias`` is an additive float mask (or None) and may need a
    gradient."""

    def forward(self, q, k, v, bias, causal, scale, dropout_p, generator):
        out, state = attend(q, k, v, bias, causal, scale, dropout_p, generator)
        self.scale = scale
        self.save_for_backward(*state)
        return out

    def backward(self, grad):
        need_bias = self.needs_input_grad[3]
        dq, dk, dv, dbias = attend_backward(grad, self.saved, self.scale, need_bias)
        return dq, dk, dv, dbias, None, None, None, None


# ---- the functional API ---------------------------------------------------------------


def _as_tensor(x, name):
    if isinstance(x, Tensor):
        return x
    if isinstance(x, xp.ndarray):
        return Tensor._make(x)
    raise TypeError(f"scaled_dot_product_attention: {name} must be a Tensor, got {type(x).__name__}")


def mask_to_bias(mask, dtype, true_means="attend"):
    """An additive float mask from a boolean or float one.

    A bool mask becomes 0 where attention is allowed and -inf where not; which value of
    the bool means "allowed" differs between APIs: ``true_means="attend"`` for
    ``scaled_dot_product_attention`` (True = take part), ``"ignore"`` for
    ``nn.MultiheadAttention`` masks (True = masked out). A float mask is returned as it
    is (a Tensor, so a learned bias keeps its gradient)."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        mask = Tensor(mask) if not isinstance(mask, xp.ndarray) else Tensor._make(mask)
    kind = mask.data.dtype.kind
    if kind == "b":
        allowed = mask.data if true_means == "attend" else ~mask.data
        bias = xp.zeros(allowed.shape, dtype=dtype)
        bias[~allowed] = _NEG_INF
        return Tensor._make(bias)
    if kind != "f":
        raise TypeError(f"attention masks must be bool or floating point, got {mask.dtype}")
    if mask.data.dtype != dtype and not mask.requires_grad:
        return Tensor._make(mask.data.astype(dtype))  # no silent upcast of the scores
    return mask


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False,
                                 scale=None, enable_gqa=False, generator=None):
    """softmax(Q K^T / sqrt(E) + mask) V, as ``torch.nn.functional.scaled_dot_product_attention``.

    Shapes: ``query`` (..., L, E), ``key`` (..., S, E), ``value`` (..., S, Ev) -> (..., L, Ev).
    ``attn_mask`` broadcasts to (..., L, S): a bool mask says which keys each query may
    attend to (True = attend, as in torch's SDPA; note ``nn.MultiheadAttention`` uses the
    opposite convention), a float mask is added to the scores. ``is_causal`` hides the
    future (query i sees keys 0..i) and cannot be combined with ``attn_mask``.
    ``dropout_p`` drops attention weights (always, as torch's functional does: pass 0.0
    in evaluation). ``scale`` replaces 1/sqrt(E). ``enable_gqa`` lets key/value have
    fewer heads (dim -3) than the query, each shared by a group of query heads.
    ``generator`` (ours) seeds the dropout mask; by default the library's generator.
    """
    query = _as_tensor(query, "query")
    key = _as_tensor(key, "key")
    value = _as_tensor(value, "value")
    q, k, v = query.data, key.data, value.data
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise ValueError(
            f"scaled_dot_product_attention: query, key and value need at least 2 dims (..., L, E), "
            f"got shapes {tuple(q.shape)}, {tuple(k.shape)}, {tuple(v.shape)}"
        )
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(
            f"scaled_dot_product_attention: query (..., L, E) of shape {tuple(q.shape)} and key "
            f"(..., S, E) of shape {tuple(k.shape)} must share their last dim E"
        )
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(
            f"scaled_dot_product_attention: key of shape {tuple(k.shape)} and value of shape "
            f"{tuple(v.shape)} must have the same sequence length S (dim -2)"
        )
    if not (q.dtype == k.dtype == v.dtype) or q.dtype.kind != "f":
        raise TypeError(
            f"scaled_dot_product_attention: query, key and value must share one floating dtype, "
            f"got {q.dtype}, {k.dtype}, {v.dtype}"
        )
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"scaled_dot_product_attention: dropout_p must be in [0, 1], got {dropout_p}")
    if is_causal and attn_mask is not None:
        raise RuntimeError(
            "scaled_dot_product_attention: give attn_mask or is_causal=True, not both "
            "(combine them yourself into one mask if you need both)"
        )
    if enable_gqa and q.ndim >= 3 and k.shape[-3] != q.shape[-3]:
        key, value = _repeat_kv_heads(key, value, q.shape[-3])
    elif q.ndim >= 3 and k.ndim >= 3:
        try:
            xp.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
        except ValueError:
            raise ValueError(
                f"scaled_dot_product_attention: batch dims of query {tuple(q.shape)}, key "
                f"{tuple(k.shape)} and value {tuple(v.shape)} cannot be broadcast together"
                + (" (pass enable_gqa=True for fewer key/value heads)" if k.shape[-3] != q.shape[-3] else "")
            ) from None
    bias = mask_to_bias(attn_mask, q.dtype, "attend")
    if bias is not None:
        L, S = q.shape[-2], k.shape[-2]
        try:
            xp.broadcast_shapes(bias.data.shape, q.shape[:-1] + (S,))
        except ValueError:
            raise ValueError(
                f"scaled_dot_product_attention: attn_mask of shape {tuple(bias.shape)} does not "
                f"broadcast to the scores' shape (..., L, S) = {q.shape[:-2] + (L, S)}"
            ) from None
    if scale is None:
        scale = 1.0 / math.sqrt(q.shape[-1])
    return ScaledDotProductAttention.apply(
        query, key, value, bias, bool(is_causal), float(scale), float(dropout_p), generator
    )


def _repeat_kv_heads(key, value, q_heads):
    hk = key.shape[-3]
    if q_heads % hk or value.shape[-3] != hk:
        raise ValueError(
            f"scaled_dot_product_attention(enable_gqa=True): the query's {q_heads} heads must be a "
            f"multiple of the key's and value's head count, got {hk} and {value.shape[-3]}"
        )
    group = q_heads // hk

    def repeat(t):
        shape = tuple(t.shape)
        expanded = t.unsqueeze(-3).expand(*shape[:-2], group, *shape[-2:])
        return expanded.reshape(*shape[:-3], hk * group, *shape[-2:])

    return repeat(key), repeat(value)


# ---- the multi-head core used by nn.MultiheadAttention ------------------------------------


def _heads(a, offset, embed, num_heads, seq_first):
    """A (N, H, L, D) strided view of ``a[..., offset:offset + embed]``, where ``a`` is
    (N, L, C) (batch first) or (L, N, C) (sequence first)."""
    part = a[..., offset:offset + embed]
    d0, d1 = part.shape[0], part.shape[1]
    split = part.reshape(d0, d1, num_heads, embed // num_heads)
    return split.transpose(1, 2, 0, 3) if seq_first else split.transpose(0, 2, 1, 3)


class MultiheadAttentionCore(Function):
    """Attention of projected queries, keys and values, heads split and merged in place.

    Inputs ``q_src``, ``k_src``, ``v_src`` hold the projections of a (d0, d1) grid of
    positions, (N, L) (batch first) or (L, N) with ``seq_first``, either as 3-D arrays
    (d0, d1, C) or flattened to 2-D (d0 * d1, C) (what a Linear on flattened rows makes);
    ``leads`` gives (d0, d1) of the query and of the key/value. The query sits at
    ``q_src[..., offsets[0]:offsets[0] + E]`` and so on, so one packed (..., 3E)
    projection can be passed three times (self-attention) or a packed (..., 2E)
    key/value one twice (encoder-decoder attention). ``bias`` is an additive mask
    broadcasting to (N, H, L, S), or None. The output is the query's (d0 * d1, E) rows.
    The gradient of a source passed more than once is one array, returned once.
    """

    def forward(self, q_src, k_src, v_src, bias, leads, offsets, embed, num_heads, seq_first, causal, scale,
                dropout_p, generator):
        lq, lk = leads
        qh = _heads(q_src.reshape(lq + (q_src.shape[-1],)), offsets[0], embed, num_heads, seq_first)
        kh = _heads(k_src.reshape(lk + (k_src.shape[-1],)), offsets[1], embed, num_heads, seq_first)
        vh = _heads(v_src.reshape(lk + (v_src.shape[-1],)), offsets[2], embed, num_heads, seq_first)
        out = xp.empty(lq + (embed,), dtype=q_src.dtype)
        _, state = attend(qh, kh, vh, bias, causal, scale, dropout_p, generator,
                          out=_heads(out, 0, embed, num_heads, seq_first))
        self.meta = (leads, offsets, embed, num_heads, seq_first, scale)
        self.shapes = (q_src.shape, k_src.shape, v_src.shape)
        self.save_for_backward(*state)
        return out.reshape(lq[0] * lq[1], embed)

    def backward(self, grad):
        leads, offsets, embed, num_heads, seq_first, scale = self.meta
        need_bias = self.needs_input_grad[3]
        gh = _heads(grad.reshape(leads[0] + (embed,)), 0, embed, num_heads, seq_first)
        # which input each of q, k, v came from: a source passed twice gets one gradient,
        # and dq, dk, dv are written straight into their slices of it
        q_t, k_t, v_t = self.inputs[:3]
        source = (0, 0 if k_t is q_t else 1, 0 if v_t is q_t else (1 if v_t is k_t else 2))
        grads = [None, None, None]
        views = [None, None, None]
        for i in range(3):
            src = source[i]
            if not self.needs_input_grad[src]:
                continue
            full = grads[src]
            if full is None:
                shape = self.shapes[src]
                covered = source.count(src) * embed == shape[-1]  # every column gets written
                full = (xp.empty if covered else xp.zeros)(shape, dtype=grad.dtype)
                grads[src] = full
            lead = leads[0] if i == 0 else leads[1]
            views[i] = _heads(full.reshape(lead + (full.shape[-1],)), offsets[i], embed, num_heads, seq_first)
        _, _, _, dbias = attend_backward(gh, self.saved, scale, need_bias, *views)
        return (grads[0], grads[1], grads[2], dbias) + (None,) * 9
