"""Scaled dot-product attention composed of primitive ops: the readable reference.

This is the formula of "Attention Is All You Need" (Vaswani et al., 2017) written with
the ops a learner already knows, and autograd derives its gradient:

    weights = softmax(Q K^T * scale + mask)     (one row of weights per query)
    output  = dropout(weights) V

The fused kernel in ``ops/attention.py`` computes the same thing with a hand-written
backward and is tested against this one. ``nn.MultiheadAttention`` uses this
composition when it is asked for the attention weights (``need_weights=True``), because
then the weights are an output that gradients may flow through, as in PyTorch.

One difference from the fused kernel: a query whose keys are *all* masked gets NaN
weights here (softmax of a row of -inf), as PyTorch's ``MultiheadAttention`` returns with
``need_weights=True``; the fused kernel returns zeros there, as PyTorch's
``scaled_dot_product_attention`` does.
"""
import math

from ..tensor import Tensor
from .attention import causal_bias, mask_to_bias
from .linalg import matmul
from .nn_ops import dropout, softmax


def attention_weights(query, key, attn_mask=None, is_causal=False, scale=None, true_means="attend"):
    """softmax(Q K^T * scale + mask) over the keys: shape (..., L, S).

    ``attn_mask``: bool (``true_means="attend"``: True = may attend, torch's SDPA
    convention; ``"ignore"``: True = masked out, torch's MultiheadAttention convention)
    or float (added to the scores)."""
    if scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1])
    scores = matmul(query * scale, key.transpose(-2, -1))
    bias = mask_to_bias(attn_mask, query.dtype, true_means)
    if bias is not None:
        scores = scores + bias
    if is_causal:
        scores = scores + Tensor._make(causal_bias(scores.shape[-2], scores.shape[-1], query.dtype))
    return softmax(scores, -1)


def scaled_dot_product_attention_reference(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False,
                                           scale=None, generator=None, true_means="attend"):
    """(output, weights) of scaled dot-product attention, from primitive ops.

    The same arguments as :func:`deepprimer.nn.functional.scaled_dot_product_attention`;
    the weights returned are the ones multiplied with ``value`` (after dropout)."""
    if is_causal and attn_mask is not None:
        raise RuntimeError("scaled_dot_product_attention: give attn_mask or is_causal=True, not both")
    weights = attention_weights(query, key, attn_mask, is_causal, scale, true_means)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, True, generator=generator)
    return matmul(weights, value), weights
