"""Transformer layers against PyTorch in float64: torch's state dict loads as it is, and
the outputs and every gradient (input and parameters) agree. Dropout 0 (or eval mode)."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import deepprimer as dp  # noqa: E402
from deepprimer import nn  # noqa: E402
from deepprimer.nn import functional as F  # noqa: E402
from deepprimer.nn.transformer import (  # noqa: E402
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
    generate_square_subsequent_mask,
)

pytestmark = pytest.mark.torch

RTOL, ATOL = 1e-7, 1e-10


def load_from(d_module, t_module):
    """Copy torch's weights in (with random LayerNorm affine, so those are tested too)."""
    t_module.double()
    with torch.no_grad():
        for name, p in t_module.named_parameters():
            if "norm" in name or name.endswith("bias"):
                p.copy_(torch.randn_like(p) * 0.5 + (1.0 if name.endswith("weight") else 0.0))
    d_module.load_state_dict(t_module.state_dict())
    assert list(d_module.state_dict()) == list(t_module.state_dict())


def close(actual, expected, what):
    np.testing.assert_allclose(actual, expected.detach().numpy(), rtol=RTOL, atol=ATOL, err_msg=what)


def run_both(d_module, t_module, arrays, d_kwargs=None, t_kwargs=None, seed=0):
    d_in = [dp.tensor(a, requires_grad=True) for a in arrays]
    t_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    d_out = d_module(*d_in, **(d_kwargs or {}))
    t_out = t_module(*t_in, **(t_kwargs or {}))
    close(d_out.data, t_out, "output")
    g = np.random.default_rng(seed).standard_normal(tuple(t_out.shape))
    d_out.backward(dp.tensor(g))
    t_out.backward(torch.tensor(g))
    for i, (d, t) in enumerate(zip(d_in, t_in)):
        close(d.grad.data, t.grad, f"gradient of input {i}")
    t_params = dict(t_module.named_parameters())
    for name, p in d_module.named_parameters():
        close(p.grad.data, t_params[name].grad, f"gradient of {name}")


def masks_for(kind, L, N, batch_first_unused=None):
    """(deepprimer kwargs, torch kwargs) for the encoder-layer forward."""
    if kind == "none":
        return {}, {}
    causal = np.triu(np.full((L, L), -np.inf), 1)
    kpm = np.zeros((N, L), dtype=bool)
    kpm[0, -1] = True
    if kind == "causal":
        return ({"src_mask": dp.tensor(causal), "is_causal": True},
                {"src_mask": torch.tensor(causal), "is_causal": True})
    if kind == "kpm":
        return {"src_key_padding_mask": dp.tensor(kpm)}, {"src_key_padding_mask": torch.tensor(kpm)}
    both_d = {"src_mask": dp.tensor(causal), "src_key_padding_mask": dp.tensor(np.where(kpm, -np.inf, 0.0))}
    both_t = {"src_mask": torch.tensor(causal), "src_key_padding_mask": torch.tensor(np.where(kpm, -np.inf, 0.0))}
    return both_d, both_t


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("masks", ["none", "causal", "kpm", "both"])
def test_encoder_layer_matches_torch(rng, batch_first, norm_first, activation, masks):
    kw = {"dim_feedforward": 12, "dropout": 0.0, "activation": activation, "batch_first": batch_first, "norm_first": norm_first}
    t_layer = torch.nn.TransformerEncoderLayer(8, 2, **kw)
    d_layer = TransformerEncoderLayer(8, 2, dtype=dp.float64, **kw)
    load_from(d_layer, t_layer)
    N, L = 2, 4
    x = rng.standard_normal((N, L, 8) if batch_first else (L, N, 8))
    d_kw, t_kw = masks_for(masks, L, N)
    run_both(d_layer, t_layer, [x], d_kw, t_kw)


