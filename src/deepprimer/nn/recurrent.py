"""Recurrent layers: RNN, LSTM, GRU over whole sequences, and their one-step cells.

The same names, arguments, parameter names, shapes, gate order and outputs as PyTorch's,
so a PyTorch state dict loads as it is::

    lstm = nn.LSTM(input_size=64, hidden_size=128, num_layers=2, batch_first=True)
    output, (h_n, c_n) = lstm(x)            # x: (batch, seq, 64) -> output (batch, seq, 128)

Parameters of layer k (suffix ``_reverse`` for the backward direction of a bidirectional
layer): ``weight_ih_l{k}`` (gates * hidden, input), ``weight_hh_l{k}`` (gates * hidden,
hidden), ``bias_ih_l{k}``, ``bias_hh_l{k}`` (gates * hidden,), with the gate blocks stacked
in PyTorch's order: LSTM i, f, g, o; GRU r, z, n; gates = 4, 3, 1 for LSTM, GRU, RNN. All
start uniform in (-1/sqrt(hidden), 1/sqrt(hidden)), drawn from the seeded generator.

Each layer and direction runs as one fused node (``deepprimer.ops.recurrent``): one matmul
for the input products of all steps, one per step for the hidden products of all gates,
and backpropagation through time as a loop, so long sequences do not meet any recursion
limit. Not supported: PackedSequence inputs and LSTM's ``proj_size``.
"""
import math
import numbers
import warnings

from ..backend import xp
from ..ops import nn_ops as _nn_ops
from ..ops import shape as _shape
from ..ops.recurrent import recurrent_layer
from ..tensor import Tensor
from . import init
from ._factory import factory_dtype
from .module import Module, Parameter

__all__ = ["GRU", "LSTM", "RNN", "GRUCell", "LSTMCell", "RNNBase", "RNNCell", "RNNCellBase"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _check_sizes(input_size, hidden_size):
    for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} should be of type int, got: {type(value).__name__}")
        if value <= 0:
            raise ValueError(f"{name} must be greater than zero, got {value}")


