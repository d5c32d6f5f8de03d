"""Multi-head attention (Vaswani et al., 2017), with PyTorch's parameters and masks.

    head_i = softmax(Q W_q,i (K W_k,i)^T / sqrt(d) + mask) V W_v,i       d = embed_dim / num_heads
    output = concat(head_1, ..., head_h) W_o^T + b_o

The query, key and value projections of all heads are one packed matrix,
``in_proj_weight`` of shape (3E, E) with rows [W_q; W_k; W_v], as in torch, so a torch
state dict loads as it is (``in_proj_weight``, ``in_proj_bias``, ``out_proj.weight``,
``out_proj.bias``).

Two paths compute the same thing:

* ``need_weights=False`` (what the Transformer layers ask for): the fused kernel
  ``ops.attention.MultiheadAttentionCore``, which splits and merges heads as strided
  views and back-propagates by hand.
* ``need_weights=True`` (the default, as in torch): the composition of primitive ops in
  ``ops/attention_reference.py``, because the returned weights are then an output that
  gradients may flow through. Use it to look at (plot) what each query attends to.
"""
import math
import warnings

from ..backend import xp
from ..ops.attention import MultiheadAttentionCore, mask_to_bias
from ..ops.attention_reference import scaled_dot_product_attention_reference
from ..ops.nn_ops import linear
from ..ops.shape import cat, pad
from ..tensor import Tensor
from . import init
from ._factory import factory_dtype
from .linear import Linear
from .module import Module, Parameter


class NonDynamicallyQuantizableLinear(Linear):
    """A Linear under the name torch gives ``MultiheadAttention.out_proj`` (same printout)."""


