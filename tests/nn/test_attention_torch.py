"""F.scaled_dot_product_attention and nn.MultiheadAttention against PyTorch, in float64:
the same inputs and weights (torch's state dict loaded as it is), the same output and
the same gradients for inputs and parameters."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import deepprimer as dp  # noqa: E402
from deepprimer.nn.attention import MultiheadAttention  # noqa: E402
from deepprimer.ops.attention import scaled_dot_product_attention as dp_sdpa  # noqa: E402

pytestmark = pytest.mark.torch

RTOL, ATOL = 1e-7, 1e-10


def pair(array, grad=True):
    return dp.tensor(array, requires_grad=grad), torch.tensor(array, requires_grad=grad)


def close(actual, expected, what):
    expected = expected.detach().numpy()
    assert tuple(actual.shape) == tuple(expected.shape), f"{what}: shape {tuple(actual.shape)} vs {expected.shape}"
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL, err_msg=what)


def backward_both(d_out, t_out, seed=0):
    g = np.random.default_rng(seed).standard_normal(tuple(t_out.shape))
    d_out.backward(dp.tensor(g))
    t_out.backward(torch.tensor(g))


# ---- scaled_dot_product_attention --------------------------------------------------------


@pytest.mark.parametrize("case", ["plain", "bool", "float", "causal", "causal_rect", "scale", "broadcast", "3d",
                                  "fully_masked", "learned_bias"])
def test_sdpa_matches_torch(rng, case):
    L, S = (3, 5) if case in ("causal_rect", "bool", "fully_masked") else (4, 4)
    shape_q, shape_k = (2, 3, L, 8), (2, 3, S, 8)
    if case == "3d":
        shape_q, shape_k = (3, L, 8), (3, S, 8)
    (dq, tq), (dk, tk), (dv, tv) = (pair(rng.standard_normal(s)) for s in (shape_q, shape_k, shape_k[:-1] + (6,)))
    dkw, tkw, mask_pair = {}, {}, None
    if case == "bool" or case == "fully_masked":
        m = rng.random((L, S)) < 0.6
        m[:, 0] = True
        if case == "fully_masked":
            m[1] = False
        dkw["attn_mask"], tkw["attn_mask"] = dp.tensor(m), torch.tensor(m)
    elif case == "float":
        m = rng.standard_normal((2, 3, L, S))
        dkw["attn_mask"], tkw["attn_mask"] = dp.tensor(m), torch.tensor(m)
    elif case == "learned_bias":
        mask_pair = pair(rng.standard_normal((L, S)))
        dkw["attn_mask"], tkw["attn_mask"] = mask_pair
    elif case in ("causal", "causal_rect"):
        dkw["is_causal"] = tkw["is_causal"] = True
    elif case == "scale":
        dkw["scale"] = tkw["scale"] = 0.25
    elif case == "broadcast":
        m = rng.random((2, 1, 1, S)) < 0.7
        m[..., 0] = True
        dkw["attn_mask"], tkw["attn_mask"] = dp.tensor(m), torch.tensor(m)
    d_out = dp_sdpa(dq, dk, dv, **dkw)
    t_out = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, **tkw)
    close(d_out.data, t_out, "output")
    backward_both(d_out, t_out)
    for name, d, t in (("query", dq, tq), ("key", dk, tk), ("value", dv, tv)):
        close(d.grad.data, t.grad, f"gradient of {name}")
    if mask_pair is not None:
        close(mask_pair[0].grad.data, mask_pair[1].grad, "gradient of the learned bias")


def test_sdpa_gqa_matches_torch(rng):
    (dq, tq), (dk, tk), (dv, tv) = (pair(rng.standard_normal(s)) for s in ((2, 4, 3, 4), (2, 2, 5, 4), (2, 2, 5, 4)))
    d_out = dp_sdpa(dq, dk, dv, enable_gqa=True)
    t_out = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, enable_gqa=True)
    close(d_out.data, t_out, "output")
    backward_both(d_out, t_out)
    close(dk.grad.data, tk.grad, "gradient of key")


# ---- MultiheadAttention --------------------------------------------------------------------


def make_pair(embed=8, heads=2, seed=0, **kwargs):
    torch.manual_seed(seed)
    t_mha = torch.nn.MultiheadAttention(embed, heads, **kwargs).double()
    with torch.no_grad():  # nonzero biases, so that they are tested too
        for name, p in t_mha.named_parameters():
            if "bias" in name:
                p.normal_()
    d_mha = MultiheadAttention(embed, heads, dtype=dp.float64, **kwargs)
    d_mha.load_state_dict(t_mha.state_dict())
    return d_mha, t_mha


def compare_mha(d_mha, t_mha, arrays, same, kwargs_d, kwargs_t=None, seed=0):
    """arrays: query, key, value arrays; same: 'qkv' (self-attention), 'kv' or ''."""
    kwargs_t = kwargs_d if kwargs_t is None else kwargs_t
    dq, tq = pair(arrays[0])
    if same == "qkv":
        (dk, tk), (dv, tv) = (dq, tq), (dq, tq)
    elif same == "kv":
        dk, tk = pair(arrays[1])
        dv, tv = dk, tk
    else:
        (dk, tk), (dv, tv) = pair(arrays[1]), pair(arrays[2])
    d_out, d_w = d_mha(dq, dk, dv, **kwargs_d)
    t_out, t_w = t_mha(tq, tk, tv, **kwargs_t)
    close(d_out.data, t_out, "output")
    if t_w is None:
        assert d_w is None
    else:
        close(d_w.data, t_w, "attention weights")
    backward_both(d_out, t_out, seed)
    for name, d, t in (("query", dq, tq), ("key", dk, tk), ("value", dv, tv)):
        close(d.grad.data, t.grad, f"gradient of {name}")
    t_params = dict(t_mha.named_parameters())
    for name, p in d_mha.named_parameters():
        close(p.grad.data, t_params[name].grad, f"gradient of {name}")


def layout(rng, batch_first, N, L, E):
    return rng.standard_normal((N, L, E) if batch_first else (L, N, E))


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("need_weights", [False, True])
@pytest.mark.parametrize("same", ["qkv", "kv", ""])
def test_mha_matches_torch(rng, batch_first, need_weights, same):
    d_mha, t_mha = make_pair(batch_first=batch_first)
    arrays = [layout(rng, batch_first, 3, 4, 8), layout(rng, batch_first, 3, 5, 8), layout(rng, batch_first, 3, 5, 8)]
    compare_mha(d_mha, t_mha, arrays, same, {"need_weights": need_weights})


@pytest.mark.parametrize("need_weights", [False, True])
@pytest.mark.parametrize("masks", ["kpm", "attn2d", "attn3d", "both", "float_both", "causal_hint"])
def test_mha_masks_match_torch(rng, need_weights, masks):
    N, L, H = 2, 5, 2
    d_mha, t_mha = make_pair(heads=H, batch_first=True)
    kpm = np.zeros((N, L), dtype=bool)
    kpm[0, -2:] = True
    causal = np.triu(np.ones((L, L), dtype=bool), 1)
    m3 = rng.random((N * H, L, L)) < 0.3
    m3[..., 0] = False
    kw = {"need_weights": need_weights}
    if masks == "kpm":
        mask_kw = {"key_padding_mask": kpm}
    elif masks == "attn2d":
        mask_kw = {"attn_mask": causal}
    elif masks == "attn3d":
        mask_kw = {"attn_mask": m3}
    elif masks == "both":
        mask_kw = {"attn_mask": causal, "key_padding_mask": kpm}
    elif masks == "float_both":
        mask_kw = {"attn_mask": rng.standard_normal((L, L)), "key_padding_mask": rng.standard_normal((N, L))}
    else:
        mask_kw = {"attn_mask": causal, "is_causal": True}
    kd = dict(kw, **{k: (dp.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in mask_kw.items()})
    kt = dict(kw, **{k: (torch.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in mask_kw.items()})
    compare_mha(d_mha, t_mha, [layout(rng, True, N, L, 8)], "qkv", kd, kt)


def test_mha_per_head_weights_and_unbatched_match_torch(rng):
    d_mha, t_mha = make_pair()
    compare_mha(d_mha, t_mha, [rng.standard_normal((4, 8))], "qkv", {"average_attn_weights": False})
    kpm = np.array([False, False, True, False])
    compare_mha(d_mha, t_mha, [rng.standard_normal((3, 8)), rng.standard_normal((4, 8))], "kv",
                {"key_padding_mask": dp.tensor(kpm)}, {"key_padding_mask": torch.tensor(kpm)})


@pytest.mark.parametrize("need_weights", [False, True])
def test_mha_options_match_torch(rng, need_weights):
    d_mha, t_mha = make_pair(kdim=6, vdim=5, add_bias_kv=True, add_zero_attn=True, batch_first=True)
    kpm = np.zeros((2, 4), dtype=bool)
    kpm[1, 0] = True
    arrays = [rng.standard_normal((2, 3, 8)), rng.standard_normal((2, 4, 6)), rng.standard_normal((2, 4, 5))]
    compare_mha(d_mha, t_mha, arrays, "", {"need_weights": need_weights, "key_padding_mask": dp.tensor(kpm)},
                {"need_weights": need_weights, "key_padding_mask": torch.tensor(kpm)})


@pytest.mark.parametrize("need_weights", [False, True])
def test_mha_without_bias_matches_torch(rng, need_weights):
    d_mha, t_mha = make_pair(bias=False)
    compare_mha(d_mha, t_mha, [layout(rng, False, 2, 4, 8)], "qkv", {"need_weights": need_weights})


def test_mha_state_dict_keys_match_torch():
    for kwargs in ({}, {"kdim": 6, "vdim": 5, "add_bias_kv": True}, {"bias": False}):
        t_keys = list(torch.nn.MultiheadAttention(8, 2, **kwargs).state_dict())
        d_keys = list(MultiheadAttention(8, 2, **kwargs).state_dict())
        assert sorted(d_keys) == sorted(t_keys)
