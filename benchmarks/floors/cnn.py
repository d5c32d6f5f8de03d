"""Two-conv CNN training step by hand, channels-last inside, NCHW input as the API takes it.

conv 3x3 pad 1: the input is copied into a zero-bordered buffer, its 3x3 windows
(``sliding_window_view``, a view) are copied once into an im2col buffer, and one GEMM does
the convolution. The weight gradient is one GEMM against the same columns; the input
gradient is one small GEMM per kernel tap plus a shifted slice-add (9 for 3x3), which beats
scattering back through the strided window view. Max-pool 2x2 is pairwise maxima; its
backward routes the gradient where the input equals the maximum, with ReLU's mask applied
on the pooled (4x smaller) array.

Every large array lives in a buffer allocated once and written with ``out=``: fresh
multi-megabyte temporaries each step cost thousands of page faults per step once glibc
hands freed memory back to the kernel, and a hand-written step would not pay that.
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from . import optim
from .mlp import init_linear, softmax_cross_entropy


class Conv3x3:
    """3x3, stride 1, padding 1 convolution of (B, H, W, C_in) into (B*H*W, C_out) rows."""

    def __init__(self, rng, c_in, c_out, batch, height, width):
        w, b = init_linear(rng, c_in * 9, c_out)
        self.weight = w.reshape(c_out, c_in, 3, 3)  # torch's layout (out, in, kh, kw)
        self.bias = b
        self.shape = (batch, height, width, c_in)
        rows = batch * height * width
        self.padded = np.zeros((batch, height + 2, width + 2, c_in), np.float32)
        self.cols = np.empty((rows, c_in * 9), np.float32)
        self.out = np.empty((rows, c_out), np.float32)
        self.dpad = np.empty_like(self.padded)
        self.tap = np.empty((rows, c_in), np.float32)
        self.ones = np.ones(rows, np.float32)

    def forward(self, x):
        self.padded[:, 1:-1, 1:-1, :] = x
        windows = sliding_window_view(self.padded, (3, 3), axis=(1, 2))  # (B, H, W, C, 3, 3)
        np.copyto(self.cols.reshape(windows.shape), windows)
        np.matmul(self.cols, self.weight.reshape(len(self.bias), -1).T, out=self.out)
        self.out += self.bias
        return self.out

    def backward(self, dout, need_input_grad):
        """(dW, db) and, if asked, d(input) as a (B, H, W, C_in) view of a reused buffer."""
        dw = (dout.T @ self.cols).reshape(self.weight.shape)
        db = self.ones @ dout
        if not need_input_grad:
            return dw, db, None
        batch, height, width, c_in = self.shape
        self.dpad.fill(0)
        taps = self.weight.transpose(2, 3, 0, 1).copy()  # (3, 3, C_out, C_in)
        tap = self.tap.reshape(batch, height, width, c_in)
        for i in range(3):
            for j in range(3):
                np.matmul(dout, taps[i, j], out=self.tap)
                self.dpad[:, i:i + height, j:j + width, :] += tap
        return dw, db, self.dpad[:, 1:-1, 1:-1, :]


class ReluPool:
    """ReLU then 2x2 max-pool of (B*H*W, C) rows seen as (B, H, W, C), and its backward."""

    def __init__(self, batch, height, width, channels):
        self.shape = (batch, height // 2, 2, width // 2, 2, channels)
        self.rows = np.empty((batch, height // 2, width // 2, 2, channels), np.float32)
        self.pooled = np.empty((batch, height // 2, width // 2, channels), np.float32)
        self.mask = np.empty(self.shape, bool)
        self.grad = np.empty(self.shape, np.float32)

    def forward(self, z):
        np.maximum(z, 0, out=z)
        self.blocks = blocks = z.reshape(self.shape)
        np.maximum(blocks[:, :, 0], blocks[:, :, 1], out=self.rows)
        return np.maximum(self.rows[:, :, :, 0], self.rows[:, :, :, 1], out=self.pooled)

    def backward(self, dpooled):
        """Gradient w.r.t. the pre-ReLU input, as (B*H*W, C) rows."""
        pooled = self.pooled[:, :, None, :, None, :]
        dpooled = (dpooled * (self.pooled > 0))[:, :, None, :, None, :]
        np.equal(self.blocks, pooled, out=self.mask)
        np.multiply(self.mask, dpooled, out=self.grad)
        return self.grad.reshape(-1, self.shape[-1])


class CNNFloor:
    """conv(1->16)+ReLU+pool, conv(16->32)+ReLU+pool, linear(32*7*7 -> 10); SGD or Adam."""

    def __init__(self, optimizer, batch=64, seed=0):
        rng = np.random.default_rng(seed)
        self.conv1, self.pool1 = Conv3x3(rng, 1, 16, batch, 28, 28), ReluPool(batch, 28, 28, 16)
        self.conv2, self.pool2 = Conv3x3(rng, 16, 32, batch, 14, 14), ReluPool(batch, 14, 14, 32)
        self.fc_w, self.fc_b = init_linear(rng, 32 * 7 * 7, 10)
        self.ones = np.ones(batch, np.float32)
        self.params = [self.conv1.weight, self.conv1.bias, self.conv2.weight, self.conv2.bias,
                       self.fc_w, self.fc_b]
        self.opt = optim.make(optimizer, self.params)

    def step(self, x, y):
        p1 = self.pool1.forward(self.conv1.forward(x.transpose(0, 2, 3, 1)))
        p2 = self.pool2.forward(self.conv2.forward(p1))
        flat = p2.reshape(len(x), -1)
        logits = flat @ self.fc_w.T
        logits += self.fc_b
        loss, dlogits = softmax_cross_entropy(logits, y)

        dfc_w, dfc_b = dlogits.T @ flat, self.ones @ dlogits
        dp2 = (dlogits @ self.fc_w).reshape(p2.shape)
        dw2, db2, dp1 = self.conv2.backward(self.pool2.backward(dp2), True)
        dw1, db1, _ = self.conv1.backward(self.pool1.backward(dp1), False)
        self.opt.step([dw1, db1, dw2, db2, dfc_w, dfc_b])
        return loss
