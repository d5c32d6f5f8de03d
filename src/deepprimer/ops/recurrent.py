"""Recurrent kernels: a whole sequence of RNN, LSTM or GRU steps as one graph node.

A recurrent layer applies the same cell at every time step t = 0 .. T-1 (PyTorch's
definitions, gate order and bias layout):

    RNN   h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)            (or relu)
    LSTM  i, f, g, o = the 4 gate blocks of x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh
          c_t = sigmoid(f) * c_{t-1} + sigmoid(i) * tanh(g)
          h_t = sigmoid(o) * tanh(c_t)
    GRU   r, z = sigmoid(blocks r, z of x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)
          n    = tanh(x_t W_in^T + b_in + r * (h_{t-1} W_hn^T + b_hn))
          h_t  = (1 - z) * n + z * h_{t-1}

The ``*_cell_reference`` functions at the bottom say exactly this with tensor ops: the
readable definition, and what the tests check the fused kernels against. Built that way a
step is a dozen graph nodes, and a sequence's cost is Python overhead. The kernels here are
ONE node per layer and direction, with a hand-written backward:

* forward: the input-to-hidden products of all T steps are one matmul before the loop
  (x is known in advance; only h waits for the previous step). Each step is then one
  matmul h_{t-1} W_hh^T for all gates together plus a few NumPy calls for the
  nonlinearities, written into preallocated arrays that backward keeps.
* backward: backpropagation through time as a NumPy loop from the last step to the first,
  carrying dL/dh (and dL/dc) back one step with one matmul per step. The gradients of the
  gate pre-activations are stored for every step, so the weight gradients are then one
  matmul each over all steps: dW_hh = sum_t dgates_t^T h_{t-1}, dW_ih = sum_t dgates_t^T x_t.
  A loop, not recursion: 10,000 steps are as fine as 10.

Two tricks keep a step to few NumPy calls:

* sigmoid(a) = (1 + tanh(a / 2)) / 2. Halving the sigmoid gates' rows of the weights and
  biases (exact in floating point) lets one tanh call compute every gate of an LSTM step.
* inside the kernel the LSTM's gates are reordered to i, f, o, g, so the three sigmoid
  gates are one slice. Parameters and gradients keep PyTorch's order i, f, g, o.

A node has one output here, the sequence of hidden states; the final states h_n (and c_n)
are further outputs, given as :class:`FinalState` nodes that consume the sequence output
and hand their gradient to the kernel (see there).
"""
from ..autograd import Function
from ..backend import xp
from ..tensor import Tensor
from . import shape as _shape

MODES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}  # gate blocks per mode


# ---- extra outputs: the final states -------------------------------------------------------


class FinalStates:
    """What a sequence node computed besides its output, and the gradients those receive."""

    __slots__ = ("c", "grad_c", "grad_h", "h")

    def __init__(self):
        self.h = self.c = self.grad_h = self.grad_c = None


class FinalState(Function):
    """h_n or c_n: a second output of a sequence node.

    The engine gives a node one output, so the others are nodes of their own that take the
    sequence output as input. Forward returns the state the kernel stored; backward passes
    the gradient to the kernel through the shared :class:`FinalStates` record, and a zero
    gradient (a broadcast view, no memory) to the output, so that the kernel's backward runs
    even when only h_n is used. The engine runs every consumer of a tensor before its
    producer, so the record is filled when the kernel's backward reads it.
    """

    def forward(self, out, finals, which):
        self.finals, self.which, self.out_shape = finals, which, out.shape
        return finals.h if which == "h" else finals.c

    def backward(self, grad):
        f = self.finals
        if self.which == "h":
            f.grad_h = grad if f.grad_h is None else f.grad_h + grad
        else:
            f.grad_c = grad if f.grad_c is None else f.grad_c + grad
        return xp.broadcast_to(xp.zeros((), dtype=grad.dtype), self.out_shape)


def _take_final_grads(finals):
    gh, gc = finals.grad_h, finals.grad_c
    finals.grad_h = finals.grad_c = None  # consumed: a retained graph's next backward starts clean
    return gh, gc


# ---- the shared frame of the three kernels ---------------------------------------------------


