"""Recurrent layers against PyTorch: the same weights copied in (float64, PyTorch's gate order
and bias layout), the same outputs, final states and gradients for every option."""
import itertools

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import deepprimer as dp
from deepprimer.nn.recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell

OURS = {"RNN": RNN, "LSTM": LSTM, "GRU": GRU, "RNNCell": RNNCell, "LSTMCell": LSTMCell, "GRUCell": GRUCell}
RTOL = {np.float64: 1e-9, np.float32: 1e-4}
ATOL = {np.float64: 1e-11, np.float32: 1e-5}


def pair(name, *args, dtype=np.float64, **kwargs):
    """The same layer in both frameworks, deepprimer's weights loaded from torch's state dict."""
    tm = getattr(torch.nn, name)(*args, **kwargs)
    dm = OURS[name](*args, **kwargs)
    if dtype == np.float64:
        tm, dm = tm.double(), dm.double()
    dm.load_state_dict(tm.state_dict())
    return tm, dm


def close(d, t, dtype, what):
    t = t.detach().numpy()
    assert tuple(d.shape) == t.shape, f"{what}: shape {tuple(d.shape)} vs torch {t.shape}"
    assert d.dtype == t.dtype, f"{what}: dtype {d.dtype} vs torch {t.dtype}"
    np.testing.assert_allclose(d.data, t, rtol=RTOL[dtype], atol=ATOL[dtype], err_msg=what)


def flat(out):
    if isinstance(out, (tuple, list)):
        return [o for item in out for o in flat(item)]
    return [out]


def run_both(tm, dm, x, states=None, dtype=np.float64, seed=0):
    """Forward with the same input and initial states, backward of the same random gradients
    of every output; compare outputs, input and state gradients, every parameter gradient."""
    xt = torch.tensor(x.astype(dtype), requires_grad=True)
    xd = dp.tensor(x.astype(dtype), requires_grad=True)
    st = sd = None
    if states is not None:
        st = [torch.tensor(s.astype(dtype), requires_grad=True) for s in states]
        sd = [dp.tensor(s.astype(dtype), requires_grad=True) for s in states]
    pack = (lambda s: None if s is None else (tuple(s) if len(s) == 2 else s[0]))
    outs_t, outs_d = flat(tm(xt, pack(st))), flat(dm(xd, pack(sd)))
    assert len(outs_t) == len(outs_d)
    for k, (d, t) in enumerate(zip(outs_d, outs_t)):
        close(d, t, dtype, f"output {k}")
    rng = np.random.default_rng(seed)
    grads = [rng.standard_normal(tuple(t.shape)).astype(dtype) for t in outs_t]
    torch.autograd.backward(outs_t, [torch.tensor(g) for g in grads])
    dp.autograd.backward(outs_d, [dp.tensor(g) for g in grads])
    close(xd.grad, xt.grad, dtype, "input gradient")
    for i, (d, t) in enumerate(zip(sd or [], st or [])):
        close(d.grad, t.grad, dtype, f"initial state {i} gradient")
    tparams, dparams = dict(tm.named_parameters()), dict(dm.named_parameters())
    assert list(dparams) == list(tparams)
    for name, tp in tparams.items():
        close(dparams[name].grad, tp.grad, dtype, f"gradient of {name}")


@pytest.mark.parametrize("name,extra", [("RNN", {}), ("RNN", {"nonlinearity": "relu"}), ("LSTM", {}), ("GRU", {})])
@pytest.mark.parametrize("num_layers,bidirectional,batch_first", list(itertools.product([1, 2], [False, True], [False, True])))
@pytest.mark.parametrize("bias,with_states", [(True, False), (True, True), (False, True)])
def test_layers_match_torch(name, extra, num_layers, bidirectional, batch_first, bias, with_states):
    I, H, T, B = 3, 5, 4, 2
    tm, dm = pair(name, I, H, num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first,
                  bias=bias, **extra)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((B, T, I) if batch_first else (T, B, I))
    states = None
    if with_states:
        shape = ((2 if bidirectional else 1) * num_layers, B, H)
        states = [rng.standard_normal(shape) for _ in range(2 if name == "LSTM" else 1)]
    run_both(tm, dm, x, states)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("with_states", [False, True])
def test_unbatched_input_matches_torch(name, with_states):
    tm, dm = pair(name, 3, 4, num_layers=2, bidirectional=True, batch_first=True)
    rng = np.random.default_rng(2)
    states = [rng.standard_normal((4, 4)) for _ in range(2 if name == "LSTM" else 1)] if with_states else None
    run_both(tm, dm, rng.standard_normal((5, 3)), states)


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("bias,with_states", [(True, True), (True, False), (False, True)])
def test_cells_match_torch(name, batched, bias, with_states):
    tm, dm = pair(name, 3, 4, bias=bias)
    rng = np.random.default_rng(3)
    shape = (2, 4) if batched else (4,)
    states = [rng.standard_normal(shape) for _ in range(2 if name == "LSTMCell" else 1)] if with_states else None
    run_both(tm, dm, rng.standard_normal((2, 3) if batched else (3,)), states)


def test_relu_cell_matches_torch():
    tm, dm = pair("RNNCell", 3, 4, nonlinearity="relu")
    rng = np.random.default_rng(4)
    run_both(tm, dm, rng.standard_normal((5, 3)), [rng.standard_normal((5, 4))])


@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_float32_matches_torch(name):
    tm, dm = pair(name, 6, 8, num_layers=2, bidirectional=True, batch_first=True, dtype=np.float32)
    run_both(tm, dm, np.random.default_rng(5).standard_normal((4, 7, 6)), dtype=np.float32)


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_long_sequence_matches_torch(name):
    tm, dm = pair(name, 4, 6)
    run_both(tm, dm, np.random.default_rng(6).standard_normal((300, 2, 4)))


def test_eval_mode_dropout_matches_torch():
    tm, dm = pair("LSTM", 3, 4, num_layers=3, dropout=0.5)
    tm.eval()
    dm.eval()
    run_both(tm, dm, np.random.default_rng(7).standard_normal((5, 2, 3)))


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"])
def test_repr_matches_torch(name):
    kwargs = {"bias": False}
    if name in ("RNN", "LSTM", "GRU"):
        kwargs.update(num_layers=2, batch_first=True, dropout=0.25, bidirectional=True)
    tm, dm = pair(name, 3, 4, **kwargs)
    assert repr(dm) == repr(tm)
    assert repr(OURS[name](3, 4)) == repr(getattr(torch.nn, name)(3, 4))