def uniform_reset(module):
    """torch's init for recurrent layers and cells: every weight and bias uniform in
    (-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
    bound = 1.0 / math.sqrt(module.hidden_size)
    for p in module.parameters():
        init.uniform_(p, -bound, bound)

class RNNBase(Module):
    """The shared frame of RNN, LSTM and GRU: parameters, checks, the loop over layers."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__()
        if mode not in _GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode!r}")
        _check_sizes(input_size, hidden_size)
        if isinstance(num_layers, bool) or not isinstance(num_layers, int) or num_layers <= 0:
            raise ValueError(f"num_layers must be an int greater than zero, got {num_layers!r}")
        if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of an "
                f"element being zeroed, got {dropout!r}"
            )
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero "
                f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                f"num_layers={num_layers}",
                stacklevel=3,
            )
        for name, value in (("bias", bias), ("batch_first", batch_first), ("bidirectional", bidirectional)):
            if not isinstance(value, bool):
                raise TypeError(f"{name} should be of type bool, got: {type(value).__name__}")
        dtype = factory_dtype(device, dtype)
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = 0
        gate_size = _GATES[mode] * hidden_size
        directions = 2 if bidirectional else 1
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * directions
            for direction in range(directions):
                suffix = "_reverse" if direction == 1 else ""
                shapes = [("weight_ih", (gate_size, layer_input)), ("weight_hh", (gate_size, hidden_size))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                names = []
                for base, shape in shapes:
                    name = f"{base}_l{layer}{suffix}"
                    setattr(self, name, Parameter(xp.empty(shape, dtype=dtype)))
                    names.append(name)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self):
        uniform_reset(self)

    def flatten_parameters(self):
        """Accepted for PyTorch compatibility; nothing to do (a cuDNN memory layout in PyTorch)."""

    @property
    def all_weights(self):
        """The parameters, one list [w_ih, w_hh, (b_ih, b_hh)] per layer and direction."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    @property
    def _flat_weights(self):
        return [getattr(self, name) for name in self._flat_weights_names]

    # ---- forward ------------------------------------------------------------------------
    def _check_input(self, input, states):
        """The input and initial states checked, and brought to 3-D (unbatched: a batch of 1)."""
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: expected the input to be a Tensor, got {type(input).__name__}")
        if input.ndim not in (2, 3):
            raise ValueError(
                f"{name}: Expected input to be 2D (seq, features) or 3D "
                f"({'batch, seq' if self.batch_first else 'seq, batch'}, features), got "
                f"{input.ndim}D of shape {tuple(input.shape)} instead"
            )
        if input.shape[-1] != self.input_size:
            raise ValueError(
                f"{name}: input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                f"got {input.shape[-1]} (input of shape {tuple(input.shape)})"
            )
        weight_dtype = self.weight_ih_l0.dtype
        if input.dtype != weight_dtype:
            raise ValueError(
                f"{name}: input dtype ({input.dtype}) does not match weight dtype ({weight_dtype}). "
                f"Convert the input: input.to(dp.{weight_dtype}), or the model: model.to(dp.{input.dtype})"
            )
        batched = input.ndim == 3
        if not batched:
            input = input.unsqueeze(1)  # (seq, 1, features): time-major, batch of one
        batch_first = self.batch_first and batched
        batch = input.shape[0] if batch_first else input.shape[1]
        expected = (self.num_layers * (2 if self.bidirectional else 1), batch, self.hidden_size)
        checked = []
        for i, state in enumerate(states):
            if state is None:
                checked.append(None)
                continue
            what = "hx" if len(states) == 1 else ("h_0", "c_0")[i]
            if not isinstance(state, Tensor):
                raise TypeError(f"{name}: {what} must be a Tensor, got {type(state).__name__}")
            if state.ndim != (3 if batched else 2):
                raise ValueError(
                    f"{name}: for {'batched 3-D' if batched else 'unbatched 2-D'} input, {what} should "
                    f"also be {3 if batched else 2}-D but got {state.ndim}-D of shape {tuple(state.shape)}"
                )
            shape = expected if batched else (expected[0], expected[2])
            if tuple(state.shape) != shape:
                raise ValueError(
                    f"{name}: Expected {what} of shape {shape} (num_layers * num_directions, "
                    f"{'batch, ' if batched else ''}hidden_size), got {tuple(state.shape)}"
                )
            if not batched:
                state = state.unsqueeze(1)
            if state.dtype != weight_dtype:
                raise ValueError(f"{name}: {what} dtype ({state.dtype}) does not match weight dtype ({weight_dtype})")
            checked.append(state)
        return input, checked, batched, batch_first

    def _run(self, input, h0, c0, batch_first):
        """All layers and directions: (output, h_n, c_n) with 3-D tensors (c_n None but for LSTM)."""
        mode = self.mode
        directions = 2 if self.bidirectional else 1
        x = input
        h_list, c_list = [], []
        d = self.__dict__
        for layer in range(self.num_layers):
            outs = []
            for direction in range(directions):
                k = layer * directions + direction
                names = self._all_weights[k]
                w_ih, w_hh = d[names[0]], d[names[1]]
                b_ih, b_hh = (d[names[2]], d[names[3]]) if self.bias else (None, None)
                out, h_n, c_n = recurrent_layer(
                    mode, x, None if h0 is None else h0[k], None if c0 is None else c0[k],
                    w_ih, w_hh, b_ih, b_hh, reverse=direction == 1, batch_first=batch_first,
                )
                outs.append(out)
                h_list.append(h_n)
                c_list.append(c_n)
            x = outs[0] if directions == 1 else _shape.cat(outs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = _nn_ops.dropout(x, self.dropout, True)
        h_n = h_list[0].unsqueeze(0) if len(h_list) == 1 else _shape.stack(h_list)
        c_n = None
        if mode == "LSTM":
            c_n = c_list[0].unsqueeze(0) if len(c_list) == 1 else _shape.stack(c_list)
        return x, h_n, c_n

    def _forward(self, input, states):
        input, (h0, *rest), batched, batch_first = self._check_input(input, states)
        c0 = rest[0] if rest else None
        output, h_n, c_n = self._run(input, h0, c0, batch_first)
        if not batched:
            output = output.squeeze(1)
            h_n = h_n.squeeze(1)
            c_n = None if c_n is None else c_n.squeeze(1)
        return output, h_n, c_n

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (``nonlinearity='relu'``
    for relu), stacked ``num_layers`` deep.

    ``forward(input, hx=None)`` -> ``(output, h_n)``. input (L, N, H_in), or (N, L, H_in)
    with ``batch_first``, or (L, H_in) unbatched; hx and h_n (D * num_layers, N, H_out)
    (D = 2 if bidirectional); output (L, N, D * H_out), the last layer's h_t for every t.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None):
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(mode, input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        output, h_n, _ = self._forward(input, [hx])
        return output, h_n


class LSTM(RNNBase):
    """Long short-term memory, stacked ``num_layers`` deep (gates i, f, g, o as in PyTorch)::

        i, f, o = sigmoid(...), g = tanh(...)    (each x_t W_i*^T + b_i* + h_{t-1} W_h*^T + b_h*)
        c_t = f * c_{t-1} + i * g,   h_t = o * tanh(c_t)

    ``forward(input, hx=None)`` -> ``(output, (h_n, c_n))``, hx = (h_0, c_0) or None for
    zeros; shapes as for :class:`RNN`, c like h.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device, dtype)

    def forward(self, input, hx=None):
        if hx is None:
            states = [None, None]
        elif isinstance(hx, (tuple, list)) and len(hx) == 2:
            states = list(hx)
        else:
            raise TypeError("LSTM: hx must be a tuple (h_0, c_0) of tensors, or None for zeros")
        output, h_n, c_n = self._forward(input, states)
        return output, (h_n, c_n)


