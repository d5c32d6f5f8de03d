"""Transformer layers, positional encodings and skip connections: shapes for every
option, causality, gradcheck, structure (deep copies, names), and the formulas."""
import math

import numpy as np
import pytest

import deepprimer as dp
from deepprimer import nn
from deepprimer.autograd import gradcheck
from deepprimer.nn import functional as F
from deepprimer.nn.positional import (
    LearnedPositionalEncoding,
    SinusoidalPositionalEncoding,
    sinusoidal_table,
)
from deepprimer.nn.residual import Residual, ResidualMLPBlock
from deepprimer.nn.transformer import (
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
    generate_square_subsequent_mask,
)


def t64(rng, *shape, grad=True):
    return dp.tensor(rng.standard_normal(shape), dtype=dp.float64, requires_grad=grad)


# ---- the mask helper ------------------------------------------------------------------------


def test_generate_square_subsequent_mask():
    m = generate_square_subsequent_mask(4)
    assert m.dtype == dp.float32 and m.shape == (4, 4)
    expected = np.where(np.triu(np.ones((4, 4)), 1) == 1, -np.inf, 0.0)
    np.testing.assert_array_equal(m.data, expected)
    assert Transformer.generate_square_subsequent_mask(3, dtype=dp.float64).dtype == dp.float64
    m.data[0, 0] = 5.0  # a fresh array each time, not the cached one
    assert generate_square_subsequent_mask(4).data[0, 0] == 0


# ---- encoder and decoder layers: shapes for every option --------------------------------------


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu", F.gelu, nn.ReLU()])
def test_encoder_layer_shapes(batch_first, norm_first, activation):
    layer = TransformerEncoderLayer(8, 2, 16, batch_first=batch_first, norm_first=norm_first, activation=activation)
    x = dp.randn(3, 5, 8)
    out = layer(x, src_mask=generate_square_subsequent_mask(3 if not batch_first else 5))
    assert out.shape == x.shape
    assert layer(dp.randn(5, 8)).shape == (5, 8)  # unbatched


def test_encoder_layer_structure_matches_torch_names():
    layer = TransformerEncoderLayer(8, 2, 16, bias=False)
    names = [n for n, _ in layer.named_children()]
    assert names == ["self_attn", "linear1", "dropout", "linear2", "norm1", "norm2", "dropout1", "dropout2"]
    assert layer.linear1.bias is None and layer.norm1.bias is None and layer.self_attn.in_proj_bias is None
    assert layer.activation_relu_or_gelu == 1
    assert TransformerEncoderLayer(8, 2, activation="gelu").activation_relu_or_gelu == 2
    with pytest.raises(RuntimeError, match="relu/gelu"):
        TransformerEncoderLayer(8, 2, activation="tanh")


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer_shapes(batch_first, norm_first):
    layer = TransformerDecoderLayer(8, 2, 16, batch_first=batch_first, norm_first=norm_first)
    names = [n for n, _ in layer.named_children()]
    assert names == ["self_attn", "multihead_attn", "linear1", "dropout", "linear2", "norm1", "norm2", "norm3",
                     "dropout1", "dropout2", "dropout3"]
    tgt, mem = (dp.randn(2, 4, 8), dp.randn(2, 6, 8)) if batch_first else (dp.randn(4, 2, 8), dp.randn(6, 2, 8))
    kpm = dp.tensor([[False] * 5 + [True], [False] * 6])
    out = layer(tgt, mem, tgt_mask=generate_square_subsequent_mask(4), memory_key_padding_mask=kpm,
                tgt_is_causal=True)
    assert out.shape == tgt.shape


def test_encoder_deep_copies_the_layer():
    layer = TransformerEncoderLayer(8, 2, 16)
    enc = TransformerEncoder(layer, 3, norm=nn.LayerNorm(8))
    assert len(enc.layers) == 3
    ids = {id(enc.layers[i].linear1.weight) for i in range(3)} | {id(layer.linear1.weight)}
    assert len(ids) == 4  # every copy has its own parameters
    np.testing.assert_array_equal(enc.layers[2].linear1.weight.data, layer.linear1.weight.data)
    keys = list(enc.state_dict())
    assert keys[0] == "layers.0.self_attn.in_proj_weight" and keys[-1] == "norm.bias"
    x = dp.randn(5, 2, 8)
    assert enc(x, mask=generate_square_subsequent_mask(5)).shape == (5, 2, 8)
    out = enc(x, src_key_padding_mask=dp.tensor([[False] * 4 + [True], [False] * 5]))
    assert out.shape == (5, 2, 8)