class _Sequence(Function):
    """Inputs (x, h0, c0, w_ih, w_hh, b_ih, b_hh); h0/c0/biases may be None (zeros / none).

    Internally time-major: x_t is ``x[t]`` (or ``x[:, t]`` when ``batch_first``) and the
    states live in arrays S of shape (T + 1, B, H): going forward, S[0] = h0 and h_t is
    S[t + 1]; in reverse, S[T] = h0 and h_t is S[t]. Either way the previous states of all
    steps, S[:T] or S[1:], are one contiguous block for the weight-gradient matmul, and
    ``_split`` gives the two views a step reads from and writes to.
    """

    def _frame(self, x, w_hh, reverse, batch_first):
        if batch_first:
            B, T = x.shape[0], x.shape[1]
        else:
            T, B = x.shape[0], x.shape[1]
        H = w_hh.shape[1]
        self.T, self.B, self.H, self.reverse, self.batch_first = T, B, H, reverse, batch_first
        return T, B, H, self._steps(backward=False)

    def _steps(self, backward):
        """The order of the steps: forward in time, or the opposite for reverse; backward
        visits them in the opposite order of the forward pass."""
        T = self.T
        return range(T - 1, -1, -1) if self.reverse != backward else range(T)

    def _input_products(self, x, w, b):
        """x_t w^T + b for every step at once, as a time-major view (T, B, G)."""
        xw = x.reshape(-1, x.shape[-1]) @ w.T
        if b is not None:
            xw += b
        xw = xw.reshape(x.shape[0], x.shape[1], -1)
        return xw.swapaxes(0, 1) if self.batch_first else xw

    def _states(self, h0, dtype):
        T, B, H = self.T, self.B, self.H
        S = xp.empty((T + 1, B, H), dtype=dtype)
        first = T if self.reverse else 0
        if h0 is None:
            S[first] = 0
        else:
            S[first] = h0
        return S

    def _split(self, S):
        """(previous, new) views of a (T + 1, B, H) state array: step t reads ``prev[t]``
        and writes ``new[t]``."""
        T = self.T
        return (S[1:], S[:T]) if self.reverse else (S[:T], S[1:])

    def _output(self, S, finals):
        """The output sequence in the caller's layout, and h_n recorded in ``finals``."""
        T = self.T
        out = S[:T] if self.reverse else S[1:]
        finals.h = S[0] if self.reverse else S[T]
        if self.batch_first:
            return xp.ascontiguousarray(out.swapaxes(0, 1))
        return out

    def _step_grads(self, grad):
        """The output gradient as time-major (T, B, H), and None when it is all zero."""
        if grad.ndim and not any(grad.strides) and not grad.flat[0]:
            return None  # the broadcast zero a FinalState sends: nothing reached the output
        return grad.swapaxes(0, 1) if self.batch_first else grad

    def _weight_grads(self, D, x, prev_states, w_ih, need):
        """dx, dW_ih, dW_hh and the bias gradient from the pre-activation gradients D (T, B, G)
        of all steps: one matmul each."""
        T, B = self.T, self.B
        G = D.shape[-1]
        flat = D.reshape(T * B, G)
        need_x, need_wih, need_whh, need_b = need
        grad_x = grad_wih = grad_whh = grad_b = None
        if need_x:
            grad_x = (flat @ w_ih).reshape(T, B, -1)
            if self.batch_first:
                grad_x = grad_x.swapaxes(0, 1)
        if need_wih:
            # sum over t and b of D[t, b]^T x_t[b]: x in time-major order (a copy if batch_first)
            xt = xp.ascontiguousarray(x.swapaxes(0, 1)) if self.batch_first else x
            grad_wih = flat.T @ xt.reshape(T * B, -1)
        if need_whh:
            grad_whh = flat.T @ prev_states.reshape(T * B, -1)
        if need_b:
            grad_b = xp.ones(T * B, dtype=D.dtype) @ flat  # a GEMV beats a strided sum (PERF-NOTES)
        return grad_x, grad_wih, grad_whh, grad_b


# ---- RNN -------------------------------------------------------------------------------------