class GRU(RNNBase):
    """Gated recurrent unit, stacked ``num_layers`` deep (gates r, z, n as in PyTorch)::

        r, z = sigmoid(x_t W_i*^T + b_i* + h_{t-1} W_h*^T + b_h*)
        n = tanh(x_t W_in^T + b_in + r * (h_{t-1} W_hn^T + b_hn))
        h_t = (1 - z) * n + z * h_{t-1}

    ``forward(input, hx=None)`` -> ``(output, h_n)``; shapes as for :class:`RNN`.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device, dtype)

    def forward(self, input, hx=None):
        output, h_n, _ = self._forward(input, [hx])
        return output, h_n


# ---- cells: one time step -------------------------------------------------------------------


class RNNCellBase(Module):
    """The shared frame of the cells: ``weight_ih`` (gates * hidden, input), ``weight_hh``
    (gates * hidden, hidden), ``bias_ih``, ``bias_hh`` (gates * hidden,)."""

    _mode = None

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        _check_sizes(input_size, hidden_size)
        dtype = factory_dtype(device, dtype)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(xp.empty((num_chunks * hidden_size, input_size), dtype=dtype))
        self.weight_hh = Parameter(xp.empty((num_chunks * hidden_size, hidden_size), dtype=dtype))
        if bias:
            self.bias_ih = Parameter(xp.empty(num_chunks * hidden_size, dtype=dtype))
            self.bias_hh = Parameter(xp.empty(num_chunks * hidden_size, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        uniform_reset(self)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _step(self, input, states):
        """One step of the fused kernel (a sequence of length 1): (h', c' or None)."""
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: expected the input to be a Tensor, got {type(input).__name__}")
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise ValueError(
                f"{name}: input has inconsistent input_size: got {input.shape[-1]} expected "
                f"{self.input_size} (input of shape {tuple(input.shape)})"
            )
        if input.dtype != self.weight_ih.dtype:
            raise ValueError(
                f"{name}: input dtype ({input.dtype}) does not match weight dtype ({self.weight_ih.dtype}). "
                f"Convert the input: input.to(dp.{self.weight_ih.dtype}), or the model: model.to(dp.{input.dtype})"
            )
        batched = input.ndim == 2
        batch = input.shape[0] if batched else 1
        checked = []
        for i, state in enumerate(states):
            if state is None:
                checked.append(None)
                continue
            what = "hx" if len(states) == 1 else f"hx[{i}]"
            if not isinstance(state, Tensor):
                raise TypeError(f"{name}: {what} must be a Tensor, got {type(state).__name__}")
            if state.ndim != input.ndim:
                raise ValueError(
                    f"{name}: Expected {what} to be {input.ndim}D like the input, got {state.ndim}D "
                    f"of shape {tuple(state.shape)}"
                )
            expected = (batch, self.hidden_size) if batched else (self.hidden_size,)
            if tuple(state.shape) != expected:
                raise ValueError(
                    f"{name}: Expected {what} of shape {expected} (input batch size {batch}, "
                    f"hidden_size {self.hidden_size}), got {tuple(state.shape)}"
                )
            if state.dtype != input.dtype:
                raise ValueError(f"{name}: {what} dtype ({state.dtype}) does not match the input's ({input.dtype})")
            checked.append(state if batched else state.unsqueeze(0))
        x = input.unsqueeze(0) if batched else input.reshape(1, 1, -1)  # a sequence of one step
        h0 = checked[0]
        c0 = checked[1] if len(checked) > 1 else None
        _, h, c = recurrent_layer(self._mode, x, h0, c0, self.weight_ih, self.weight_hh,
                                  self.bias_ih, self.bias_hh)
        if not batched:
            h = h.squeeze(0)
            c = None if c is None else c.squeeze(0)
        return h, c


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu). ``forward(input, hx=None)`` -> h';
    input (N, H_in) or (H_in,), hx and h' (N, H_out) or (H_out,)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}. Select from 'tanh' or 'relu'.")
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity
        self._mode = mode

    def forward(self, input, hx=None):
        return self._step(input, [hx])[0]


class LSTMCell(RNNCellBase):
    """One LSTM step. ``forward(input, hx=None)`` -> (h', c'), hx = (h, c) or None for zeros."""

    _mode = "LSTM"

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        if hx is None:
            states = [None, None]
        elif isinstance(hx, (tuple, list)) and len(hx) == 2:
            states = list(hx)
        else:
            raise TypeError("LSTMCell: hx must be a tuple (h, c) of tensors, or None for zeros")
        return self._step(input, states)


class GRUCell(RNNCellBase):
    """One GRU step. ``forward(input, hx=None)`` -> h'."""

    _mode = "GRU"

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        return self._step(input, [hx])[0]