def test_decoder_and_transformer_shapes():
    dec = TransformerDecoder(TransformerDecoderLayer(8, 2, 16, batch_first=True), 2, norm=nn.LayerNorm(8))
    assert dec(dp.randn(2, 3, 8), dp.randn(2, 5, 8), tgt_mask=generate_square_subsequent_mask(3)).shape == (2, 3, 8)
    model = Transformer(8, 2, 1, 1, 16, batch_first=True)
    out = model(dp.randn(2, 5, 8), dp.randn(2, 3, 8), tgt_mask=Transformer.generate_square_subsequent_mask(3))
    assert out.shape == (2, 3, 8)
    with pytest.raises(RuntimeError, match="batch number"):
        model(dp.randn(2, 5, 8), dp.randn(3, 3, 8))


def test_dropout_in_training_only():
    layer = TransformerEncoderLayer(8, 2, 16, dropout=0.5, batch_first=True)
    x = dp.randn(2, 4, 8)
    layer.eval()
    np.testing.assert_array_equal(layer(x).data, layer(x).data)
    layer.train()
    assert not np.allclose(layer(x).data, layer(x).data)


# ---- causality and gradients -------------------------------------------------------------------


@pytest.mark.parametrize("norm_first", [False, True])
def test_causal_encoder_hides_the_future(rng, norm_first):
    L = 5
    enc = TransformerEncoder(TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True,
                                                     norm_first=norm_first, dtype=dp.float64), 2)
    x = t64(rng, 2, L, 8)
    mask = generate_square_subsequent_mask(L, dtype=dp.float64)
    w = t64(rng, 8, grad=False)  # a random readout: the sum of a LayerNorm's output is constant
    for t in range(L - 1):
        (g,) = dp.autograd.grad((enc(x, mask=mask)[:, t] * w).sum(), x)
        assert np.all(g.data[:, t + 1:] == 0), f"output {t} depends on a later input"
        assert np.all(np.abs(g.data[:, : t + 1]).sum(-1) > 0)


def test_causal_decoder_hides_the_future(rng):
    L = 4
    layer = TransformerDecoderLayer(8, 2, 16, dropout=0.0, dtype=dp.float64)
    tgt, mem = t64(rng, L, 2, 8), t64(rng, 3, 2, 8)
    mask = generate_square_subsequent_mask(L, dtype=dp.float64)
    w = t64(rng, 8, grad=False)
    for t in range(L - 1):
        (g,) = dp.autograd.grad((layer(tgt, mem, tgt_mask=mask, tgt_is_causal=True)[t] * w).sum(), tgt)
        assert np.all(g.data[t + 1:] == 0)
        assert np.all(np.abs(g.data[: t + 1]).sum(-1) > 1e-8)


@pytest.mark.parametrize("norm_first", [False, True])
def test_gradcheck_encoder_layer(rng, norm_first):
    layer = TransformerEncoderLayer(4, 2, 6, dropout=0.0, norm_first=norm_first, activation="gelu",
                                    dtype=dp.float64)
    x = t64(rng, 3, 2, 4)
    mask = generate_square_subsequent_mask(3, dtype=dp.float64)
    assert gradcheck(lambda x: layer(x, src_mask=mask), (x,))
    assert gradcheck(lambda w: layer(x.detach()), (layer.self_attn.in_proj_weight,))


def test_gradcheck_decoder_layer(rng):
    layer = TransformerDecoderLayer(4, 2, 6, dropout=0.0, batch_first=True, dtype=dp.float64)
    tgt, mem = t64(rng, 2, 3, 4), t64(rng, 2, 2, 4)
    assert gradcheck(lambda t, m: layer(t, m, tgt_mask=generate_square_subsequent_mask(3, dtype=dp.float64)),
                     (tgt, mem))


# ---- positional encodings --------------------------------------------------------------------


def test_sinusoidal_table_formula():
    table = sinusoidal_table(7, 6, dtype=dp.float64)
    for pos in range(7):
        for i in range(3):
            angle = pos / 10000 ** (2 * i / 6)
            assert table[pos, 2 * i] == pytest.approx(math.sin(angle))
            assert table[pos, 2 * i + 1] == pytest.approx(math.cos(angle))
    odd = sinusoidal_table(4, 5)  # an odd d_model: the last dim is a sine
    assert odd.shape == (4, 5) and odd.dtype == np.float32
    assert odd[3, 4] == pytest.approx(math.sin(3 / 10000 ** (4 / 5)))
    assert odd[3, 3] == pytest.approx(math.cos(3 / 10000 ** (2 / 5)))


