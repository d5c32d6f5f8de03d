"""The fast paths of ReLU and of the tiled 2x2 max pool, against the plain forms they replace.

ReLU: ``max(x, 0)`` against rows of zeros (large dense float arrays, any memory order) must
give NumPy's ``maximum(x, 0)`` bit for bit (NaN stays NaN, -inf becomes 0) in the input's
memory layout; its backward must give ``grad * (out > 0)`` bit for bit.

Max pool: 2x2 windows tiling a channels-last input record their winners in forward and
work on contiguous copies of the taps. The general path (the same input laid out NCHW)
is the reference: same outputs, indices and gradients, bit for bit, for ties, signed
zeros, ReLU's zero windows, -inf, NaN windows (no winner: zero gradient, index of the
first tap) and non-finite gradients.
"""
import warnings

import numpy as np
import pytest

import deepprimer as dp
from deepprimer import backend
from deepprimer.ops import elementwise
from deepprimer.ops import pooling as P

ROW = backend.LONG_ROW
SMALL = elementwise.RELU_AGAINST_ZEROS_FROM  # from here on ReLU takes the rows of zeros


def bits(a):
    return np.ascontiguousarray(a).view(np.uint8)


def assert_bits_equal(a, b, what=""):
    assert a.shape == b.shape and a.dtype == b.dtype, what
    assert np.array_equal(bits(a), bits(b)), what


def special(shape, dtype, rng):
    """Normals sprinkled with NaN (both signs), +-inf and +-0.0."""
    x = rng.standard_normal(shape)
    flat = x.reshape(-1)
    for value, step in ((np.nan, 7), (-np.nan, 11), (-np.inf, 13), (np.inf, 17), (-0.0, 5), (0.0, 19)):
        flat[rng.integers(0, step):: step] = value
    return x.astype(dtype)


def channels_last(a):
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


# ---- ReLU ------------------------------------------------------------------------------------

