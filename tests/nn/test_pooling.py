"""MaxPool2d / AvgPool2d / AdaptiveAvgPool2d / Upsample / Dropout2d: the fast kernels
against the references built from primitive ops, gradcheck, shapes for every option,
max-pool gradient routing, channel dropout's masks, and the error messages."""
import itertools
import warnings

import numpy as np
import pytest

import deepprimer as dp
from deepprimer.autograd.gradcheck import gradcheck
from deepprimer.nn.channel_dropout import Dropout1d, Dropout2d, Dropout3d
from deepprimer.nn.pooling import (
    AdaptiveAvgPool2d,
    AvgPool2d,
    MaxPool2d,
    Upsample,
    UpsamplingNearest2d,
)
from deepprimer.ops import channel_dropout as CD
from deepprimer.ops import conv_reference as R
from deepprimer.ops import pooling as P


def leaf(array, layout="first"):
    if layout == "last":  # the memory layout conv outputs have
        array = np.ascontiguousarray(array.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    return dp.Tensor(array, requires_grad=True)  # no copy: keeps the memory layout


def assert_same(fast, reference, x, kwargs, layout="first"):
    a, b = leaf(x, layout), leaf(x)
    out_a, out_b = fast(a, **kwargs), reference(b, **kwargs)
    assert out_a.shape == out_b.shape
    np.testing.assert_allclose(out_a.data, out_b.data, rtol=1e-12)
    g = np.random.default_rng(1).standard_normal(out_a.shape)
    out_a.backward(dp.tensor(g))
    out_b.backward(dp.tensor(g))
    np.testing.assert_allclose(a.grad.data, b.grad.data, rtol=1e-12, atol=1e-14)


X = np.random.default_rng(0).standard_normal((2, 3, 7, 8))

MAX_OPTIONS = [
    {"kernel_size": k, "stride": s, "padding": p, "dilation": d, "ceil_mode": c}
    for k, s, p, d, c in itertools.product([2, 3], [None, 1, 2], [0, 1], [1, 2], [False, True])
    if p <= ((k - 1) * d + 1) // 2
]


@pytest.mark.parametrize("layout", ["first", "last"])
@pytest.mark.parametrize("options", MAX_OPTIONS, ids=[str(o) for o in MAX_OPTIONS])
def test_max_pool2d_matches_reference(options, layout):
    assert_same(P.max_pool2d, R.max_pool2d_reference, X, options, layout)


AVG_OPTIONS = [
    {"kernel_size": k, "stride": s, "padding": p, "ceil_mode": c, "count_include_pad": i}
    for k, s, p, c, i in itertools.product([2, 3], [None, 2], [0, 1], [False, True], [True, False])
    if p <= k // 2
]


@pytest.mark.parametrize("layout", ["first", "last"])
@pytest.mark.parametrize("options", AVG_OPTIONS, ids=[str(o) for o in AVG_OPTIONS])
def test_avg_pool2d_matches_reference(options, layout):
    assert_same(P.avg_pool2d, R.avg_pool2d_reference, X, options, layout)


@pytest.mark.parametrize("size", [1, 2, 3, (3, 5), (None, 2), (7, 8), (9, 11)])
def test_adaptive_avg_pool2d_matches_reference(size):
    assert_same(P.adaptive_avg_pool2d, R.adaptive_avg_pool2d_reference, X, {"output_size": size})


@pytest.mark.parametrize("size", [(14, 16), (10, 3), (7, 8), (3, 20)])
def test_interpolate_matches_reference(size):
    assert_same(
        lambda x, size: P.interpolate(x, size=size), R.interpolate_nearest_reference, X, {"size": size}
    )


# ---- gradcheck -------------------------------------------------------------------------------


def double(*shape):
    return dp.tensor(np.random.default_rng(sum(shape)).standard_normal(shape), requires_grad=True)


@pytest.mark.parametrize("options", [
    {"kernel_size": 2}, {"kernel_size": 3, "stride": 1, "padding": 1}, {"kernel_size": 2, "stride": 1, "dilation": 2, "ceil_mode": True},
])
def test_max_pool2d_gradcheck(options):
    assert gradcheck(lambda x: P.max_pool2d(x, **options), (double(1, 2, 5, 4),))


@pytest.mark.parametrize("options", [
    {"kernel_size": 2}, {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False, "ceil_mode": True},
    {"kernel_size": (1, 3), "stride": 1, "divisor_override": 2},
])
def test_avg_pool2d_gradcheck(options):
    assert gradcheck(lambda x: P.avg_pool2d(x, **options), (double(1, 2, 5, 4),))


def test_adaptive_and_upsample_gradcheck():
    assert gradcheck(lambda x: P.adaptive_avg_pool2d(x, (2, 3)), (double(1, 2, 5, 4),))
    assert gradcheck(lambda x: P.interpolate(x, scale_factor=(2, 1.5)), (double(1, 2, 3, 4),))
    assert gradcheck(lambda x: P.interpolate(x, size=(2, 3)), (double(1, 1, 5, 4),))  # downsampling


# ---- what max-pool backward does ----------------------------------------------------------------


def test_max_pool_gradient_goes_to_the_argmax():
    x = dp.tensor([[[[1.0, 5.0, 2.0, 0.0], [3.0, 4.0, 9.0, 9.0]]]], requires_grad=True)
    out, idx = P.max_pool2d(x, 2, return_indices=True)
    assert out.tolist() == [[[[5.0, 9.0]]]]
    assert idx.tolist() == [[[[1, 6]]]] and idx.dtype == dp.int64
    out.backward(dp.tensor([[[[10.0, 20.0]]]]))
    # ties (9, 9): the first in the window, row by row, takes it all, as in torch
    assert x.grad.tolist() == [[[[0.0, 10.0, 0.0, 0.0], [0.0, 0.0, 20.0, 0.0]]]]


def test_max_pool_overlapping_windows_accumulate():
    x = dp.tensor([[[[0.0, 1.0, 0.0], [0.0, 7.0, 0.0], [2.0, 0.0, 3.0]]]], requires_grad=True)
    P.max_pool2d(x, 2, stride=1).sum().backward()
    assert x.grad.tolist() == [[[[0.0, 0.0, 0.0], [0.0, 4.0, 0.0], [0.0, 0.0, 0.0]]]]


def test_channels_last_layout_is_kept():
    """Pooling a channels-last array (a conv's output) gives a channels-last result."""
    x = leaf(X, "last")
    out = P.max_pool2d(x, 2)
    assert out.data.transpose(0, 2, 3, 1).flags.c_contiguous
    np.testing.assert_array_equal(out.data, P.max_pool2d(dp.tensor(X), 2).data)


# ---- shapes -----------------------------------------------------------------------------------


def pooled(size, k, s, p, d, ceil):
    span = size + 2 * p - d * (k - 1) - 1
    out = -(-span // s) + 1 if ceil else span // s + 1
    if ceil and (out - 1) * s >= size + p:
        out -= 1
    return out


@pytest.mark.parametrize("k, s, p, d, ceil", [
    (k, s, p, d, c) for k, s, p, d, c in itertools.product([1, 2, 3], [1, 2, 3], [0, 1], [1, 2], [False, True])
    if p <= ((k - 1) * d + 1) // 2
])
def test_max_pool_output_shape(k, s, p, d, ceil):
    out = MaxPool2d(k, s, p, d, ceil_mode=ceil)(dp.randn(2, 3, 9, 10))
    assert out.shape == (2, 3, pooled(9, k, s, p, d, ceil), pooled(10, k, s, p, d, ceil))


@pytest.mark.parametrize("k, s, p, ceil", [
    (k, s, p, c) for k, s, p, c in itertools.product([1, 2, 3], [None, 1, 2], [0, 1], [False, True]) if p <= k // 2
])
def test_avg_pool_output_shape(k, s, p, ceil):
    out = AvgPool2d(k, s, p, ceil_mode=ceil)(dp.randn(2, 3, 9, 10))
    s = s or k
    assert out.shape == (2, 3, pooled(9, k, s, p, 1, ceil), pooled(10, k, s, p, 1, ceil))


def test_module_defaults_and_unbatched_input():
    pool = MaxPool2d(2)
    assert pool.stride == 2 and pool.padding == 0 and pool.dilation == 1 and not pool.ceil_mode
    assert pool(dp.randn(3, 8, 6)).shape == (3, 4, 3)
    out, idx = MaxPool2d((2, 3), return_indices=True)(dp.randn(3, 8, 6))
    assert out.shape == idx.shape == (3, 4, 2)
    assert AvgPool2d((3, 1), stride=(1, 2))(dp.randn(1, 2, 5, 5)).shape == (1, 2, 3, 3)
    assert AdaptiveAvgPool2d(1)(dp.randn(4, 8, 5, 7)).shape == (4, 8, 1, 1)
    assert AdaptiveAvgPool2d((None, 2))(dp.randn(4, 8, 5, 7)).shape == (4, 8, 5, 2)
    assert AdaptiveAvgPool2d((3, 4))(dp.randn(8, 5, 7)).shape == (8, 3, 4)


def test_global_average_pool_is_the_mean():
    x = dp.randn(2, 3, 5, 7)
    np.testing.assert_allclose(AdaptiveAvgPool2d(1)(x).data[..., 0, 0], x.data.mean(axis=(2, 3)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kwargs, shape", [
    ({"scale_factor": 2}, (2, 3, 8, 10)),
    ({"scale_factor": (3, 1)}, (2, 3, 12, 5)),
    ({"scale_factor": 1.5}, (2, 3, 6, 7)),
    ({"scale_factor": 0.5}, (2, 3, 2, 2)),
    ({"size": 7}, (2, 3, 7, 7)),
    ({"size": (5, 9)}, (2, 3, 5, 9)),
    ({"size": (4, 5)}, (2, 3, 4, 5)),
    ({"size": (9, 2), "mode": "nearest-exact"}, (2, 3, 9, 2)),
])
def test_upsample_shapes(kwargs, shape):
    assert Upsample(**kwargs)(dp.randn(2, 3, 4, 5)).shape == shape


def test_upsample_nearest_repeats_pixels_and_other_ranks():
    x = dp.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    assert Upsample(scale_factor=2)(x).tolist() == [[[[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]]]
    assert UpsamplingNearest2d(size=(2, 4))(x).tolist() == [[[[1, 1, 2, 2], [3, 3, 4, 4]]]]
    assert P.interpolate(dp.randn(2, 3, 5), scale_factor=3).shape == (2, 3, 15)
    assert P.interpolate(dp.randn(1, 2, 2, 3, 4), size=(4, 3, 2)).shape == (1, 2, 4, 3, 2)
    y = dp.randn(1, 2, 3, 3)
    same = P.interpolate(y, size=(3, 3))
    np.testing.assert_array_equal(same.data, y.data)
    assert same.data is not y.data


def test_upsample_gradient_sums_the_copies():
    x = dp.tensor([[[[1.0, 2.0], [3.0, 4.0]]]], requires_grad=True)
    Upsample(scale_factor=(2, 3))(x).sum().backward()
    assert x.grad.tolist() == [[[[6.0, 6.0], [6.0, 6.0]]]]


def test_module_reprs_match_torch():
    assert repr(MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    assert repr(AvgPool2d(3, 1, 1)) == "AvgPool2d(kernel_size=3, stride=1, padding=1)"
    assert repr(AdaptiveAvgPool2d((None, 3))) == "AdaptiveAvgPool2d(output_size=(None, 3))"
    assert repr(Upsample(scale_factor=2)) == "Upsample(scale_factor=2.0, mode='nearest')"
    assert repr(Upsample(size=(3, 4))) == "Upsample(size=(3, 4), mode='nearest')"
    assert repr(Dropout2d()) == "Dropout2d(p=0.5, inplace=False)"


def test_float32_stays_float32():
    x = dp.randn(2, 3, 6, 6, requires_grad=True)
    for out in (P.max_pool2d(x, 2), P.avg_pool2d(x, 3, 1, 1), P.adaptive_avg_pool2d(x, 4), P.interpolate(x, scale_factor=2)):
        assert out.dtype == dp.float32
        x.grad = None
        out.sum().backward()
        assert x.grad.dtype == dp.float32


# ---- errors -----------------------------------------------------------------------------------


def test_pooling_errors():
    with pytest.raises(ValueError, match="pad should be at most half of effective kernel size, but got pad=2"):
        MaxPool2d(2, padding=2)(dp.randn(1, 1, 4, 4))
    with pytest.raises(ValueError, match="pad should be at most half of kernel size"):
        AvgPool2d(2, padding=2)(dp.randn(1, 1, 4, 4))
    with pytest.raises(ValueError, match=r"output size would be \(1x0x0\): too small"):
        MaxPool2d(3)(dp.randn(1, 1, 2, 2))
    with pytest.raises(ValueError, match=r"expected a 4-D input \(N, C, H, W\)"):
        MaxPool2d(2)(dp.randn(4, 4))
    with pytest.raises(ValueError, match="stride must be >= 1"):
        P.max_pool2d(dp.randn(1, 1, 4, 4), 2, stride=0)
    with pytest.raises(TypeError, match="kernel_size must be an int or a tuple of 2 ints"):
        P.avg_pool2d(dp.randn(1, 1, 4, 4), (2, 2, 2))
    with pytest.raises(ValueError, match="output_size must be positive"):
        AdaptiveAvgPool2d(0)(dp.randn(1, 1, 4, 4))


def test_interpolate_errors():
    x = dp.randn(1, 1, 4, 4)
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        P.interpolate(x)
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        P.interpolate(x, size=3, scale_factor=2)
    with pytest.raises(NotImplementedError, match="mode 'bilinear' is not implemented"):
        P.interpolate(x, scale_factor=2, mode="bilinear")
    with pytest.raises(ValueError, match="size must have 2 entries"):
        P.interpolate(x, size=(2, 2, 2))
    with pytest.raises(ValueError, match="align_corners option can only be set"):
        P.interpolate(x, scale_factor=2, align_corners=True)


# ---- channel dropout ------------------------------------------------------------------------------


def test_dropout2d_zeroes_whole_channels_and_scales_the_rest():
    layer = Dropout2d(p=0.4)
    x = dp.ones(64, 16, 5, 5, requires_grad=True)
    out = layer(x)
    per_channel = out.data.reshape(64, 16, -1)
    assert np.all(per_channel == per_channel[..., :1])  # each map all dropped or all kept
    kept = per_channel[..., 0]
    assert np.all((kept == 0) | np.isclose(kept, 1 / 0.6))
    assert abs((kept == 0).mean() - 0.4) < 0.06
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, out.data)  # d out / d x is the scaled mask


def test_dropout2d_eval_p0_p1_and_seed():
    x = dp.randn(4, 3, 2, 2)
    layer = Dropout2d(0.5).eval()
    assert layer(x) is x
    assert CD.dropout2d(x, p=0.0) is x
    assert not np.any(CD.dropout2d(x, p=1.0).data)
    dp.manual_seed(7)
    a = CD.dropout2d(x, 0.5).data
    dp.manual_seed(7)
    np.testing.assert_array_equal(a, CD.dropout2d(x, 0.5).data)
    assert CD.dropout2d(x.double(), 0.5).dtype == dp.float64


def test_dropout_1d_3d_and_3d_input_warning():
    out = Dropout1d(0.5)(dp.ones(8, 4, 6))
    assert np.all(out.data == out.data[..., :1])
    assert Dropout1d(0.5)(dp.ones(4, 6)).shape == (4, 6)
    out = Dropout3d(0.5)(dp.ones(2, 4, 3, 3, 3))
    assert np.all(out.data.reshape(2, 4, -1) == out.data.reshape(2, 4, -1)[..., :1])
    with pytest.warns(UserWarning, match="taken as \\(N, C, L\\)"):
        Dropout2d(0.5)(dp.ones(2, 3, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Dropout2d(0.5)(dp.ones(2, 3, 4, 4))


def test_dropout_probability_is_checked():
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        Dropout2d(1.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        CD.dropout2d(dp.ones(1, 1, 2, 2), p=-0.1)