class RNNSequence(_Sequence):
    """h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act = tanh or relu, for all t."""

    def forward(self, x, h0, c0, w_ih, w_hh, b_ih, b_hh, relu, reverse, batch_first, finals):
        steps = self._frame(x, w_hh, reverse, batch_first)[-1]
        bias = None if b_ih is None else b_ih + b_hh
        XW = self._input_products(x, w_ih, bias)
        S = self._states(h0, x.dtype)
        s_prev, s_new = self._split(S)
        whh_t = w_hh.T
        for t in steps:
            h = s_new[t]
            xp.matmul(s_prev[t], whh_t, out=h)  # one matmul per step
            h += XW[t]
            if relu:
                xp.maximum(h, 0, out=h)
            else:
                xp.tanh(h, out=h)
        self.relu, self.finals = relu, finals
        self.save_for_backward(x, S, w_ih, w_hh)
        return self._output(S, finals)

    def backward(self, grad):
        x, S, w_ih, w_hh = self.saved
        dout = self._step_grads(grad)
        dh_n, _ = _take_final_grads(self.finals)
        prev_states, hs = self._split(S)
        if self.relu:
            deriv = (hs > 0).astype(hs.dtype)
        else:
            deriv = hs * hs
            xp.subtract(1, deriv, out=deriv)
        D = xp.empty_like(deriv)
        dh = dh_n
        for t in self._steps(backward=True):
            d = D[t]  # dL/d(pre-activation) = (dL/dh_t from the output + from step t+1) * act'
            if dout is None:
                if dh is None:
                    d[...] = 0
                else:
                    xp.multiply(dh, deriv[t], out=d)
            else:
                if dh is None:
                    xp.multiply(dout[t], deriv[t], out=d)
                else:
                    xp.add(dout[t], dh, out=d)
                    d *= deriv[t]
            dh = d @ w_hh
        n = self.needs_input_grad
        gx, gwih, gwhh, gb = self._weight_grads(D, x, prev_states, w_ih, (n[0], n[3], n[4], n[5] or n[6]))
        return gx, (dh if n[1] else None), None, gwih, gwhh, gb, gb


# ---- LSTM ----------------------------------------------------------------------------------

_PERMS = {}


def _lstm_order(H):
    """Row indices that reorder PyTorch's gate blocks i, f, g, o into i, f, o, g."""
    perm = _PERMS.get(H)
    if perm is None:
        blocks = xp.arange(4 * H).reshape(4, H)
        perm = _PERMS[H] = blocks[[0, 1, 3, 2]].reshape(-1)
    return perm