class MultiheadAttention(Module):
    """Attention from ``num_heads`` heads of size ``embed_dim // num_heads``, in parallel.

    Arguments as ``torch.nn.MultiheadAttention``: ``dropout`` on the attention weights
    (training only), ``bias``, ``add_bias_kv`` (learned key/value appended to the
    sequence), ``add_zero_attn`` (a zero key/value appended), ``kdim``/``vdim`` (key and
    value feature sizes; separate ``q_proj_weight``/``k_proj_weight``/``v_proj_weight``
    then replace ``in_proj_weight``), ``batch_first`` (False: (L, N, E), as torch).

    ``forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False)`` returns ``(output, weights)``:

    * query (L, N, E) or (N, L, E) with ``batch_first``, or (L, E) unbatched; key and
      value (S, N, kdim/vdim) likewise. Output: the query's shape.
    * ``key_padding_mask`` (N, S): bool True = this key is padding, ignore it; or float,
      added.
    * ``attn_mask`` (L, S) or (N * num_heads, L, S): bool **True = NOT allowed to attend**
      (the opposite of ``F.scaled_dot_product_attention``'s convention, as in torch), or
      float, added to the scores.
    * ``is_causal``: a hint that ``attn_mask`` is the causal mask (torch requires the
      mask too); without a padding mask and with ``need_weights=False`` the causal mask is
      applied directly.
    * weights: (N, L, S) averaged over the heads (``average_attn_weights=True``) or
      (N, num_heads, L, S); None when ``need_weights=False``.
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False, device=None, dtype=None):
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(
                f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and "
                f"num_heads={num_heads} instead"
            )
        super().__init__()
        dtype = factory_dtype(device, dtype)
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise ValueError(f"embed_dim must be divisible by num_heads, got {embed_dim} and {num_heads}")
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(xp.empty((3 * embed_dim, embed_dim), dtype=dtype))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.q_proj_weight = Parameter(xp.empty((embed_dim, embed_dim), dtype=dtype))
            self.k_proj_weight = Parameter(xp.empty((embed_dim, self.kdim), dtype=dtype))
            self.v_proj_weight = Parameter(xp.empty((embed_dim, self.vdim), dtype=dtype))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(xp.empty(3 * embed_dim, dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, dtype=dtype)
        if add_bias_kv:
            self.bias_k = Parameter(xp.empty((1, 1, embed_dim), dtype=dtype))
            self.bias_v = Parameter(xp.empty((1, 1, embed_dim), dtype=dtype))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        """Xavier-uniform projections, zero biases (torch's initialisation)."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        E, H = self.embed_dim, self.num_heads
        key_padding_mask, attn_mask = _as_mask(key_padding_mask), _as_mask(attn_mask)
        batched = query.ndim == 3
        self._check_shapes(query, key, value, key_padding_mask, attn_mask, batched)
        self_attention = query is key and key is value
        shared_kv = key is value
        if batched:
            seq_first = not self.batch_first
        else:  # one sequence: a batch of one, sequence first (keeping which inputs are the same)
            seq_first = True
            q1 = query.unsqueeze(1)
            k1 = q1 if key is query else key.unsqueeze(1)
            value = q1 if value is query else (k1 if value is key else value.unsqueeze(1))
            query, key = q1, k1
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.reshape(1, -1)
        if seq_first:
            L, N = query.shape[0], query.shape[1]
            S = key.shape[0]
        else:
            N, L = query.shape[0], query.shape[1]
            S = key.shape[1]
        dtype = query.dtype

        # ---- masks: additive float biases, broadcasting to (N, H, L, S) ----
        if key_padding_mask is not None:
            if attn_mask is not None and attn_mask.data.dtype != key_padding_mask.data.dtype:
                warnings.warn("Support for mismatched key_padding_mask and attn_mask is deprecated. "
                              "Use same type for both instead.", stacklevel=3)
            if tuple(key_padding_mask.shape) != (N, S):
                raise ValueError(
                    f"MultiheadAttention: key_padding_mask must have shape (N, S) = {(N, S)}, got "
                    f"{tuple(key_padding_mask.shape)}"
                )
        causal = False
        if is_causal and attn_mask is None:
            raise RuntimeError(
                "MultiheadAttention: need attn_mask if specifying the is_causal hint. You may use "
                "generate_square_subsequent_mask(L) to create this mask."
            )
        if is_causal and key_padding_mask is None and not need_weights:
            attn_mask, causal = None, True  # the hint says the mask is causal: apply it directly
        attn_bias = _canonical(attn_mask, dtype, "attn_mask")
        kpm_bias = _canonical(key_padding_mask, dtype, "key_padding_mask")
        if attn_bias is not None:
            if attn_bias.ndim == 2:
                if tuple(attn_bias.shape) != (L, S):
                    raise ValueError(f"MultiheadAttention: the 2D attn_mask has shape {tuple(attn_bias.shape)}, but should be {(L, S)}")
            elif tuple(attn_bias.shape) != (N * H, L, S):
                raise ValueError(
                    f"MultiheadAttention: the 3D attn_mask has shape {tuple(attn_bias.shape)}, but should be "
                    f"(N * num_heads, L, S) = {(N * H, L, S)}"
                )
            else:
                attn_bias = attn_bias.reshape(N, H, L, S)
        if kpm_bias is not None:
            kpm_bias = kpm_bias.reshape(N, 1, 1, S)

        # ---- input projections, on (d0 * d1, features) rows: one GEMM each ----
        w, b = self.in_proj_weight, self.in_proj_bias
        extra_kv = self.bias_k is not None or self.add_zero_attn
        lead_q, lead_k = tuple(query.shape[:2]), tuple(key.shape[:2])
        if self._qkv_same_embed_dim and self_attention and not extra_kv:
            qkv = linear(query.reshape(-1, E), w, b)
            sources, offsets = (qkv, qkv, qkv), (0, E, 2 * E)
        elif self._qkv_same_embed_dim and shared_kv and not extra_kv:
            q = linear(query.reshape(-1, E), w[:E], None if b is None else b[:E])
            kv = linear(key.reshape(-1, E), w[E:], None if b is None else b[E:])
            sources, offsets = (q, kv, kv), (0, 0, E)
        else:
            if self._qkv_same_embed_dim:
                wq, wk, wv = w[:E], w[E:2 * E], w[2 * E:]
            else:
                wq, wk, wv = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
            bq, bk, bv = (None, None, None) if b is None else (b[:E], b[E:2 * E], b[2 * E:])
            q = linear(query.reshape(-1, query.shape[-1]), wq, bq)
            k = linear(key.reshape(-1, key.shape[-1]), wk, bk)
            v = linear(value.reshape(-1, value.shape[-1]), wv, bv)
            if extra_kv:
                k, v = k.reshape(*lead_k, E), v.reshape(*lead_k, E)
                k, v, attn_bias, kpm_bias = self._extend_kv(k, v, attn_bias, kpm_bias, seq_first, N)
                lead_k = tuple(k.shape[:2])
            sources, offsets = (q, k, v), (0, 0, 0)

        if attn_bias is None:
            bias = kpm_bias
        elif kpm_bias is None:
            bias = attn_bias
        else:
            bias = attn_bias + kpm_bias
        dropout_p = self.dropout if self.training else 0.0
        scale = 1.0 / math.sqrt(self.head_dim)

        # ---- attention, then the output projection ----
        if not need_weights:
            out = MultiheadAttentionCore.apply(
                sources[0], sources[1], sources[2], bias, (lead_q, lead_k), offsets, E, H, seq_first, causal,
                scale, float(dropout_p), None,
            )
            weights = None
        else:
            leads = (lead_q, lead_k, lead_k)
            heads = [_split_heads(s.reshape(*lead, s.shape[-1]), o, E, H, seq_first)
                     for s, o, lead in zip(sources, offsets, leads)]
            out_h, weights = scaled_dot_product_attention_reference(
                heads[0], heads[1], heads[2], bias, dropout_p, False, scale, true_means="attend"
            )
            out = _merge_heads(out_h, seq_first).reshape(-1, E)
            weights = weights.mean(1) if average_attn_weights else weights
            if not batched:
                weights = weights.squeeze(0)
        out = linear(out, self.out_proj.weight, self.out_proj.bias).reshape(*lead_q, E)
        if not batched:
            out = out.squeeze(1)
        return out, weights

    def _check_shapes(self, query, key, value, key_padding_mask, attn_mask, batched):
        nd = query.ndim
        if nd not in (2, 3):
            raise ValueError(
                f"MultiheadAttention: query should be unbatched 2D (L, E) or batched 3D tensor but "
                f"received a {nd}-D query of shape {tuple(query.shape)}"
            )
        if key.ndim != nd or value.ndim != nd:
            raise ValueError(
                f"MultiheadAttention: for a {nd}-D query, expected key and value to be {nd}-D but found "
                f"{key.ndim}-D and {value.ndim}-D tensors respectively"
            )
        if key_padding_mask is not None and key_padding_mask.ndim != nd - 1:
            raise ValueError(
                f"MultiheadAttention: for a {nd}-D query, expected key_padding_mask to be None or "
                f"{nd - 1}-D but found a {key_padding_mask.ndim}-D tensor instead"
            )
        if attn_mask is not None and attn_mask.ndim not in (2, 3):
            raise ValueError(
                f"MultiheadAttention: expected attn_mask to be None, 2-D or 3-D but found a "
                f"{attn_mask.ndim}-D tensor instead"
            )
        for name, t, size in (("query", query, self.embed_dim), ("key", key, self.kdim), ("value", value, self.vdim)):
            if t.shape[-1] != size:
                raise ValueError(
                    f"MultiheadAttention: {name} has {t.shape[-1]} features (shape {tuple(t.shape)}), "
                    f"expected {size}" + (" (batch_first=True: (N, L, E))" if self.batch_first else "")
                )
        if tuple(key.shape[:-1]) != tuple(value.shape[:-1]):
            raise ValueError(
                f"MultiheadAttention: key's sequence and batch dims {tuple(key.shape[:-1])} do not match "
                f"value's {tuple(value.shape[:-1])}"
            )
        if batched:
            batch_dim = 0 if self.batch_first else 1
            if key.shape[batch_dim] != query.shape[batch_dim]:
                layout = "(N, L, E)" if self.batch_first else "(L, N, E) (batch_first=False)"
                raise ValueError(
                    f"MultiheadAttention: query {tuple(query.shape)} and key {tuple(key.shape)} have "
                    f"different batch sizes in dim {batch_dim}; the layout is {layout}"
                )

    def _extend_kv(self, k, v, attn_bias, kpm_bias, seq_first, N):
        """Append the learned bias key/value and/or a zero key/value to the sequence, and a
        zero (attend) column to the masks."""
        E = self.embed_dim
        seq_axis = 0 if seq_first else 1
        step = (1, N, E) if seq_first else (N, 1, E)
        extra = 0
        if self.bias_k is not None:
            k = cat([k, self.bias_k.expand(*step)], seq_axis)
            v = cat([v, self.bias_v.expand(*step)], seq_axis)
            extra += 1
        if self.add_zero_attn:
            zeros = Tensor._make(xp.zeros(step, dtype=k.dtype))
            k = cat([k, zeros], seq_axis)
            v = cat([v, zeros], seq_axis)
            extra += 1
        if attn_bias is not None:
            attn_bias = pad(attn_bias, (0, extra))
        if kpm_bias is not None:
            kpm_bias = pad(kpm_bias, (0, extra))
        return k, v, attn_bias, kpm_bias


def _as_mask(mask):
    if mask is None or isinstance(mask, Tensor):
        return mask
    return Tensor(mask)


def _canonical(mask, dtype, name):
    """A MultiheadAttention mask as an additive float Tensor (bool True = masked out)."""
    if mask is None:
        return None
    if mask.data.dtype.kind not in "bf":
        raise TypeError(f"MultiheadAttention: only bool and floating {name} are supported, got {mask.dtype}")
    return mask_to_bias(mask, dtype, "ignore")


def _split_heads(t, offset, E, H, seq_first):
    """(N, H, L, D) from t[..., offset:offset + E] in (N, L, .) or (L, N, .) layout."""
    if offset or t.shape[-1] != E:
        t = t[..., offset:offset + E]
    d0, d1 = t.shape[0], t.shape[1]
    t = t.reshape(d0, d1, H, E // H)
    return t.permute(1, 2, 0, 3) if seq_first else t.permute(0, 2, 1, 3)


def _merge_heads(t, seq_first):
    """(N, H, L, D) -> (N, L, H * D), or (L, N, H * D) with ``seq_first``."""
    N, H, L, D = t.shape
    if seq_first:
        return t.permute(2, 0, 1, 3).reshape(L, N, H * D)
    return t.permute(0, 2, 1, 3).reshape(N, L, H * D)
