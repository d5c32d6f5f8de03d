"""Recurrent layers: shapes of every option, the fused kernels against the reference cells
written with tensor ops, gradcheck, dropout between layers, and 1,000-step backward."""
import itertools
import math
import warnings

import numpy as np
import pytest

import deepprimer as dp
from deepprimer.autograd import gradcheck
from deepprimer.nn.recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from deepprimer.nn.utils import clip_grad_norm_
from deepprimer.ops.recurrent import (
    gru_cell_reference,
    lstm_cell_reference,
    recurrent_layer,
    recurrent_layer_reference,
    rnn_cell_reference,
)

GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def arr(*shape, seed=0, scale=1.0):
    return np.random.default_rng(seed).standard_normal(shape) * scale


def leaf(a):
    return dp.tensor(np.array(a, dtype=np.float64), requires_grad=True)


def make(cls, *args, **kwargs):
    """A layer of ``cls``: ``RNN_RELU`` stands for RNN(nonlinearity='relu')."""
    if cls == "RNN_RELU":
        return RNN(*args, nonlinearity="relu", **kwargs)
    return cls(*args, **kwargs)


LAYERS = [RNN, "RNN_RELU", LSTM, GRU]


# ---- the fused kernel against the reference composition --------------------------------------


def _layer_inputs(mode, T, B, I, H, batch_first, bias, states, seed=0):
    G = GATES[mode]
    x = arr(B, T, I, seed=seed) if batch_first else arr(T, B, I, seed=seed)
    inputs = {
        "x": x, "h0": arr(B, H, seed=seed + 1) if states else None,
        "c0": arr(B, H, seed=seed + 2) if states and mode == "LSTM" else None,
        "w_ih": arr(G * H, I, seed=seed + 3, scale=0.5), "w_hh": arr(G * H, H, seed=seed + 4, scale=0.5),
        "b_ih": arr(G * H, seed=seed + 5) if bias else None, "b_hh": arr(G * H, seed=seed + 6) if bias else None,
    }
    return inputs


def _run_layer(fn, mode, inputs, reverse, batch_first, out_grads):
    tensors = {k: (None if v is None else leaf(v)) for k, v in inputs.items()}
    out, h_n, c_n = fn(mode, tensors["x"], tensors["h0"], tensors["c0"], tensors["w_ih"], tensors["w_hh"],
                       tensors["b_ih"], tensors["b_hh"], reverse=reverse, batch_first=batch_first)
    results = [o for o in (out, h_n, c_n) if o is not None]
    loss = None
    for o, g in zip(results, out_grads):
        term = (o * dp.tensor(g)).sum()
        loss = term if loss is None else loss + term
    loss.backward()
    values = [o.data for o in results]
    grads = {k: t.grad.data for k, t in tensors.items() if t is not None}
    return values, grads