LAYOUTS = {
    "c": lambda a: a,
    "channels_last": lambda a: channels_last(a) if a.ndim == 4 else a,
    "fortran": np.asfortranarray,
    "strided": lambda a: a[..., ::2],
    "reversed": lambda a: a[..., ::-1],
    "transposed": lambda a: a.T,
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("shape", [(64, 16, 28, 28), (3, 5, 7, 129), (ROW,), (ROW + 1,), (2 * ROW - 3,),
                                   (ROW - 1,), (64, 64), (SMALL,), (SMALL - 1,), (4, 3), (0, 5)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_relu_forward_is_numpy_maximum_bit_for_bit(shape, layout, dtype):
    x = LAYOUTS[layout](special(shape, dtype, np.random.default_rng(0)))
    out = dp.relu(dp.Tensor(x)).data
    expected = np.maximum(x, 0)
    assert_bits_equal(out, expected)
    assert out.strides == expected.strides  # the input's memory layout is kept
    assert not np.isnan(out[~np.isnan(x)]).any() and np.isnan(out[np.isnan(x)]).all()
    assert (out[np.isneginf(x)] == 0).all()


def test_relu_integer_input_keeps_numpy_result():
    x = np.arange(-ROW, ROW, dtype=np.int32)
    assert_bits_equal(dp.relu(dp.Tensor(x)).data, np.maximum(x, 0))


@pytest.mark.parametrize("layout", ["c", "channels_last", "strided"])
@pytest.mark.parametrize("shape", [(64, 16, 28, 28), (3, 5, 7, 129), (ROW + 3,), (5, 3)])
@pytest.mark.parametrize("grad_layout", ["same", "c", "channels_last"])  # another layout: copied first
def test_relu_backward_is_grad_times_mask_bit_for_bit(shape, layout, grad_layout):
    rng = np.random.default_rng(1)
    x = LAYOUTS[layout](special(shape, np.float32, rng))
    t = dp.Tensor(x, requires_grad=True)
    out = dp.relu(t)
    if grad_layout == "same":
        g = LAYOUTS[layout](special(shape, np.float32, rng))  # non-finite gradients as well
    else:
        g = LAYOUTS[grad_layout](special(x.shape, np.float32, rng))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # inf * 0
        out.backward(dp.Tensor(g))
        expected = g * (np.maximum(x, 0) > 0)
    assert_bits_equal(t.grad.data, expected)


# ---- tiled 2x2 max pool, channels-last -----------------------------------------------------


def pool(x, options, grad):
    """(output, indices, input gradient) of max_pool2d with return_indices."""
    t = dp.Tensor(x, requires_grad=x.dtype.kind == "f")
    out, idx = P.max_pool2d(t, return_indices=True, **options)
    if x.dtype.kind != "f":
        return out.data, idx.data, None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # inf * 0 in the gradient products
        out.backward(dp.Tensor(grad.astype(x.dtype)))
    return out.data, idx.data, t.grad.data


def inputs(kind, shape, dtype, rng):
    if kind == "normal":
        x = rng.standard_normal(shape)
    elif kind == "ties":
        x = rng.integers(-2, 3, shape).astype(float)
    elif kind == "signed_zeros":
        x = rng.choice([0.0, -0.0, 1.0, -1.0], shape)
    elif kind == "relu":  # whole windows tie at 0
        x = np.maximum(rng.standard_normal(shape), 0)
    elif kind == "neg_inf":
        x = rng.choice([-np.inf, -1.0, 2.0], shape, p=[0.6, 0.2, 0.2])
    elif kind == "nan":
        x = special(shape, np.float64, rng)
    return x.astype(dtype)


KINDS = ["normal", "ties", "signed_zeros", "relu", "neg_inf", "nan"]
TILING = [
    {"kernel_size": 2},
    {"kernel_size": 2, "stride": 2, "padding": 1},  # odd sizes padded to even: still tiles
    {"kernel_size": 2, "ceil_mode": True},
    {"kernel_size": (2, 2), "stride": (2, 2), "dilation": 1},
]


@pytest.mark.parametrize("options", TILING, ids=str)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", [(2, 16, 8, 8), (3, 5, 6, 4), (1, 1, 4, 4), (2, 3, 7, 9), (4, 32, 2, 2)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tiled_2x2_channels_last_matches_general_path(options, kind, shape, dtype):
    rng = np.random.default_rng([KINDS.index(kind), *shape])
    x = inputs(kind, shape, dtype, rng)
    out_shape = P.max_pool2d(dp.Tensor(x), **options).shape
    g = rng.choice([1.0, -1.0, 0.5, -0.0, np.inf, np.nan], out_shape) if kind in ("ties", "nan") \
        else rng.standard_normal(out_shape)
    general = pool(x, options, g)  # NCHW memory: the general tap-by-tap path
    fast = pool(channels_last(x), options, g)
    for what, a, b in zip(("output", "indices", "gradient"), general, fast):
        assert_bits_equal(np.ascontiguousarray(a), np.ascontiguousarray(b), what)
    assert fast[0].transpose(0, 2, 3, 1).flags.c_contiguous  # channels-last stays channels-last


@pytest.mark.parametrize("dtype", [np.float16, np.int64])
def test_tiled_2x2_other_dtypes(dtype):
    rng = np.random.default_rng(3)
    x = rng.integers(-3, 4, (2, 8, 6, 4)).astype(dtype)
    g = rng.standard_normal((2, 8, 3, 2))
    for a, b in zip(pool(x, {"kernel_size": 2}, g), pool(channels_last(x), {"kernel_size": 2}, g)):
        if a is not None:
            assert_bits_equal(np.ascontiguousarray(a), np.ascontiguousarray(b))


def test_tiled_2x2_path_is_taken_only_where_it_applies(monkeypatch):
    calls = []
    real = P._tiled_2x2

    def spy(vp):
        out, wins = real(vp)
        calls.append(wins is not None)
        return out, wins

    monkeypatch.setattr(P, "_tiled_2x2", spy)
    x = channels_last(np.random.default_rng(4).standard_normal((2, 16, 8, 8)))
    plain = P.max_pool2d(dp.Tensor(x), 2)  # nothing needs a gradient: the running maximum
    assert calls == []
    out = P.max_pool2d(dp.Tensor(x, requires_grad=True), 2)
    assert_bits_equal(out.data, plain.data)
    P.max_pool2d(dp.Tensor(x), 2, return_indices=True)
    nan = x.copy(order="K")  # keeps channels-last
    nan[0, 0, 0, 0] = np.nan  # a NaN window: the general path finds the winners
    P.max_pool2d(dp.Tensor(nan, requires_grad=True), 2)
    P.max_pool2d(dp.Tensor(np.ascontiguousarray(x), requires_grad=True), 2)  # NCHW: general path
    P.max_pool2d(dp.Tensor(x, requires_grad=True), 2, stride=1)  # overlapping: general path
    P.max_pool2d(dp.Tensor(x, requires_grad=True), 3)  # 3x3: general path
    assert calls == [True, True, False]


def test_tiled_2x2_input_changed_in_place_is_refused():
    x = dp.Tensor(channels_last(np.random.default_rng(6).standard_normal((2, 16, 8, 8))), requires_grad=True)
    h = x * 1.0
    out = P.max_pool2d(h, 2)
    with dp.no_grad():
        h += 1
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        out.sum().backward()


def test_an_empty_batch_pools_and_backpropagates():
    x = dp.Tensor(np.zeros((0, 3, 4, 4), np.float32), requires_grad=True)
    out = P.max_pool2d(x, 2)
    out.sum().backward()
    assert out.shape == (0, 3, 2, 2) and x.grad.shape == (0, 3, 4, 4)