class LSTMSequence(_Sequence):
    """The LSTM over a whole sequence (see the module docstring), one node."""

    def forward(self, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse, batch_first, finals):
        T, B, H, steps = self._frame(x, w_hh, reverse, batch_first)
        dtype = x.dtype
        perm = _lstm_order(H)
        H3 = 3 * H
        half = dtype.type(0.5)
        # gates reordered to i, f, o, g; the sigmoid gates' rows halved: sigmoid(a) = (1 + tanh(a/2)) / 2
        wih = w_ih[perm]
        wih[:H3] *= half
        whh = w_hh[perm]
        whh[:H3] *= half
        bias = None
        if b_ih is not None:
            bias = (b_ih + b_hh)[perm]
            bias[:H3] *= half
        XW = self._input_products(x, wih, bias)
        whh_t = whh.T
        A = xp.empty((T, B, 4 * H), dtype=dtype)  # gate activations i, f, o, g of every step
        S = self._states(h0, dtype)
        C = xp.empty((T + 1, B, H), dtype=dtype)
        first = T if reverse else 0
        if c0 is None:
            C[first] = 0
        else:
            C[first] = c0
        TC = xp.empty((T, B, H), dtype=dtype)  # tanh(c_t)
        ig = xp.empty((B, H), dtype=dtype)
        # per-gate views over all steps, so the loop only indexes by t
        sig, gi, gf, go, gg = A[..., :H3], A[..., :H], A[..., H:2 * H], A[..., 2 * H:H3], A[..., H3:]
        s_prev, s_new, c_prev, c_new = self._split(S) + self._split(C)
        matmul, multiply, tanh = xp.matmul, xp.multiply, xp.tanh
        for t in steps:
            a = A[t]
            matmul(s_prev[t], whh_t, out=a)  # the 4 gates of step t: one matmul
            a += XW[t]
            tanh(a, out=a)
            s = sig[t]
            s *= half
            s += half  # i, f, o = (1 + tanh(a/2)) / 2 = sigmoid(a)
            c = c_new[t]
            multiply(gf[t], c_prev[t], out=c)  # c_t = f * c_{t-1} + i * g
            multiply(gi[t], gg[t], out=ig)
            c += ig
            tc = TC[t]
            tanh(c, out=tc)
            multiply(go[t], tc, out=s_new[t])  # h_t = o * tanh(c_t)
        finals.c = C[0] if reverse else C[T]
        self.finals = finals
        self.save_for_backward(x, A, S, C, TC, w_ih, w_hh)
        return self._output(S, finals)

    def backward(self, grad):
        x, A, S, C, TC, w_ih, w_hh = self.saved
        B, H = self.B, self.H
        H2, H3 = 2 * H, 3 * H
        perm = _lstm_order(H)
        dout = self._step_grads(grad)
        dh, dc_next = _take_final_grads(self.finals)
        # derivatives of the activations for all steps at once: s (1 - s) and 1 - g^2
        deriv = xp.empty_like(A)
        xp.subtract(1, A[..., :H3], out=deriv[..., :H3])
        deriv[..., :H3] *= A[..., :H3]
        xp.multiply(A[..., H3:], A[..., H3:], out=deriv[..., H3:])
        xp.subtract(1, deriv[..., H3:], out=deriv[..., H3:])
        dtanh_c = TC * TC
        xp.subtract(1, dtanh_c, out=dtanh_c)
        whh = w_hh[perm]
        D = xp.empty_like(A)  # gradients of the gate pre-activations (i, f, o, g) of every step
        di, df, do, dg = D[..., :H], D[..., H:H2], D[..., H2:H3], D[..., H3:]
        gi, gf, go, gg = A[..., :H], A[..., H:H2], A[..., H2:H3], A[..., H3:]
        c_prev = self._split(C)[0]
        dc = xp.empty((B, H), dtype=A.dtype)
        multiply, matmul = xp.multiply, xp.matmul
        zero = None
        for t in self._steps(backward=True):
            if dout is not None:
                dh = dout[t] if dh is None else dout[t] + dh
            elif dh is None:
                if zero is None:
                    zero = xp.zeros((B, H), dtype=A.dtype)
                dh = zero
            multiply(dh, TC[t], out=do[t])  # dL/do
            multiply(dh, go[t], out=dc)  # dL/dc_t = dh * o * (1 - tanh(c_t)^2) + dL/dc_t from step t+1
            dc *= dtanh_c[t]
            if dc_next is not None:
                dc += dc_next
            multiply(dc, gg[t], out=di[t])  # dL/di = dc * g
            multiply(dc, c_prev[t], out=df[t])  # dL/df = dc * c_{t-1}
            multiply(dc, gi[t], out=dg[t])  # dL/dg = dc * i
            dc_next = dc * gf[t]
            d = D[t]
            d *= deriv[t]  # through the nonlinearities to the pre-activations
            dh = matmul(d, whh)  # dL/dh_{t-1}: one matmul for all gates
        n = self.needs_input_grad
        gx, gwih, gwhh, gb = self._weight_grads(D, x, self._split(S)[0], w_ih[perm] if n[0] else None,
                                                (n[0], n[3], n[4], n[5] or n[6]))
        inv = _lstm_order(H)  # the reorder swaps two blocks, so it is its own inverse
        gwih = None if gwih is None else gwih[inv]
        gwhh = None if gwhh is None else gwhh[inv]
        gb = None if gb is None else gb[inv]
        return (gx, (dh if n[1] else None), (dc_next if n[2] else None), gwih, gwhh, gb, gb)


# ---- GRU ---------------------------------------------------------------------------------------