@pytest.mark.parametrize("mode", sorted(GATES))
@pytest.mark.parametrize("reverse,batch_first", [(False, False), (True, False), (False, True), (True, True)])
@pytest.mark.parametrize("bias,states", [(True, True), (False, False)])
def test_fused_kernel_equals_reference(mode, reverse, batch_first, bias, states):
    T, B, I, H = 5, 3, 4, 6
    inputs = _layer_inputs(mode, T, B, I, H, batch_first, bias, states)
    out_shape = (B, T, H) if batch_first else (T, B, H)
    out_grads = [arr(*out_shape, seed=10), arr(B, H, seed=11), arr(B, H, seed=12)]
    fused = _run_layer(recurrent_layer, mode, inputs, reverse, batch_first, out_grads)
    reference = _run_layer(recurrent_layer_reference, mode, inputs, reverse, batch_first, out_grads)
    for a, b in zip(fused[0], reference[0]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    assert fused[1].keys() == reference[1].keys()
    for k in fused[1]:
        np.testing.assert_allclose(fused[1][k], reference[1][k], rtol=1e-10, atol=1e-12, err_msg=k)


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN_TANH"])
def test_only_final_states_used(mode):
    """Gradients that reach the kernel only through h_n (or only c_n) still flow."""
    inputs = _layer_inputs(mode, 4, 2, 3, 5, False, True, True)
    for which in (1, 2) if mode == "LSTM" else (1,):
        grads = [np.zeros((4, 2, 5)), np.zeros((2, 5)), np.zeros((2, 5))]
        grads[which] = arr(2, 5, seed=which)
        fused = _run_layer(recurrent_layer, mode, inputs, False, False, grads)
        reference = _run_layer(recurrent_layer_reference, mode, inputs, False, False, grads)
        for k in fused[1]:
            np.testing.assert_allclose(fused[1][k], reference[1][k], rtol=1e-10, atol=1e-12, err_msg=k)


def test_reference_cells_are_the_textbook_formulas():
    x, h, c = leaf(arr(2, 3)), leaf(arr(2, 4, seed=1)), leaf(arr(2, 4, seed=2))
    w_ih, w_hh = leaf(arr(16, 3, seed=3)), leaf(arr(16, 4, seed=4))
    b_ih, b_hh = leaf(arr(16, seed=5)), leaf(arr(16, seed=6))

    def sig(v):
        return 1 / (1 + np.exp(-v))

    pre = x.data @ w_ih.data.T + b_ih.data + h.data @ w_hh.data.T + b_hh.data
    i, f, g, o = np.split(pre, 4, axis=1)
    c_new = sig(f) * c.data + sig(i) * np.tanh(g)
    h_new, c_out = lstm_cell_reference(x, h, c, w_ih, w_hh, b_ih, b_hh)
    np.testing.assert_allclose(c_out.data, c_new, rtol=1e-12)
    np.testing.assert_allclose(h_new.data, sig(o) * np.tanh(c_new), rtol=1e-12)

    gx = x.data @ w_ih.data[:12].T + b_ih.data[:12]
    gh = h.data @ w_hh.data[:12].T + b_hh.data[:12]
    r, z = sig(gx[:, :4] + gh[:, :4]), sig(gx[:, 4:8] + gh[:, 4:8])
    n = np.tanh(gx[:, 8:] + r * gh[:, 8:])
    out = gru_cell_reference(x, h, w_ih[:12], w_hh[:12], b_ih[:12], b_hh[:12])
    np.testing.assert_allclose(out.data, (1 - z) * n + z * h.data, rtol=1e-12)

    pre = x.data @ w_ih.data[:4].T + h.data @ w_hh.data[:4].T
    np.testing.assert_allclose(rnn_cell_reference(x, h, w_ih[:4], w_hh[:4]).data, np.tanh(pre), rtol=1e-12)
    np.testing.assert_allclose(rnn_cell_reference(x, h, w_ih[:4], w_hh[:4], nonlinearity="relu").data,
                               np.maximum(pre, 0), rtol=1e-12)


# ---- gradcheck on small instances ------------------------------------------------------------


@pytest.mark.parametrize("kwargs", [
    {}, {"batch_first": True}, {"bidirectional": True}, {"num_layers": 2}, {"bias": False},
])
def test_lstm_gradcheck(kwargs):
    lstm = LSTM(2, 3, **kwargs).double()
    bf = kwargs.get("batch_first", False)
    x = leaf(arr(2, 3, 2) if bf else arr(3, 2, 2))
    d = (2 if kwargs.get("bidirectional") else 1) * kwargs.get("num_layers", 1)
    h0, c0 = leaf(arr(d, 2, 3, seed=1)), leaf(arr(d, 2, 3, seed=2))
    params = list(lstm.parameters())

    def fn(x, h0, c0, *_):
        out, (h, c) = lstm(x, (h0, c0))
        return out, h, c

    assert gradcheck(fn, (x, h0, c0, *params))


@pytest.mark.parametrize("cls", [GRU, RNN, "RNN_RELU"])
def test_gru_rnn_gradcheck(cls):
    layer = make(cls, 2, 3, bidirectional=True).double()
    x, h0 = leaf(arr(3, 2, 2)), leaf(arr(2, 2, 3, seed=1))

    def fn(x, h0, *_):
        return layer(x, h0)

    assert gradcheck(fn, (x, h0, *layer.parameters()))


@pytest.mark.parametrize("cls", [RNNCell, LSTMCell, GRUCell])
def test_cell_gradcheck(cls):
    cell = cls(3, 4).double()
    x, h = leaf(arr(2, 3)), leaf(arr(2, 4, seed=1))
    state = (h, leaf(arr(2, 4, seed=2))) if cls is LSTMCell else h

    def fn(x, *_):
        return cell(x, state)

    assert gradcheck(fn, (x, h, *cell.parameters()))


# ---- shapes of every option --------------------------------------------------------------------


@pytest.mark.parametrize("cls", LAYERS)
@pytest.mark.parametrize("num_layers,bidirectional,batch_first,bias", list(itertools.product([1, 2], [False, True], [False, True], [True, False])))
@pytest.mark.parametrize("batched", [True, False])
def test_shapes(cls, num_layers, bidirectional, batch_first, bias, batched):
    I, H, T, B = 3, 5, 4, 2
    layer = make(cls, I, H, num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first, bias=bias)
    D = 2 if bidirectional else 1
    if batched:
        x = dp.randn(B, T, I) if batch_first else dp.randn(T, B, I)
        out_shape = (B, T, D * H) if batch_first else (T, B, D * H)
        state_shape = (D * num_layers, B, H)
    else:
        x = dp.randn(T, I)
        out_shape = (T, D * H)
        state_shape = (D * num_layers, H)
    is_lstm = isinstance(layer, LSTM)
    for hx in (None, "given"):
        if hx is not None:
            hx = (dp.randn(*state_shape), dp.randn(*state_shape)) if is_lstm else dp.randn(*state_shape)
        out, state = layer(x, hx)
        assert tuple(out.shape) == out_shape
        assert out.dtype == dp.float32
        states = state if is_lstm else (state,)
        assert len(states) == (2 if is_lstm else 1)
        for s in states:
            assert tuple(s.shape) == state_shape
            assert s.dtype == dp.float32
    # the last layer's final states are the output's ends: forward at the end, reverse at the start
    last = states[0][-D:]
    seq_axis = (1 if batch_first else 0) if batched else 0
    end = out.data.take(-1, axis=seq_axis)[..., :H]
    np.testing.assert_allclose(last.data[0], end, rtol=1e-6)
    if bidirectional:
        start = out.data.take(0, axis=seq_axis)[..., H:]
        np.testing.assert_allclose(last.data[1], start, rtol=1e-6)


@pytest.mark.parametrize("cls,gates", [(RNN, 1), (LSTM, 4), (GRU, 3)])
def test_parameter_names_and_shapes(cls, gates):
    layer = cls(3, 5, num_layers=2, bidirectional=True)
    expected = []
    for k in range(2):
        for suffix in ("", "_reverse"):
            expected += [(f"weight_ih_l{k}{suffix}", (gates * 5, 3 if k == 0 else 10)),
                         (f"weight_hh_l{k}{suffix}", (gates * 5, 5)),
                         (f"bias_ih_l{k}{suffix}", (gates * 5,)), (f"bias_hh_l{k}{suffix}", (gates * 5,))]
    assert [(n, tuple(p.shape)) for n, p in layer.named_parameters()] == expected
    assert list(layer.state_dict()) == [n for n, _ in expected]
    assert len(layer.all_weights) == 4 and all(len(w) == 4 for w in layer.all_weights)
    no_bias = cls(3, 5, bias=False)
    assert [n for n, _ in no_bias.named_parameters()] == ["weight_ih_l0", "weight_hh_l0"]


@pytest.mark.parametrize("cls,gates", [(RNNCell, 1), (LSTMCell, 4), (GRUCell, 3)])
def test_cell_parameters_and_shapes(cls, gates):
    cell = cls(3, 5)
    assert [(n, tuple(p.shape)) for n, p in cell.named_parameters()] == [
        ("weight_ih", (gates * 5, 3)), ("weight_hh", (gates * 5, 5)), ("bias_ih", (gates * 5,)),
        ("bias_hh", (gates * 5,)),
    ]
    assert cls(3, 5, bias=False).bias_ih is None
    for batched in (True, False):
        x = dp.randn(2, 3) if batched else dp.randn(3)
        shape = (2, 5) if batched else (5,)
        for hx in (None, "given"):
            if hx is not None:
                hx = (dp.randn(*shape), dp.randn(*shape)) if cls is LSTMCell else dp.randn(*shape)
            out = cell(x, hx)
            outs = out if cls is LSTMCell else (out,)
            assert all(tuple(o.shape) == shape and o.dtype == dp.float32 for o in outs)


@pytest.mark.parametrize("cls", LAYERS + [RNNCell, LSTMCell, GRUCell])
def test_init_is_uniform_and_seeded(cls):
    dp.manual_seed(3)
    a = make(cls, 4, 16)
    dp.manual_seed(3)
    b = make(cls, 4, 16)
    bound = 1 / math.sqrt(16)
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        assert np.array_equal(p.data, q.data), name
        assert np.abs(p.data).max() <= bound
        assert np.abs(p.data).max() > 0.8 * bound  # spread over the whole interval


@pytest.mark.parametrize("cls", [RNNCell, "RNN_RELU_CELL", LSTMCell, GRUCell])
def test_cell_is_one_step_of_the_layer(cls):
    layer_cls = {RNNCell: RNN, LSTMCell: LSTM, GRUCell: GRU}.get(cls)
    if cls == "RNN_RELU_CELL":
        cell, layer = RNNCell(3, 4, nonlinearity="relu"), RNN(3, 4, nonlinearity="relu")
    else:
        cell, layer = cls(3, 4), layer_cls(3, 4)
    layer.load_state_dict({f"{k}_l0": v for k, v in cell.state_dict().items()})
    x, h = dp.randn(2, 3), dp.randn(2, 4)
    state = (h, dp.randn(2, 4)) if cls is LSTMCell else h
    out = cell(x, state)
    layer_state = (state[0][None], state[1][None]) if cls is LSTMCell else state[None]
    seq_out, final = layer(x[None], layer_state)
    if cls is LSTMCell:
        np.testing.assert_allclose(out[0].data, seq_out.data[0], rtol=1e-6)
        np.testing.assert_allclose(out[1].data, final[1].data[0], rtol=1e-6)
    else:
        np.testing.assert_allclose(out.data, seq_out.data[0], rtol=1e-6)


def test_unbatched_equals_batch_of_one():
    lstm = LSTM(3, 4, num_layers=2, bidirectional=True)
    x = dp.randn(5, 3)
    out, (h, c) = lstm(x)
    out_b, (h_b, c_b) = lstm(x[:, None])
    np.testing.assert_allclose(out.data, out_b.data[:, 0], rtol=1e-6)
    np.testing.assert_allclose(h.data, h_b.data[:, 0], rtol=1e-6)
    np.testing.assert_allclose(c.data, c_b.data[:, 0], rtol=1e-6)


def test_batch_first_equals_time_major():
    a = GRU(3, 4, num_layers=2, bidirectional=True, batch_first=True)
    b = GRU(3, 4, num_layers=2, bidirectional=True)
    b.load_state_dict(a.state_dict())
    x = dp.randn(2, 5, 3)
    out_a, h_a = a(x)
    out_b, h_b = b(x.transpose(0, 1))
    np.testing.assert_allclose(out_a.data, out_b.data.transpose(1, 0, 2), rtol=1e-6)
    np.testing.assert_allclose(h_a.data, h_b.data, rtol=1e-6)


def test_float64_model_keeps_float64():
    lstm = LSTM(3, 4).double()
    out, (h, c) = lstm(dp.randn(5, 2, 3).double())
    assert out.dtype == h.dtype == c.dtype == dp.float64


def test_no_graph_under_no_grad():
    lstm = LSTM(3, 4)
    with dp.no_grad():
        out, (h, c) = lstm(dp.randn(5, 2, 3))
    assert not out.requires_grad and not h.requires_grad and not c.requires_grad


def test_retain_graph_backward_twice_accumulates():
    lstm = LSTM(3, 4)
    out, (h, c) = lstm(dp.randn(5, 2, 3))
    loss = out.sum() + h.sum() + c.sum()
    loss.backward(retain_graph=True)
    first = [p.grad.data.copy() for p in lstm.parameters()]
    loss.backward()
    for p, g in zip(lstm.parameters(), first):
        np.testing.assert_allclose(p.grad.data, 2 * g, rtol=1e-5)
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()


# ---- dropout between layers ---------------------------------------------------------------------


def test_dropout_between_layers_only_in_training():
    dp.manual_seed(0)
    lstm = LSTM(3, 8, num_layers=2, dropout=0.5)
    plain = LSTM(3, 8, num_layers=2)
    plain.load_state_dict(lstm.state_dict())
    x = dp.randn(6, 2, 3)
    dp.manual_seed(1)
    a, _ = lstm(x)
    dp.manual_seed(1)
    b, _ = lstm(x)
    c, _ = lstm(x)
    np.testing.assert_array_equal(a.data, b.data)  # the masks come from the seeded generator
    assert not np.allclose(a.data, c.data)
    ref, _ = plain(x)
    assert not np.allclose(a.data, ref.data)
    lstm.eval()
    d, _ = lstm(x)
    np.testing.assert_allclose(d.data, ref.data, rtol=1e-6)


def test_dropout_on_a_single_layer_warns_and_changes_nothing():
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        gru = GRU(3, 4, dropout=0.3)
    plain = GRU(3, 4)
    plain.load_state_dict(gru.state_dict())
    x = dp.randn(4, 2, 3)
    np.testing.assert_allclose(gru(x)[0].data, plain(x)[0].data, rtol=1e-6)


# ---- long sequences: no recursion limit, and clipping tames exploding gradients -----------------


def test_backward_through_1000_steps():
    lstm = LSTM(2, 3)
    x = dp.randn(1000, 2, 2)
    out, (_, c) = lstm(x)
    (out.sum() + c.sum()).backward()
    for p in lstm.parameters():
        assert p.grad is not None and np.isfinite(p.grad.data).all()


def test_reference_composition_backward_through_1000_steps():
    """The tensor-op reference, a graph ~6,000 nodes deep, backpropagates too (the engine walks
    the graph with a loop, not recursion)."""
    w_ih, w_hh = leaf(arr(3, 2, scale=0.3)), leaf(arr(3, 3, seed=1, scale=0.3))
    x = dp.tensor(arr(1000, 1, 2, seed=2))
    _, h, _ = recurrent_layer_reference("RNN_TANH", x, None, None, w_ih, w_hh)
    h.sum().backward()
    assert np.isfinite(w_hh.grad.data).all() and np.isfinite(w_ih.grad.data).all()


def test_clip_grad_norm_tames_exploding_gradients():
    rnn = RNN(1, 4, nonlinearity="relu").double()
    with dp.no_grad():
        rnn.weight_hh_l0.copy_(dp.tensor(np.eye(4) * 1.02))  # grows 2% per step
        rnn.weight_ih_l0.fill_(0.1)
        rnn.bias_ih_l0.zero_()
        rnn.bias_hh_l0.zero_()
    x = dp.ones(1000, 1, 1).double()
    out, _ = rnn(x)
    out.sum().backward()
    total = clip_grad_norm_(rnn.parameters(), max_norm=1.0)
    assert float(total) > 1e6  # exploded
    after = math.sqrt(sum(float((p.grad.data ** 2).sum()) for p in rnn.parameters()))
    assert after == pytest.approx(1.0, rel=1e-5)


# ---- errors a learner can act on -------------------------------------------------------------------


def test_errors():
    lstm = LSTM(3, 4, num_layers=2)
    with pytest.raises(ValueError, match="input_size. Expected 3, got 5"):
        lstm(dp.randn(4, 2, 5))
    with pytest.raises(ValueError, match="2D .* or 3D"):
        lstm(dp.randn(4, 2, 3, 1))
    with pytest.raises(ValueError, match=r"Expected h_0 of shape \(2, 2, 4\)"):
        lstm(dp.randn(4, 2, 3), (dp.randn(1, 2, 4), dp.randn(2, 2, 4)))
    with pytest.raises(ValueError, match="should also be 3-D"):
        lstm(dp.randn(4, 2, 3), (dp.randn(2, 4), dp.randn(2, 4)))
    with pytest.raises(TypeError, match="tuple"):
        lstm(dp.randn(4, 2, 3), dp.randn(2, 2, 4))
    with pytest.raises(ValueError, match="dtype"):
        lstm(dp.randn(4, 2, 3).double())
    with pytest.raises(ValueError, match="nonlinearity"):
        RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="dropout"):
        GRU(3, 4, dropout=1.5)
    with pytest.raises(ValueError, match="num_layers"):
        GRU(3, 4, num_layers=0)
    with pytest.raises(ValueError, match="hidden_size"):
        GRU(3, 0)
    with pytest.raises(TypeError):
        LSTM(3, 4, proj_size=2)  # projections are not supported
    with pytest.raises(ValueError, match="inconsistent input_size"):
        GRUCell(3, 4)(dp.randn(2, 5))
    with pytest.raises(ValueError, match=r"Expected hx of shape \(2, 4\)"):
        GRUCell(3, 4)(dp.randn(2, 3), dp.randn(3, 4))


def test_repr():
    assert repr(LSTM(3, 4)) == "LSTM(3, 4)"
    assert repr(GRU(3, 4, num_layers=2, batch_first=True, dropout=0.5, bidirectional=True, bias=False)) == (
        "GRU(3, 4, num_layers=2, bias=False, batch_first=True, dropout=0.5, bidirectional=True)"
    )
    assert repr(RNNCell(3, 4, nonlinearity="relu")) == "RNNCell(3, 4, nonlinearity=relu)"
    assert repr(LSTMCell(3, 4, bias=False)) == "LSTMCell(3, 4, bias=False)"


def test_no_warning_without_dropout():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LSTM(3, 4, num_layers=2, dropout=0.2)
        LSTM(3, 4)