def test_encoder_layer_options_match_torch(rng):
    """bias=False, layer_norm_eps, a callable activation, unbatched input."""
    kw = {"dim_feedforward": 10, "dropout": 0.0, "layer_norm_eps": 1e-3, "bias": False}
    t_layer = torch.nn.TransformerEncoderLayer(8, 4, activation=torch.tanh, **kw)
    d_layer = TransformerEncoderLayer(8, 4, activation=F.tanh, dtype=dp.float64, **kw)
    load_from(d_layer, t_layer)
    run_both(d_layer, t_layer, [rng.standard_normal((5, 8))])


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_stack_matches_torch(rng, norm_first):
    """TransformerEncoder (norm_first and a final norm), causal mask and padding mask."""
    kw = {"dim_feedforward": 16, "dropout": 0.0, "batch_first": True, "norm_first": norm_first}
    t_enc = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 2, **kw), 2,
                                        norm=torch.nn.LayerNorm(8), enable_nested_tensor=False)
    d_enc = TransformerEncoder(TransformerEncoderLayer(8, 2, dtype=dp.float64, **kw), 2,
                               norm=nn.LayerNorm(8, dtype=dp.float64))
    load_from(d_enc, t_enc)
    kpm = np.zeros((3, 5))
    kpm[1, 3:] = -np.inf  # a float padding mask, the same type as the float causal mask
    mask = generate_square_subsequent_mask(5, dtype=dp.float64)
    t_mask = torch.nn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64)
    np.testing.assert_array_equal(mask.data, t_mask.numpy())
    run_both(d_enc, t_enc, [rng.standard_normal((3, 5, 8))],
             {"mask": mask, "src_key_padding_mask": dp.tensor(kpm)},
             {"mask": t_mask, "src_key_padding_mask": torch.tensor(kpm)})
    run_both(d_enc, t_enc, [rng.standard_normal((3, 5, 8))], {"mask": mask}, {"mask": t_mask})


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer_matches_torch(rng, batch_first, norm_first):
    kw = {"dim_feedforward": 12, "dropout": 0.0, "batch_first": batch_first, "norm_first": norm_first, "activation": "gelu"}
    t_layer = torch.nn.TransformerDecoderLayer(8, 2, **kw)
    d_layer = TransformerDecoderLayer(8, 2, dtype=dp.float64, **kw)
    load_from(d_layer, t_layer)
    N, L, S = 2, 4, 6
    tgt = rng.standard_normal((N, L, 8) if batch_first else (L, N, 8))
    mem = rng.standard_normal((N, S, 8) if batch_first else (S, N, 8))
    causal = np.triu(np.ones((L, L), dtype=bool), 1)
    tkpm = np.zeros((N, L), dtype=bool)
    tkpm[1, -1] = True
    mkpm = np.zeros((N, S), dtype=bool)
    mkpm[0, -2:] = True
    d_kw = {"tgt_mask": dp.tensor(causal), "tgt_key_padding_mask": dp.tensor(tkpm),
            "memory_key_padding_mask": dp.tensor(mkpm)}
    t_kw = {"tgt_mask": torch.tensor(causal), "tgt_key_padding_mask": torch.tensor(tkpm),
            "memory_key_padding_mask": torch.tensor(mkpm)}
    run_both(d_layer, t_layer, [tgt, mem], d_kw, t_kw)
    causal_f = np.triu(np.full((L, L), -np.inf), 1)
    run_both(d_layer, t_layer, [tgt, mem], {"tgt_mask": dp.tensor(causal_f), "tgt_is_causal": True},
             {"tgt_mask": torch.tensor(causal_f), "tgt_is_causal": True})


def test_transformer_matches_torch(rng):
    kw = {"d_model": 8, "nhead": 2, "num_encoder_layers": 2, "num_decoder_layers": 2, "dim_feedforward": 16, "dropout": 0.0,
              "batch_first": True}
    t_model = torch.nn.Transformer(**kw)
    d_model = Transformer(dtype=dp.float64, **kw)
    load_from(d_model, t_model)
    src, tgt = rng.standard_normal((2, 5, 8)), rng.standard_normal((2, 3, 8))
    run_both(d_model, t_model, [src, tgt],
             {"tgt_mask": Transformer.generate_square_subsequent_mask(3, dtype=dp.float64)},
             {"tgt_mask": torch.nn.Transformer.generate_square_subsequent_mask(3, dtype=torch.float64)})


def test_decoder_stack_matches_torch(rng):
    kw = {"dim_feedforward": 12, "dropout": 0.0}
    t_dec = torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(8, 2, **kw), 2, norm=torch.nn.LayerNorm(8))
    d_dec = TransformerDecoder(TransformerDecoderLayer(8, 2, dtype=dp.float64, **kw), 2,
                               norm=nn.LayerNorm(8, dtype=dp.float64))
    load_from(d_dec, t_dec)
    run_both(d_dec, t_dec, [rng.standard_normal((4, 2, 8)), rng.standard_normal((3, 2, 8))],
             {"tgt_mask": generate_square_subsequent_mask(4, dtype=dp.float64)},
             {"tgt_mask": torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64)})


def test_eval_mode_with_dropout_matches_torch(rng):
    t_layer = torch.nn.TransformerEncoderLayer(8, 2, 12, dropout=0.3)
    d_layer = TransformerEncoderLayer(8, 2, 12, dropout=0.3, dtype=dp.float64)
    load_from(d_layer, t_layer)
    t_layer.eval()
    d_layer.eval()
    run_both(d_layer, t_layer, [rng.standard_normal((4, 2, 8))])


@pytest.mark.filterwarnings("ignore:enable_nested_tensor")
def test_state_dict_keys_match_torch():
    pairs = [
        (TransformerEncoderLayer(8, 2, 16), torch.nn.TransformerEncoderLayer(8, 2, 16)),
        (TransformerDecoderLayer(8, 2, 16, bias=False), torch.nn.TransformerDecoderLayer(8, 2, 16, bias=False)),
        (Transformer(8, 2, 1, 1, 16), torch.nn.Transformer(8, 2, 1, 1, 16)),
    ]
    for d, t in pairs:
        assert list(d.state_dict()) == list(t.state_dict())
        for (k, v), (_, tv) in zip(d.state_dict().items(), t.state_dict().items()):
            assert tuple(v.shape) == tuple(tv.shape), k