class GRUSequence(_Sequence):
    """The GRU over a whole sequence (see the module docstring), one node."""

    def forward(self, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse, batch_first, finals):
        T, B, H, steps = self._frame(x, w_hh, reverse, batch_first)
        dtype = x.dtype
        H2 = 2 * H
        half = dtype.type(0.5)
        wih = w_ih.copy()
        wih[:H2] *= half
        whh = w_hh.copy()
        whh[:H2] *= half
        bias = b_hn = None
        if b_ih is not None:
            bias = b_ih.copy()
            bias[:H2] += b_hh[:H2]  # b_hr, b_hz join the input side; b_hn stays inside r * (...)
            bias[:H2] *= half
            b_hn = b_hh[H2:]
        XW = self._input_products(x, wih, bias)
        whh_t = whh.T
        A = xp.empty((T, B, 3 * H), dtype=dtype)  # r, z, n of every step
        HN = xp.empty((T, B, H), dtype=dtype)  # h_{t-1} W_hn^T + b_hn, which r multiplies
        S = self._states(h0, dtype)
        s_prev, s_new = self._split(S)
        gh = xp.empty((B, 3 * H), dtype=dtype)
        for t in steps:
            a, xw, hprev, h = A[t], XW[t], s_prev[t], s_new[t]
            xp.matmul(hprev, whh_t, out=gh)  # the 3 hidden-side products of step t: one matmul
            rz = a[:, :H2]
            xp.add(gh[:, :H2], xw[:, :H2], out=rz)
            xp.tanh(rz, out=rz)
            rz *= half
            rz += half
            hn = HN[t]
            if b_hn is None:
                hn[...] = gh[:, H2:]
            else:
                xp.add(gh[:, H2:], b_hn, out=hn)
            nn = a[:, H2:]
            xp.multiply(a[:, :H], hn, out=nn)
            nn += xw[:, H2:]
            xp.tanh(nn, out=nn)
            xp.subtract(hprev, nn, out=h)  # h_t = n + z * (h_{t-1} - n)
            h *= a[:, H:H2]
            h += nn
        self.finals = finals
        self.save_for_backward(x, A, HN, S, w_ih, w_hh)
        return self._output(S, finals)

    def backward(self, grad):
        x, A, HN, S, w_ih, w_hh = self.saved
        B, H = self.B, self.H
        H2 = 2 * H
        dtype = A.dtype
        dout = self._step_grads(grad)
        dh, _ = _take_final_grads(self.finals)
        prev_states = self._split(S)[0]
        r, z, n = A[..., :H], A[..., H:H2], A[..., H2:]
        # per-step factors for all steps at once:
        #   dn_pre = dh * (1 - z)(1 - n^2);  dz_pre = dh * (h_{t-1} - n) z (1 - z)
        #   dr_pre = dn_pre * hn * r (1 - r); d(hn) = dn_pre * r
        fn = 1 - n * n
        fn *= 1 - z
        fz = prev_states - n
        fz *= z
        fz *= 1 - z
        fr = 1 - r
        fr *= r
        fr *= HN
        DX = xp.empty_like(A)  # gradients of the input-side pre-activations r, z, n
        DH = xp.empty_like(A)  # gradients of the hidden-side products r, z, hn
        zero = None
        for t in self._steps(backward=True):
            dx, dhh = DX[t], DH[t]
            if dout is not None:
                dh = dout[t] if dh is None else dout[t] + dh
            elif dh is None:
                if zero is None:
                    zero = xp.zeros((B, H), dtype=dtype)
                dh = zero
            dn = dx[:, H2:]
            xp.multiply(dh, fn[t], out=dn)
            xp.multiply(dh, fz[t], out=dx[:, H:H2])
            xp.multiply(dn, fr[t], out=dx[:, :H])
            dhh[:, :H2] = dx[:, :H2]
            xp.multiply(dn, r[t], out=dhh[:, H2:])
            nxt = dhh @ w_hh  # dL/dh_{t-1}: through the gates (one matmul) and through z * h_{t-1}
            nxt += dh * z[t]
            dh = nxt
        nd = self.needs_input_grad
        gx, gwih, _, gbih = self._weight_grads(DX, x, prev_states, w_ih, (nd[0], nd[3], False, nd[5]))
        _, _, gwhh, gbhh = self._weight_grads(DH, x, prev_states, w_ih, (False, False, nd[4], nd[6]))
        return gx, (dh if nd[1] else None), None, gwih, gwhh, gbih, gbhh


