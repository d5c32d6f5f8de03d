"""Scaled dot-product attention (fused kernel vs its composition of primitives, gradcheck,
masks, causality, dropout) and nn.MultiheadAttention (shapes for every option, its fused
path against its composed path)."""
import numpy as np
import pytest

import deepprimer as dp
from deepprimer.autograd import gradcheck
from deepprimer.nn.attention import MultiheadAttention
from deepprimer.ops.attention import scaled_dot_product_attention as sdpa
from deepprimer.ops.attention_reference import (
    scaled_dot_product_attention_reference as sdpa_ref,
)


def t64(rng, *shape, grad=True):
    return dp.tensor(rng.standard_normal(shape), dtype=dp.float64, requires_grad=grad)


def grads_of(fn, inputs, seed=0):
    """Forward value and the gradient of every input, under a fixed random output gradient."""
    for t in inputs:
        t.grad = None
    out = fn()
    g = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(dp.tensor(g, dtype=out.dtype))
    return out.data.copy(), [None if t.grad is None else t.grad.data.copy() for t in inputs]


def assert_same(fn_a, fn_b, inputs, rtol=1e-10, atol=1e-12):
    out_a, g_a = grads_of(fn_a, inputs)
    out_b, g_b = grads_of(fn_b, inputs)
    np.testing.assert_allclose(out_a, out_b, rtol=rtol, atol=atol)
    for i, (a, b) in enumerate(zip(g_a, g_b)):
        assert (a is None) == (b is None), f"input {i}"
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"gradient of input {i}")


# ---- fused kernel against the reference composition -------------------------------------

MASKS = ["none", "bool", "float", "causal", "broadcast_bool"]


@pytest.mark.parametrize("mask", MASKS)
@pytest.mark.parametrize("L,S", [(5, 5), (3, 6), (6, 4)])
def test_fused_matches_reference(rng, mask, L, S):
    q, k, v = t64(rng, 2, 3, L, 4), t64(rng, 2, 3, S, 4), t64(rng, 2, 3, S, 5)
    kwargs = {}
    if mask == "bool":
        m = rng.random((L, S)) < 0.7
        m[:, 0] = True  # no row entirely masked (the reference gives NaN there)
        kwargs["attn_mask"] = dp.tensor(m)
    elif mask == "float":
        kwargs["attn_mask"] = t64(rng, 2, 3, L, S, grad=False)
    elif mask == "causal":
        kwargs["is_causal"] = True
    elif mask == "broadcast_bool":
        m = rng.random((2, 1, 1, S)) < 0.6
        m[..., 0] = True
        kwargs["attn_mask"] = dp.tensor(m)
    assert_same(lambda: sdpa(q, k, v, **kwargs), lambda: sdpa_ref(q, k, v, **kwargs)[0], [q, k, v])


def test_fused_matches_reference_with_scale_and_learned_bias(rng):
    q, k, v = t64(rng, 2, 4, 3), t64(rng, 2, 5, 3), t64(rng, 2, 5, 2)
    bias = t64(rng, 4, 5)  # a learned additive bias (ALiBi-style) gets a gradient too
    assert_same(lambda: sdpa(q, k, v, attn_mask=bias, scale=0.3),
                lambda: sdpa_ref(q, k, v, attn_mask=bias, scale=0.3)[0], [q, k, v, bias])


def test_fused_matches_reference_with_dropout(rng):
    q, k, v = t64(rng, 2, 2, 6, 4), t64(rng, 2, 2, 6, 4), t64(rng, 2, 2, 6, 4)
    # both draw the dropout mask from the same seeded generator with the same shape
    assert_same(lambda: sdpa(q, k, v, dropout_p=0.3, generator=dp.Generator(7)),
                lambda: sdpa_ref(q, k, v, dropout_p=0.3, generator=dp.Generator(7))[0], [q, k, v])


def test_broadcast_batch_dims_sum_gradients(rng):
    q, k, v = t64(rng, 2, 3, 4, 4), t64(rng, 4, 4), t64(rng, 1, 3, 4, 4)
    assert_same(lambda: sdpa(q, k, v), lambda: sdpa_ref(q, k, v)[0], [q, k, v])
    assert k.grad.shape == (4, 4) and v.grad.shape == (1, 3, 4, 4)


# ---- gradcheck (finite differences) ------------------------------------------------------


@pytest.mark.parametrize("kwargs", [{}, {"is_causal": True}, {"scale": 0.7}, {"mask": True}])
def test_gradcheck_sdpa(rng, kwargs):
    q, k, v = t64(rng, 2, 3, 2), t64(rng, 2, 4, 2), t64(rng, 2, 4, 3)
    if kwargs.pop("mask", False):
        kwargs["attn_mask"] = t64(rng, 3, 4)
        assert gradcheck(lambda q, k, v, m: sdpa(q, k, v, attn_mask=m), (q, k, v, kwargs["attn_mask"]))
    else:
        assert gradcheck(lambda q, k, v: sdpa(q, k, v, **kwargs), (q, k, v))


