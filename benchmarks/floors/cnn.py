"""Two-conv CNN training step by hand, batch-last inside: every activation is (C, H, W, N).

Layout. With the batch innermost, shifting a whole layer by a pixel (a conv's kernel tap, a
pool's window tap) is a view whose contiguous runs are at least N = 64 floats, so NumPy's
loops stay long (ufuncs over runs of 16-32 floats, as channels-last taps give, are several
times slower); and (C, H, W) is torch's flattening order, so the linear layer is one GEMM
on the last activation as it lies, with torch's weight layout. Each conv's bias is the
weight of an extra im2col row of ones: the forward GEMM adds it and the weight gradient's
GEMM gives its gradient (the parameters are views of one (out, in * 9 + 1) matrix).

conv1 (one input channel): its im2col matrix (9 taps, pixels) is copied once from an
``as_strided`` view of the zero-bordered input, with the pixels ordered for the pool that
follows: pool window tap (p, q) first, then the window (i, j, n). conv1's output (one
GEMM) then holds the four taps of every 2x2 window as four contiguous blocks, so pool1
compares contiguous arrays, and its backward writes the gradient straight in the order
conv1's weight gradient (one GEMM against the same matrix, kept from forward) reads it:
no gather, no scatter. conv1 needs no input gradient.

conv2 works on 14x14 images laid out on a grid of rows of 15 (``Grid``): pixel (y, x) at
grid position (y + 1, x + 1), column 0 being both the left border of its row and the right
border of the row before. Kernel tap (a, b) of output pixel (y, x) then reads grid position
(y + a) * 15 + (x + b): a constant offset plus (y * 15 + x), so over all outputs (y, x) with
x in 0..14 (x = 14 is a junk column, computed and never read), each tap's input is one flat
slice of the grid. The im2col matrix (144 + 1, 14 * 15 * N) is so copied in long runs, and
one GEMM gives the output, 7% wider than needed. Backward: pool2 writes the output
gradient into the same kind of grid, zero elsewhere, so its junk column reads the border's
zeros and adds nothing. The weight gradient is one GEMM of the kept im2col matrix against
a plain 2-D view of that grid. The input gradient is the transposed convolution (a
correlation with the flipped kernel), one GEMM per tap straight on the tap's flat slice
of the grid, summed: measured faster than copying that grid's 15 MB im2col matrix for
one GEMM, and than one GEMM into per-tap blocks scattered back by shifted adds.

ReLU then 2x2 max-pool is computed as max-pool then ReLU: both give max(0, window's max) bit
for bit, and both send a window's gradient to its first maximum (torch's rule for ties)
when that maximum is positive and nowhere otherwise; the ReLU so runs on the 4x smaller
array. Forward records each window's winner with three comparisons; backward turns them,
with ReLU's mask, into one mask per tap and writes each tap's gradient once: no zeroing.

Other NumPy traps avoided: ``maximum(x, 0)`` against a scalar is ~3x slower than against an
array of zeros; ``np.where`` and ``copyto(where=)`` on large arrays are very slow. Every
large array lives in a buffer allocated once and written with ``out=``: a fresh array of
more than ~128 KB comes from mmap and costs a page fault per 4 KB on first write (the
400 KB linear-layer input gradient took 100 us fresh, 14 us in a kept buffer), which a
hand-written step need not pay.
"""
import numpy as np
from numpy.lib.stride_tricks import as_strided

from . import optim
from .mlp import init_linear, softmax_cross_entropy