def recurrent_layer(mode, x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False, batch_first=False):
    """One layer, one direction, over the whole sequence, fused: ``(output, h_n, c_n)``.

    ``x`` is (T, B, I), or (B, T, I) with ``batch_first``; ``h0``/``c0`` (B, H) or None for
    zeros; ``c0`` and the returned ``c_n`` only for "LSTM" (else None). The output is (T, B, H)
    or (B, T, H), in time order also when ``reverse`` runs the steps from last to first.
    Shapes and dtypes are the caller's to check (the nn layers do).
    """
    if x.shape[0 if not batch_first else 1] == 0:
        raise ValueError(f"recurrent_layer: expected a sequence length greater than 0, got input of shape {tuple(x.shape)}")
    finals = FinalStates()
    args = (x, h0, c0, w_ih, w_hh, b_ih, b_hh)
    if mode == "LSTM":
        out = LSTMSequence.apply(*args, reverse=reverse, batch_first=batch_first, finals=finals)
    elif mode == "GRU":
        out = GRUSequence.apply(*args, reverse=reverse, batch_first=batch_first, finals=finals)
    elif mode in ("RNN_TANH", "RNN_RELU"):
        out = RNNSequence.apply(*args, relu=mode == "RNN_RELU", reverse=reverse,
                                batch_first=batch_first, finals=finals)
    else:
        raise ValueError(f"recurrent_layer: unknown mode {mode!r}; expected one of {sorted(MODES)}")
    h_n = FinalState.apply(out, finals=finals, which="h")
    c_n = FinalState.apply(out, finals=finals, which="c") if mode == "LSTM" else None
    return out, h_n, c_n


# ---- the reference: the same cells written with tensor ops ---------------------------------


def _affine(x, h, w_ih, w_hh, b_ih, b_hh):
    gates = x @ w_ih.T + h @ w_hh.T
    if b_ih is not None:
        gates = gates + b_ih + b_hh
    return gates


def rnn_cell_reference(x, h, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh"):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu), with tensor ops."""
    pre = _affine(x, h, w_ih, w_hh, b_ih, b_hh)
    return pre.tanh() if nonlinearity == "tanh" else pre.relu()


def lstm_cell_reference(x, h, c, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step with tensor ops: returns (h', c'). Gate blocks in PyTorch's order i, f, g, o."""
    i, f, g, o = _affine(x, h, w_ih, w_hh, b_ih, b_hh).chunk(4, dim=-1)
    i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
    c = f * c + i * g
    h = o * c.tanh()
    return h, c


def gru_cell_reference(x, h, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step with tensor ops: h' = (1 - z) n + z h. Gate blocks in PyTorch's order r, z, n."""
    xr, xz, xn = (x @ w_ih.T + (b_ih if b_ih is not None else 0.0)).chunk(3, dim=-1)
    hr, hz, hn = (h @ w_hh.T + (b_hh if b_hh is not None else 0.0)).chunk(3, dim=-1)
    r = (xr + hr).sigmoid()
    z = (xz + hz).sigmoid()
    n = (xn + r * hn).tanh()
    return (1 - z) * n + z * h


def recurrent_layer_reference(mode, x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False,
                              batch_first=False):
    """:func:`recurrent_layer` as a Python loop over the reference cells: ``(output, h_n, c_n)``."""
    if batch_first:
        x = x.transpose(0, 1)
    T, B = x.shape[0], x.shape[1]
    H = w_hh.shape[1]
    zeros = Tensor(xp.zeros((B, H), dtype=x.dtype))
    h = zeros if h0 is None else h0
    c = zeros if c0 is None else c0
    outs = [None] * T
    for t in (range(T - 1, -1, -1) if reverse else range(T)):
        if mode == "LSTM":
            h, c = lstm_cell_reference(x[t], h, c, w_ih, w_hh, b_ih, b_hh)
        elif mode == "GRU":
            h = gru_cell_reference(x[t], h, w_ih, w_hh, b_ih, b_hh)
        else:
            h = rnn_cell_reference(x[t], h, w_ih, w_hh, b_ih, b_hh, "relu" if mode == "RNN_RELU" else "tanh")
        outs[t] = h
    out = _shape.stack(outs, 1 if batch_first else 0)
    return out, h, (c if mode == "LSTM" else None)


__all__ = [
    "MODES",
    "FinalState",
    "FinalStates",
    "GRUSequence",
    "LSTMSequence",
    "RNNSequence",
    "gru_cell_reference",
    "lstm_cell_reference",
    "recurrent_layer",
    "recurrent_layer_reference",
    "rnn_cell_reference",
]