def test_gradcheck_sdpa_dropout_fixed_mask(rng):
    q, k, v = t64(rng, 1, 3, 2), t64(rng, 1, 3, 2), t64(rng, 1, 3, 2)
    # a fresh generator with the same seed each call: the same dropout mask every evaluation
    assert gradcheck(lambda q, k, v: sdpa(q, k, v, dropout_p=0.4, generator=dp.Generator(3)), (q, k, v))


@pytest.mark.parametrize("need_weights", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_gradcheck_multihead_attention(rng, need_weights, batch_first):
    mha = MultiheadAttention(4, 2, batch_first=batch_first, dtype=dp.float64)
    x = t64(rng, 2, 3, 4) if batch_first else t64(rng, 3, 2, 4)  # N=2, L=3
    mem = t64(rng, 2, 2, 4)  # N=2, S=2 either way
    mask = dp.tensor(np.triu(np.ones((3, 3), dtype=bool), 1))
    assert gradcheck(lambda x: mha(x, x, x, attn_mask=mask, need_weights=need_weights)[0], (x,))
    assert gradcheck(lambda x, m: mha(x, m, m, need_weights=need_weights)[0], (x, mem))
    params = (mha.in_proj_weight, mha.in_proj_bias)
    assert gradcheck(lambda w, b: mha(x, x, x, need_weights=need_weights)[0], params)


# ---- masks and causality -------------------------------------------------------------------


def test_causal_hides_the_future(rng):
    L = 6
    x = t64(rng, 2, L, 4)
    for t in range(L - 1):
        (g,) = dp.autograd.grad(sdpa(x, x, x, is_causal=True)[:, t].sum(), x)
        assert np.all(g.data[:, t + 1:] == 0), f"output {t} depends on a later input"
        assert np.all(np.abs(g.data[:, : t + 1]).sum(-1) > 0)


def test_bool_mask_true_means_attend(rng):
    q, k, v = t64(rng, 3, 4), t64(rng, 5, 4), t64(rng, 5, 2)
    allowed = np.zeros((3, 5), dtype=bool)
    allowed[:, 1] = True  # each query may attend to key 1 only
    out = sdpa(q, k, v, attn_mask=dp.tensor(allowed))
    np.testing.assert_allclose(out.data, np.broadcast_to(v.data[1], (3, 2)), rtol=1e-12)


def test_fully_masked_rows_give_zero_output_and_gradient(rng):
    q, k, v = t64(rng, 3, 4), t64(rng, 5, 4), t64(rng, 5, 2)
    allowed = np.ones((3, 5), dtype=bool)
    allowed[1] = False
    out = sdpa(q, k, v, attn_mask=dp.tensor(allowed))
    assert np.all(out.data[1] == 0) and np.all(np.isfinite(out.data))
    out.sum().backward()
    assert np.all(q.grad.data[1] == 0) and np.all(np.isfinite(k.grad.data))


def test_causal_with_more_keys_than_queries_is_top_left_aligned(rng):
    q, k, v = t64(rng, 2, 3), t64(rng, 4, 3), t64(rng, 4, 3)
    tril = dp.tensor(np.tril(np.ones((2, 4), dtype=bool)))
    np.testing.assert_allclose(sdpa(q, k, v, is_causal=True).data, sdpa(q, k, v, attn_mask=tril).data, rtol=1e-12)


def test_float32_stays_float32(rng):
    q = dp.randn(2, 5, 8)
    out = sdpa(q, q, q, attn_mask=dp.zeros(5, 5), is_causal=False, dropout_p=0.1)
    assert out.dtype == dp.float32


def test_dropout_is_seeded_and_scales(rng):
    q = dp.randn(4, 8, 8)
    v = dp.ones(4, 8, 8)
    dp.manual_seed(1)
    a = sdpa(q, q, v, dropout_p=0.5)
    dp.manual_seed(1)
    b = sdpa(q, q, v, dropout_p=0.5)
    np.testing.assert_array_equal(a.data, b.data)
    # with all-ones values the output is the sum of the surviving weights: mean 1
    assert abs(float(a.data.mean()) - 1.0) < 0.15
    assert not np.allclose(a.data, 1.0)
    assert np.allclose(sdpa(q, q, v, dropout_p=0.0).data, 1.0)


def test_dropout_one_drops_everything(rng):
    q = t64(rng, 2, 3, 4)
    out = sdpa(q, q, q, dropout_p=1.0)
    assert np.all(out.data == 0)
    out.sum().backward()
    assert np.all(q.grad.data == 0)


def test_float64_mask_keeps_float32_scores():
    q = dp.randn(2, 3, 4)
    assert sdpa(q, q, q, attn_mask=dp.zeros(3, 3, dtype=dp.float64)).dtype == dp.float32
    mha = MultiheadAttention(4, 2)
    out, w = mha(q, q, q, attn_mask=dp.zeros(2, 2, dtype=dp.float64))
    assert out.dtype == dp.float32 and w.dtype == dp.float32


def test_gqa_shares_key_value_heads(rng):
    q, k, v = t64(rng, 1, 4, 3, 2), t64(rng, 1, 2, 5, 2), t64(rng, 1, 2, 5, 2)
    out = sdpa(q, k, v, enable_gqa=True)
    k_rep = np.repeat(k.data, 2, axis=1)
    v_rep = np.repeat(v.data, 2, axis=1)
    ref = sdpa(q.detach(), dp.tensor(k_rep), dp.tensor(v_rep))
    np.testing.assert_allclose(out.data, ref.data, rtol=1e-12)
    out.sum().backward()
    assert k.grad.shape == (1, 2, 5, 2)


@pytest.mark.parametrize("call, match", [
    (lambda q: sdpa(q, q, q, attn_mask=dp.ones(3, 3, dtype=dp.bool), is_causal=True), "not both"),
    (lambda q: sdpa(q, q[..., :2], q), "last dim"),
    (lambda q: sdpa(q, q, q[:, :2]), "sequence length"),
    (lambda q: sdpa(q, q, q, attn_mask=dp.ones(4, 4)), "broadcast"),
    (lambda q: sdpa(q, q, q, attn_mask=dp.ones(3, 3, dtype=dp.int64)), "bool or floating"),
    (lambda q: sdpa(q, q.double(), q), "dtype"),
])
def test_clear_errors(call, match):
    with pytest.raises((ValueError, TypeError, RuntimeError), match=match):
        call(dp.randn(2, 3, 4))


# ---- MultiheadAttention: shapes for every option ----------------------------------------


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("need_weights, average, wshape", [
    (True, True, (2, 3, 5)), (True, False, (2, 4, 3, 5)), (False, True, None),
])
def test_mha_shapes(batch_first, need_weights, average, wshape):
    mha = MultiheadAttention(8, 4, batch_first=batch_first)
    q = dp.randn(2, 3, 8) if batch_first else dp.randn(3, 2, 8)
    kv = dp.randn(2, 5, 8) if batch_first else dp.randn(5, 2, 8)
    out, w = mha(q, kv, kv, need_weights=need_weights, average_attn_weights=average)
    assert out.shape == q.shape
    assert (w is None) if wshape is None else (w.shape == wshape)
    if w is not None:
        np.testing.assert_allclose(w.data.sum(-1), 1.0, rtol=1e-5)


def test_mha_unbatched():
    mha = MultiheadAttention(8, 2)
    x = dp.randn(3, 8)
    out, w = mha(x, x, x, key_padding_mask=dp.tensor([False, False, True]))
    assert out.shape == (3, 8) and w.shape == (3, 3)
    assert np.all(w.data[:, 2] == 0)
    out, w = mha(x, x, x, attn_mask=dp.zeros(2, 3, 3), average_attn_weights=False)
    assert w.shape == (2, 3, 3)


def test_mha_kdim_vdim_bias_options():
    mha = MultiheadAttention(8, 2, kdim=6, vdim=5, bias=False, add_bias_kv=True, add_zero_attn=True,
                             batch_first=True)
    names = dict(mha.named_parameters())
    assert set(names) == {"q_proj_weight", "k_proj_weight", "v_proj_weight", "out_proj.weight", "bias_k", "bias_v"}
    assert names["k_proj_weight"].shape == (8, 6) and names["v_proj_weight"].shape == (8, 5)
    q, k, v = dp.randn(2, 3, 8), dp.randn(2, 4, 6), dp.randn(2, 4, 5)
    kpm = dp.tensor([[False, False, False, True]] * 2)
    for nw in (False, True):
        out, w = mha(q, k, v, key_padding_mask=kpm, need_weights=nw)
        assert out.shape == (2, 3, 8)
    assert w.shape == (2, 3, 6)  # 4 keys + the bias key + the zero key


def test_mha_parameters_and_init_follow_torch():
    mha = MultiheadAttention(16, 4)
    assert [n for n, _ in mha.named_parameters()] == ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
    assert mha.in_proj_weight.shape == (48, 16)
    assert np.all(mha.in_proj_bias.data == 0) and np.all(mha.out_proj.bias.data == 0)
    bound = np.sqrt(6.0 / (48 + 16))  # xavier_uniform_ on the packed (3E, E) matrix
    assert np.abs(mha.in_proj_weight.data).max() <= bound
    assert not mha.batch_first and mha.head_dim == 4


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("case", ["self", "cross", "kpm", "mask3d", "float_masks", "extras"])
def test_mha_fused_path_matches_composed_path(rng, batch_first, case):
    """need_weights=False (fused kernel) and need_weights=True (composition) agree."""
    kw = {"add_bias_kv": True, "add_zero_attn": True} if case == "extras" else {}
    mha = MultiheadAttention(8, 2, batch_first=batch_first, dtype=dp.float64, **kw)
    N, L, S = 2, 4, 5
    shape = (lambda n, length: (n, length, 8)) if batch_first else (lambda n, length: (length, n, 8))
    x = t64(rng, *shape(N, L))
    mem = t64(rng, *shape(N, S))
    args, kwargs = (x, x, x), {}
    if case == "cross":
        args = (x, mem, mem)
    elif case == "kpm":
        kpm = np.zeros((N, L), dtype=bool)
        kpm[0, -1] = kpm[1, -2:] = True  # every query keeps a key (else the composed path gives NaN)
        kwargs = {"key_padding_mask": dp.tensor(kpm), "attn_mask": dp.tensor(np.triu(np.ones((L, L), bool), 1))}
    elif case == "mask3d":
        m = rng.random((N * 2, L, L)) < 0.4
        m[..., 0] = False
        kwargs = {"attn_mask": dp.tensor(m)}
    elif case == "float_masks":
        kwargs = {"attn_mask": t64(rng, L, L, grad=False), "key_padding_mask": t64(rng, N, L, grad=False)}
    elif case == "extras":
        args = (x, mem, mem)
    params = [x, mem, mha.in_proj_weight, mha.out_proj.weight]
    assert_same(lambda: mha(*args, need_weights=False, **kwargs)[0],
                lambda: mha(*args, need_weights=True, **kwargs)[0], params)


def test_mha_is_causal_hint_needs_a_mask():
    mha = MultiheadAttention(8, 2)
    x = dp.randn(4, 2, 8)
    with pytest.raises(RuntimeError, match="is_causal"):
        mha(x, x, x, is_causal=True)
    mask = dp.tensor(np.triu(np.ones((4, 4), bool), 1))
    a = mha(x, x, x, attn_mask=mask, is_causal=True, need_weights=False)[0]
    b = mha(x, x, x, attn_mask=mask, need_weights=False)[0]
    np.testing.assert_allclose(a.data, b.data, rtol=1e-5, atol=1e-6)


def test_mha_causal_mask_hides_the_future(rng):
    mha = MultiheadAttention(4, 2, batch_first=True, dtype=dp.float64)
    x = t64(rng, 2, 5, 4)
    mask = dp.tensor(np.triu(np.ones((5, 5), bool), 1))  # True = not allowed (MHA convention)
    for nw in (False, True):
        for t in range(4):
            out = mha(x, x, x, attn_mask=mask, need_weights=nw, is_causal=not nw)[0]
            (g,) = dp.autograd.grad(out[:, t].sum(), x)
            assert np.all(g.data[:, t + 1:] == 0)


def test_mha_dropout_only_in_training():
    mha = MultiheadAttention(8, 2, dropout=0.5, batch_first=True)
    x = dp.randn(2, 6, 8)
    mha.eval()
    a = mha(x, x, x, need_weights=False)[0]
    b = mha(x, x, x, need_weights=False)[0]
    np.testing.assert_array_equal(a.data, b.data)
    mha.train()
    c = mha(x, x, x, need_weights=False)[0]
    assert not np.allclose(a.data, c.data)


@pytest.mark.parametrize("call, match", [
    (lambda m: m(dp.randn(3, 2, 6), dp.randn(3, 2, 6), dp.randn(3, 2, 6)), "features"),
    (lambda m: m(dp.randn(3, 2, 8), dp.randn(3, 8), dp.randn(3, 8)), "3-D"),
    (lambda m: m(dp.randn(3, 2, 8), dp.randn(3, 3, 8), dp.randn(3, 3, 8)), "batch"),
    (lambda m: m(dp.randn(3, 2, 8), dp.randn(4, 2, 8), dp.randn(4, 2, 8), attn_mask=dp.zeros(3, 3)), "attn_mask"),
    (lambda m: m(dp.randn(3, 2, 8), dp.randn(4, 2, 8), dp.randn(4, 2, 8), key_padding_mask=dp.zeros(2, 3)),
     "key_padding_mask"),
])
def test_mha_clear_errors(call, match):
    with pytest.raises((ValueError, RuntimeError), match=match):
        call(MultiheadAttention(8, 2))


def test_mha_rejects_indivisible_heads():
    with pytest.raises(ValueError, match="divisible"):
        MultiheadAttention(10, 3)