@pytest.mark.parametrize("batch_first", [False, True])
def test_sinusoidal_adds_to_each_sequence(batch_first):
    pe = SinusoidalPositionalEncoding(6, max_len=10, batch_first=batch_first)
    assert "pe" not in pe.state_dict() and list(pe.parameters()) == []
    x = dp.zeros(2, 4, 6) if batch_first else dp.zeros(4, 2, 6)
    out = pe(x)
    table = sinusoidal_table(4, 6)
    for n in range(2):
        np.testing.assert_allclose(out.data[n] if batch_first else out.data[:, n], table, rtol=1e-6)
    np.testing.assert_allclose(pe(dp.zeros(3, 6)).data, table[:3], rtol=1e-6)  # unbatched
    with pytest.raises(ValueError, match="max_len"):
        pe(dp.zeros(2, 11, 6) if batch_first else dp.zeros(11, 2, 6))
    with pytest.raises(ValueError, match="d_model"):
        pe(dp.zeros(2, 4, 5))


@pytest.mark.parametrize("batch_first", [False, True])
def test_learned_positional_encoding(batch_first):
    pe = LearnedPositionalEncoding(10, 6, batch_first=batch_first)
    assert pe.weight.shape == (10, 6) and pe.weight.requires_grad
    assert 0.005 < pe.weight.data.std() < 0.05
    x = dp.zeros(2, 4, 6) if batch_first else dp.zeros(4, 2, 6)
    out = pe(x)
    assert out.shape == x.shape
    out.sum().backward()
    grad = pe.weight.grad.data
    np.testing.assert_array_equal(grad[:4], 2.0)  # each used position gets one gradient per batch item
    np.testing.assert_array_equal(grad[4:], 0.0)
    assert list(pe.state_dict()) == ["weight"]


def test_positional_dropout_in_training_only():
    pe = SinusoidalPositionalEncoding(8, 16, dropout=0.5, batch_first=True)
    x = dp.ones(2, 16, 8)
    assert (pe(x).data == 0).any()
    pe.eval()
    assert not (pe(x).data == 0).any()


# ---- skip connections ------------------------------------------------------------------------------


def test_residual_adds_the_input(rng):
    lin = nn.Linear(4, 4).double()
    block = Residual(lin)
    x = t64(rng, 3, 4)
    out = block(x)
    np.testing.assert_allclose(out.data, x.data + lin(x).data, rtol=1e-12)
    out.sum().backward()
    # d(x + Wx + b)/dx = I + W: the identity path carries gradient straight through
    np.testing.assert_allclose(x.grad.data, np.broadcast_to(1.0 + lin.weight.data.sum(0), (3, 4)), rtol=1e-12)
    assert list(block.state_dict()) == ["module.weight", "module.bias"]
    with pytest.raises(ValueError, match="keep the shape"):
        Residual(nn.Linear(4, 3).double())(x)


def test_residual_passes_extra_arguments():
    attn = TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True).self_attn
    block = Residual(lambda_module := _SelfAttention(attn))
    x = dp.randn(2, 3, 8)
    mask = generate_square_subsequent_mask(3)
    np.testing.assert_allclose(block(x, mask).data, (x + lambda_module(x, mask)).data, rtol=1e-6)


class _SelfAttention(nn.Module):
    def __init__(self, attn):
        super().__init__()
        self.attn = attn

    def forward(self, x, mask=None):
        return self.attn(x, x, x, attn_mask=mask, need_weights=False)[0]


@pytest.mark.parametrize("norm", ["batch", "layer", None])
def test_residual_mlp_block(rng, norm):
    block = ResidualMLPBlock(6, norm=norm)
    assert isinstance(block.shortcut, nn.Identity)
    x = dp.randn(5, 6, requires_grad=True)
    out = block(x)
    assert out.shape == (5, 6) and (out.data >= 0).all()
    out.sum().backward()
    assert x.grad is not None and block.linear1.weight.grad is not None
    proj = ResidualMLPBlock(6, 3, hidden_features=10, norm=norm, activation="gelu")
    assert proj.linear1.weight.shape == (10, 6) and proj(x).shape == (5, 3)
    assert proj.shortcut[0].weight.shape == (3, 6)


def test_residual_mlp_block_formula(rng):
    block = ResidualMLPBlock(4, norm=None).double()
    x = t64(rng, 3, 4)
    h = F.relu(block.linear1(x))
    expected = F.relu(x + block.linear2(h))
    np.testing.assert_allclose(block(x).data, expected.data, rtol=1e-12)
    assert gradcheck(lambda x: block(x), (x,))
    with pytest.raises(ValueError, match="norm"):
        ResidualMLPBlock(4, norm="group")
