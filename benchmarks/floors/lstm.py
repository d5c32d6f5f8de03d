"""One-layer LSTM forward + backward through time by hand, with torch's gate layout (i, f, g, o).

The input projection of all time steps is one GEMM before the loop and the weight
gradients are one GEMM each after it, so the loops hold only what truly is sequential: one
(B, H) x (H, 4H) product per step and a few elementwise ops. The four gates are one
matrix: sigmoid and tanh are both applied as ``s * tanh(s * u) + offset`` with a per-column
``s`` (1/2 for sigmoid gates, 1 for the tanh gate), so each step activates all gates with
one tanh. Everything that does not depend on the recursion (activation derivatives,
tanh(c) products) is computed for all steps at once. All sequence-sized arrays are
buffers reused from step to step (see mlp.py for why).
"""
import numpy as np

from .mlp import Buffers


class LSTMFloor:
    """``step(x, target)``: forward, MSE loss against ``target``, gradients of all weights."""

    def __init__(self, input_size, hidden_size, seed=0):
        rng = np.random.default_rng(seed)
        h4 = 4 * hidden_size
        bound = 1.0 / np.sqrt(hidden_size)  # torch's LSTM init: uniform(+-1/sqrt(hidden)) for all

        def draw(*shape):
            return rng.uniform(-bound, bound, shape).astype(np.float32)

        self.w_ih, self.w_hh = draw(h4, input_size), draw(h4, hidden_size)
        self.b_ih, self.b_hh = draw(h4), draw(h4)
        self.hidden = hidden_size
        half = np.float32(0.5)
        self.scale = np.ones(h4, np.float32)
        self.scale[:2 * hidden_size] = half
        self.scale[3 * hidden_size:] = half
        self.offset = np.where(self.scale == half, half, np.float32(0)).astype(np.float32)
        self.buf = Buffers()

    def forward(self, x):
        """Activated gates (T, B, 4H), hidden states h_0..h_T and cell states c_0..c_T."""
        steps, batch, _ = x.shape
        hid, buf = self.hidden, self.buf
        gates = buf.get("gates", (steps, batch, 4 * hid))
        # every step's input projection in one 2-D GEMM (a 3-D matmul would loop over steps)
        np.matmul(x.reshape(steps * batch, -1), self.w_ih.T, out=gates.reshape(steps * batch, -1))
        gates += self.b_ih + self.b_hh
        hs, cs = buf.get("hs", (steps + 1, batch, hid)), buf.get("cs", (steps + 1, batch, hid))
        hs[0] = 0
        cs[0] = 0
        ig, tanh_c = buf.get("ig", (batch, hid)), buf.get("tanh_c1", (batch, hid))
        w_hh_t, scale, offset = self.w_hh.T, self.scale, self.offset
        for t in range(steps):
            g = gates[t]
            g += hs[t] @ w_hh_t
            g *= scale
            np.tanh(g, out=g)
            g *= scale
            g += offset
            c = cs[t + 1]
            np.multiply(g[:, hid:2 * hid], cs[t], out=c)
            c += np.multiply(g[:, :hid], g[:, 2 * hid:3 * hid], out=ig)
            np.multiply(g[:, 3 * hid:], np.tanh(c, out=tanh_c), out=hs[t + 1])
        return gates, hs, cs

    def step(self, x, target):
        steps, batch, _ = x.shape
        hid, buf = self.hidden, self.buf
        gates, hs, cs = self.forward(x)
        diff = np.subtract(hs[1:], target, out=buf.get("diff", target.shape))
        loss = np.vdot(diff, diff) / diff.size
        dout = diff
        dout *= np.float32(2.0 / diff.size)

        # what the backward recursion needs that does not depend on it, for all t at once
        i, f, gg, o = (gates[..., k * hid:(k + 1) * hid] for k in range(4))
        tanh_c = np.tanh(cs[1:], out=buf.get("tanh_c", (steps, batch, hid)))
        d_act = np.subtract(1, gates, out=buf.get("d_act", gates.shape))
        d_act *= gates  # sigmoid' from the activated value...
        np.multiply(gg, gg, out=d_act[..., 2 * hid:3 * hid])
        np.subtract(1, d_act[..., 2 * hid:3 * hid], out=d_act[..., 2 * hid:3 * hid])  # ...tanh' for g
        carry = buf.get("carry", (steps, batch, 3, hid))  # d(pre-act of i, f, g) / dc
        np.multiply(gg, d_act[..., :hid], out=carry[:, :, 0])
        np.multiply(cs[:-1], d_act[..., hid:2 * hid], out=carry[:, :, 1])
        np.multiply(i, d_act[..., 2 * hid:3 * hid], out=carry[:, :, 2])
        d_o = np.multiply(tanh_c, d_act[..., 3 * hid:], out=buf.get("d_o", tanh_c.shape))  # / dh
        dc_dh = np.multiply(tanh_c, tanh_c, out=tanh_c)
        np.subtract(1, dc_dh, out=dc_dh)
        dc_dh *= o  # dc / dh

        dgates = buf.get("dgates", gates.shape)
        dh, dc = buf.get("dh", (batch, hid)), buf.get("dc", (batch, hid))
        dh_next, dc_next = buf.get("dh_next", (batch, hid)), buf.get("dc_next", (batch, hid))
        dh_next.fill(0)
        dc_next.fill(0)
        w_hh = self.w_hh
        for t in range(steps - 1, -1, -1):
            np.add(dout[t], dh_next, out=dh)
            np.multiply(dh, dc_dh[t], out=dc)
            dc += dc_next
            dg = dgates[t]
            np.multiply(carry[t], dc[:, None, :], out=dg[:, :3 * hid].reshape(batch, 3, hid))
            np.multiply(dh, d_o[t], out=dg[:, 3 * hid:])
            np.multiply(dc, f[t], out=dc_next)
            if t:
                np.matmul(dg, w_hh, out=dh_next)
        dg2d = dgates.reshape(steps * batch, -1)
        d_w_ih = dg2d.T @ x.reshape(steps * batch, -1)
        d_w_hh = dg2d.T @ hs[:-1].reshape(steps * batch, -1)
        ones = buf.get("ones", (steps * batch,))
        ones.fill(1)
        d_b = ones @ dg2d
        self.grads = [d_w_ih, d_w_hh, d_b, d_b]
        return loss