def pool_ordered_fields(padded):
    """(3, 3, 2, 2, H/2, W/2, N) view of a one-channel zero-bordered (H+2, W+2, N) input:
    [a, b, p, q, i, j, n] is what kernel tap (a, b) reads for output pixel (2i + p, 2j + q)."""
    sh, sw, sn = padded.strides
    h, w, n = padded.shape[0] - 2, padded.shape[1] - 2, padded.shape[2]
    return as_strided(padded, (3, 3, 2, 2, h // 2, w // 2, n), (sh, sw, sh, sw, 2 * sh, 2 * sw, sn),
                      writeable=False)


class Grid:
    """A (C, size, size, N) batch of images on a zero grid of rows of size + 1 (see the module
    docstring), and the views of it that a 3x3 convolution with padding 1 reads and writes."""

    def __init__(self, channels, size, batch):
        # rows: the top border, the image, the bottom border, and one more, into whose first
        # 2 positions the last tap's slice runs
        self.grid = np.zeros((channels, size + 3, size + 1, batch), np.float32)
        flat = self.grid.reshape(channels, -1)
        self.width = width = size * (size + 1) * batch  # conv output columns (y, x), x in 0..size
        self.images = self.grid[:, 1:size + 1, 1:size + 1]  # (C, size, size, N), written by a pool
        # (C, width) columns (y, x) in a conv output's layout; x = size reads the zero border
        start = (size + 2) * batch  # grid position (1, 1)
        self.columns = flat[:, start:start + width]
        # (C, 3, 3, width): [c, a, b, column (y, x)] is image pixel (y + a - 1, x + b - 1)
        step = batch * flat.itemsize  # bytes from one grid position to the next
        strides = (flat.strides[0], (size + 1) * step, step, flat.itemsize)
        self.fields = as_strided(flat, (channels, 3, 3, width), strides, writeable=False)
        reach = sum((n - 1) * stride for n, stride in zip(self.fields.shape, self.fields.strides)) + flat.itemsize
        assert reach <= self.grid.nbytes, "as_strided does not check bounds: the grid must hold every tap's slice"


class MaxPoolReLU:
    """relu(max of each 2x2 window) of the four window taps ``taps`` (views), and its backward,
    which writes into the four views ``dtaps``.

    Ties go to the first tap in row-major order, as in torch: the comparisons are strict.
    """

    def __init__(self, taps, dtaps):
        self.taps, self.dtaps = taps, dtaps
        shape = taps[0].shape
        self.top = np.empty(shape, np.float32)  # max of taps 0 and 1
        self.bottom = np.empty(shape, np.float32)  # max of taps 2 and 3
        self.wins = np.empty((3,) + shape, bool)  # tap 1 > tap 0, tap 3 > tap 2, bottom > top
        self.won = np.empty((4,) + shape, bool)
        self.positive = np.empty(shape, bool)
        self.zeros = np.zeros(shape[1:], np.float32)  # ReLU against an array, not the scalar 0

    def forward(self, out):
        """Writes relu(max of the window) into ``out``."""
        w0, w1, w2, w3 = self.taps
        right_top, right_bottom, down = self.wins
        np.greater(w1, w0, out=right_top)
        np.greater(w3, w2, out=right_bottom)
        np.maximum(w0, w1, out=self.top)
        np.maximum(w2, w3, out=self.bottom)
        np.greater(self.bottom, self.top, out=down)
        np.maximum(self.top, self.bottom, out=out)
        np.greater(out, self.zeros, out=self.positive)
        np.maximum(out, self.zeros, out=out)

    def backward(self, dout):
        """Each input gets ``dout`` of its window if it is the window's (first) maximum."""
        right_top, right_bottom, down = self.wins
        won = self.won
        np.logical_or(right_top, down, out=won[0])
        np.logical_not(won[0], out=won[0])  # top left: neither its right neighbour nor the bottom pair
        np.greater(right_top, down, out=won[1])  # top right: right_top and not down
        np.greater(down, right_bottom, out=won[2])  # bottom left: down and not right_bottom
        np.logical_and(down, right_bottom, out=won[3])
        won &= self.positive  # ReLU: no gradient where the window's max is <= 0
        for dtap, mask in zip(self.dtaps, won):
            np.multiply(dout, mask, out=dtap)


def window_taps(a):
    """The four taps of the 2x2 windows tiling (C, H, W, N) ``a``, as (C, H/2, W/2, N) views."""
    c, h, w, n = a.shape
    blocks = a.reshape(c, h // 2, 2, w // 2, 2, n)
    return [blocks[:, :, p, :, q] for p in range(2) for q in range(2)]


class CNNFloor:
    """conv(1->16)+ReLU+pool, conv(16->32)+ReLU+pool, linear(32*7*7 -> 10); SGD or Adam.

    Parameters are in torch's layouts: conv weights (out, in, 3, 3), linear (10, 1568).
    """

    def __init__(self, optimizer, batch=64, seed=0):
        rng = np.random.default_rng(seed)
        # each conv's weight and bias side by side, (out, in * 9 + 1): the bias is the weight
        # of an im2col row of ones, so the forward GEMM adds it and the weight gradient's
        # GEMM gives its gradient; the parameters are views of these
        self.wb1, self.wb2 = np.empty((16, 10), np.float32), np.empty((32, 145), np.float32)
        for wb in self.wb1, self.wb2:
            wb[:, :-1], wb[:, -1] = init_linear(rng, wb.shape[1] - 1, wb.shape[0])
        self.w1, self.b1 = self.wb1[:, :-1].reshape(16, 1, 3, 3), self.wb1[:, -1]
        self.w2, self.b2 = self.wb2[:, :-1].reshape(32, 16, 3, 3), self.wb2[:, -1]
        self.fc_w, self.fc_b = init_linear(rng, 32 * 7 * 7, 10)
        self.params = [self.w1, self.b1, self.w2, self.b2, self.fc_w, self.fc_b]
        self.opt = optim.make(optimizer, self.params)
        n, f32 = batch, np.float32

        # conv1 + pool1: the input as (28, 28, N) in a zero border; conv1's output pool-tap-major
        self.x_pad = np.zeros((30, 30, n), f32)
        self.x_fields = pool_ordered_fields(self.x_pad)
        self.cols1 = np.ones((10, 4 * 14 * 14 * n), f32)  # 9 taps, then the bias's ones
        z1, dz1 = np.empty((2, 16, 4, 14, 14, n), f32)  # (channel, pool tap, i, j, n)
        self.z1, self.dz1 = z1.reshape(16, -1), dz1.reshape(16, -1)
        self.pool1 = MaxPoolReLU(list(z1.transpose(1, 0, 2, 3, 4)), list(dz1.transpose(1, 0, 2, 3, 4)))

        # conv2 + pool2: its input and output gradient on grids, its output 15 columns wide
        self.p1, self.dz2 = Grid(16, 14, n), Grid(32, 14, n)
        width = self.p1.width
        self.cols2 = np.ones((16 * 9 + 1, width), f32)
        z2 = np.empty((32, 14, 15, n), f32)
        self.z2 = z2.reshape(32, -1)
        self.pool2 = MaxPoolReLU(window_taps(z2[:, :, :14]), window_taps(self.dz2.images))
        self.p2 = np.empty((32 * 7 * 7, n), f32)  # (C, H, W) rows: torch's flattening order
        self.dp2 = np.empty_like(self.p2)
        dp1 = np.empty((16, 14, 15, n), f32)  # conv2's input gradient, in its output's layout
        self.dp1, self.dp1_images = dp1.reshape(16, -1), dp1[:, :, :14]
        self.block = np.empty((16, width), f32)
        self.ones_batch = np.ones(n, f32)

    def forward(self, x):
        """Logits (N, 10) of an (N, 1, 28, 28) batch; keeps what backward needs."""
        self.x_pad[1:-1, 1:-1] = x[:, 0].transpose(1, 2, 0)
        np.copyto(self.cols1[:9].reshape(self.x_fields.shape), self.x_fields)
        np.matmul(self.wb1, self.cols1, out=self.z1)
        self.pool1.forward(self.p1.images)

        np.copyto(self.cols2[:-1].reshape(self.p1.fields.shape), self.p1.fields)
        np.matmul(self.wb2, self.cols2, out=self.z2)
        self.pool2.forward(self.p2.reshape(32, 7, 7, -1))
        logits = self.p2.T @ self.fc_w.T
        logits += self.fc_b
        return logits

    def backward(self, dlogits):
        """Gradients of all parameters, in ``self.params`` order, from d(loss)/d(logits)."""
        dfc_w, dfc_b = dlogits.T @ self.p2.T, self.ones_batch @ dlogits
        np.matmul(self.fc_w.T, dlogits.T, out=self.dp2)  # into a kept buffer: it is 400 KB

        self.pool2.backward(self.dp2.reshape(32, 7, 7, -1))
        dwb2 = (self.cols2 @ self.dz2.columns.T).T  # the junk column reads zeros: adds nothing
        self.conv2_input_grad()

        self.pool1.backward(self.dp1_images)
        dwb1 = self.dz1 @ self.cols1.T
        return [dwb1[:, :-1].reshape(self.w1.shape), dwb1[:, -1],
                dwb2[:, :-1].reshape(self.w2.shape), dwb2[:, -1], dfc_w, dfc_b]

    def conv2_input_grad(self):
        """d(loss)/d(pool1's output) into ``dp1``: the transposed convolution, a correlation of
        the output gradient with the flipped kernel, one GEMM per tap on its flat slice (one
        GEMM of the whole im2col matrix would need that 15 MB matrix copied first: slower)."""
        taps = self.w2[:, :, ::-1, ::-1].transpose(2, 3, 1, 0)  # (a, b, c, o)
        fields = self.dz2.fields
        for a in range(3):
            for b in range(3):
                if a == b == 0:
                    np.matmul(taps[a, b], fields[:, a, b], out=self.dp1)
                else:
                    np.matmul(taps[a, b], fields[:, a, b], out=self.block)
                    self.dp1 += self.block

    def step(self, x, y):
        loss, dlogits = softmax_cross_entropy(self.forward(x), y)
        self.opt.step(self.backward(dlogits))
        return loss
