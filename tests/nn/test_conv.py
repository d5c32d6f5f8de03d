"""Conv1d / Conv2d / ConvTranspose2d: the fast kernels against the reference built from
primitive ops (float64, values and gradients), gradcheck, shapes for every option,
parameters and initialisation, and the error messages."""
import itertools
import math

import numpy as np
import pytest

import deepprimer as dp
from deepprimer.autograd.gradcheck import gradcheck
from deepprimer.nn.conv import Conv1d, Conv2d, ConvTranspose2d
from deepprimer.ops import conv as C
from deepprimer.ops import conv_reference as R


def channels_last(array):
    """The same (N, C, H, W) values, laid out (N, H, W, C) in memory: what conv outputs are."""
    return np.ascontiguousarray(array.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


def leaf(array, layout="first"):
    if layout == "last":
        array = channels_last(array)
    return dp.Tensor(array, requires_grad=True)  # no copy: keeps the memory layout


def run(fn, leaves, kwargs, seed):
    out = fn(*leaves, **kwargs)
    grad = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(dp.tensor(grad))
    return out.data, [None if t is None or t.grad is None else t.grad.data for t in leaves]


def assert_same(fast, reference, arrays, kwargs, layout="first"):
    """fast(*arrays) and reference(*arrays) agree in value and in every input's gradient."""
    a = [None if x is None else leaf(x, layout if i == 0 else "first") for i, x in enumerate(arrays)]
    b = [None if x is None else leaf(x) for x in arrays]
    out_a, grads_a = run(fast, a, kwargs, 1)
    out_b, grads_b = run(reference, b, kwargs, 1)
    assert out_a.shape == out_b.shape
    np.testing.assert_allclose(out_a, out_b, rtol=1e-10, atol=1e-12)
    for ga, gb in zip(grads_a, grads_b):
        if ga is not None:
            np.testing.assert_allclose(ga, gb, rtol=1e-10, atol=1e-12)


rng = np.random.default_rng(0)


def normal(*shape):
    return rng.standard_normal(shape)


# ---- fast kernel == reference --------------------------------------------------------------

CONV2D_CASES = [
    # (input shape, weight shape, bias, kwargs)
    ((2, 3, 7, 8), (4, 3, 3, 3), True, {}),
    ((2, 3, 7, 8), (4, 3, 3, 3), True, {"padding": 1}),
    ((2, 3, 7, 8), (4, 3, 3, 3), False, {"padding": (2, 0), "stride": 2}),
    ((2, 3, 9, 8), (5, 3, 3, 2), True, {"stride": (2, 3), "padding": (1, 2), "dilation": (2, 1)}),
    ((2, 4, 7, 8), (6, 2, 3, 3), True, {"groups": 2, "padding": 1}),
    ((2, 4, 9, 9), (4, 1, 3, 3), True, {"groups": 4, "padding": "same", "dilation": 2}),  # depthwise
    ((2, 4, 7, 8), (6, 4, 2, 4), True, {"padding": "same"}),  # even kernel: uneven padding
    ((2, 4, 7, 8), (6, 4, 3, 3), True, {"padding": "valid"}),
    ((1, 1, 6, 6), (3, 1, 6, 6), True, {}),  # the kernel covers the image: 1x1 output
    ((2, 6, 8, 7), (6, 2, 1, 1), True, {"groups": 3, "stride": 2}),  # 1x1 conv
]


@pytest.mark.parametrize("layout", ["first", "last"])
@pytest.mark.parametrize("xs, ws, bias, kwargs", CONV2D_CASES, ids=[str(c[3]) for c in CONV2D_CASES])
def test_conv2d_matches_reference(xs, ws, bias, kwargs, layout):
    arrays = [normal(*xs), normal(*ws), normal(ws[0]) if bias else None]
    assert_same(C.conv2d, R.conv2d_reference, arrays, kwargs, layout)


@pytest.mark.parametrize("keep_cols", [True, False])  # im2col kept by forward, or rebuilt in backward
@pytest.mark.parametrize("layout", ["first", "last"])
@pytest.mark.parametrize("frozen", [(), ("weight",), ("bias",), ("weight", "bias")])
def test_the_bias_column_gives_every_gradient_asked_for(monkeypatch, keep_cols, layout, frozen):
    """With one group the bias rides in the GEMM as the weight of a column of ones; any
    mix of frozen and trainable weight and bias gets the reference's gradients."""
    if not keep_cols:
        monkeypatch.setattr(C, "KEEP_COLS_AT_MOST", -1)
    arrays = [normal(2, 3, 6, 7), normal(4, 3, 3, 3), normal(4)]
    kwargs = {"padding": 1}
    fast = [leaf(arrays[0], layout), leaf(arrays[1]), leaf(arrays[2])]
    slow = [leaf(a) for a in arrays]
    for i, name in ((1, "weight"), (2, "bias")):
        if name in frozen:
            fast[i].requires_grad = slow[i].requires_grad = False
    out_a, grads_a = run(C.conv2d, fast, kwargs, 2)
    out_b, grads_b = run(R.conv2d_reference, slow, kwargs, 2)
    np.testing.assert_allclose(out_a, out_b, rtol=1e-10, atol=1e-12)
    for t, ga, gb in zip(fast, grads_a, grads_b):
        assert (ga is None) == (gb is None) == (not t.requires_grad)
        if ga is not None:
            np.testing.assert_allclose(ga, gb, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kwargs", [
    {}, {"padding": 2, "stride": 2}, {"padding": "same", "dilation": 3}, {"groups": 2, "stride": 3, "padding": 1},
])
def test_conv1d_matches_reference(kwargs):
    arrays = [normal(2, 4, 11), normal(6, 4 // kwargs.get("groups", 1), 3), normal(6)]
    assert_same(C.conv1d, R.conv1d_reference, arrays, kwargs)


CONV_T_CASES = [
    ((2, 3, 4, 5), (3, 2, 3, 3), {}),
    ((2, 3, 4, 5), (3, 2, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1}),
    ((2, 4, 4, 5), (4, 3, 3, 2), {"stride": (2, 3), "padding": (1, 0), "output_padding": (0, 2), "groups": 2, "dilation": (2, 1)}),
    ((2, 4, 3, 3), (4, 1, 2, 2), {"stride": 2, "groups": 4}),
    ((1, 2, 3, 4), (2, 3, 4, 4), {"stride": 3, "padding": 2, "output_padding": 1, "dilation": 2}),
]


@pytest.mark.parametrize("layout", ["first", "last"])
@pytest.mark.parametrize("xs, ws, kwargs", CONV_T_CASES, ids=[str(c[2]) for c in CONV_T_CASES])
def test_conv_transpose2d_matches_reference(xs, ws, kwargs, layout):
    arrays = [normal(*xs), normal(*ws), normal(ws[1] * kwargs.get("groups", 1))]
    assert_same(C.conv_transpose2d, R.conv_transpose2d_reference, arrays, kwargs, layout)


def test_conv_transpose_is_the_adjoint_of_conv():
    """<conv(x), y> == <x, conv_transpose(y)>: the transposed conv is the conv's adjoint."""
    x, w, y = normal(2, 3, 9, 8), normal(4, 3, 3, 3), normal(2, 4, 5, 4)
    kw = {"stride": 2, "padding": 1, "dilation": 1}
    lhs = (C.conv2d(dp.tensor(x), dp.tensor(w), **kw).data * y).sum()
    xt = C.conv_transpose2d(dp.tensor(y), dp.tensor(w), output_padding=(0, 1), **kw).data
    np.testing.assert_allclose(lhs, (x * xt).sum(), rtol=1e-10)


# ---- gradcheck (finite differences) ---------------------------------------------------------


def double(*shape):
    return dp.tensor(np.random.default_rng(sum(shape)).standard_normal(shape), requires_grad=True)


@pytest.mark.parametrize("kwargs, ws", [
    ({"padding": 1}, (2, 2, 3, 3)),
    ({"stride": 2, "dilation": (1, 2), "padding": (0, 1)}, (2, 2, 2, 2)),
    ({"groups": 2, "padding": "same"}, (2, 1, 2, 3)),
])
def test_conv2d_gradcheck(kwargs, ws):
    assert gradcheck(lambda x, w, b: C.conv2d(x, w, b, **kwargs), (double(1, 2, 4, 5), double(*ws), double(ws[0])))


def test_conv1d_gradcheck():
    assert gradcheck(lambda x, w, b: C.conv1d(x, w, b, stride=2, padding=1), (double(2, 2, 5), double(3, 2, 3), double(3)))


def test_conv_transpose2d_gradcheck():
    f = lambda x, w, b: C.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1)  # noqa: E731
    assert gradcheck(f, (double(1, 2, 3, 2), double(2, 2, 3, 3), double(2)))


def test_grouped_conv_transpose2d_gradcheck():
    f = lambda x, w: C.conv_transpose2d(x, w, stride=(1, 2), groups=2, dilation=(2, 1))  # noqa: E731
    assert gradcheck(f, (double(1, 4, 3, 2), double(4, 1, 2, 2)))


# ---- shapes for every option -------------------------------------------------------------------


def expected_len(size, k, s, p, d):
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


@pytest.mark.parametrize("k, s, p, d", list(itertools.product([1, 2, 3], [1, 2, 3], [0, 1, 2], [1, 2])))
def test_conv2d_output_shape(k, s, p, d):
    conv = Conv2d(2, 3, k, stride=s, padding=p, dilation=d)
    out = conv(dp.randn(2, 2, 9, 8))
    assert out.shape == (2, 3, expected_len(9, k, s, p, d), expected_len(8, k, s, p, d))


@pytest.mark.parametrize("k, d", list(itertools.product([1, 2, 3, 4], [1, 2, 3])))
def test_same_padding_keeps_the_size(k, d):
    assert Conv2d(2, 3, k, padding="same", dilation=d)(dp.randn(1, 2, 7, 6)).shape == (1, 3, 7, 6)
    assert Conv1d(2, 3, k, padding="same", dilation=d)(dp.randn(1, 2, 9)).shape == (1, 3, 9)
    assert Conv2d(2, 3, k, padding="valid")(dp.randn(1, 2, 7, 6)).shape == (1, 3, 8 - k, 7 - k)


@pytest.mark.parametrize("k, s, p, op, d", [
    (3, 1, 0, 0, 1), (3, 2, 1, 1, 1), (4, 2, 1, 0, 1), (2, 3, 0, 2, 1), (3, 2, 2, 0, 2), ((3, 2), (2, 1), (1, 0), (1, 0), (1, 2)),
])
def test_conv_transpose2d_output_shape(k, s, p, op, d):
    pair = lambda v: v if isinstance(v, tuple) else (v, v)  # noqa: E731
    out = ConvTranspose2d(3, 5, k, stride=s, padding=p, output_padding=op, dilation=d)(dp.randn(2, 3, 4, 5))
    expected = tuple(
        (n - 1) * ss - 2 * pp + dd * (kk - 1) + oo + 1
        for n, kk, ss, pp, oo, dd in zip((4, 5), pair(k), pair(s), pair(p), pair(op), pair(d))
    )
    assert out.shape == (2, 5) + expected


def test_conv_transpose2d_output_size_argument():
    up = ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    x = dp.randn(1, 3, 5, 5)
    assert up(x).shape == (1, 2, 9, 9)
    assert up(x, output_size=(10, 9)).shape == (1, 2, 10, 9)
    assert up(x, output_size=[1, 2, 10, 10]).shape == (1, 2, 10, 10)
    with pytest.raises(ValueError, match="valid sizes range from 9 to 10"):
        up(x, output_size=(11, 11))


def test_conv1d_shapes_and_unbatched_input():
    conv = Conv1d(4, 6, 3, stride=2, padding=1)
    assert conv(dp.randn(5, 4, 20)).shape == (5, 6, 10)
    assert conv(dp.randn(4, 20)).shape == (6, 10)
    assert Conv2d(3, 2, 3)(dp.randn(3, 6, 6)).shape == (2, 4, 4)
    assert ConvTranspose2d(3, 2, 2, stride=2)(dp.randn(3, 4, 4)).shape == (2, 8, 8)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_padding_modes_pad_first_then_convolve(mode):
    conv = Conv2d(2, 3, 3, padding=(1, 2), padding_mode=mode).double()
    x = dp.tensor(normal(2, 2, 5, 6))
    manual = C.conv2d(dp.pad(x, (2, 2, 1, 1), mode=mode), conv.weight, conv.bias)
    np.testing.assert_allclose(conv(x).data, manual.data, rtol=1e-12)
    assert conv(x).shape == (2, 3, 5, 8)
    same = Conv1d(2, 3, 4, padding="same", padding_mode=mode)
    assert same(dp.randn(2, 2, 7)).shape == (2, 3, 7)


# ---- the layers: parameters, init, repr, dtype, graph ------------------------------------------


def test_parameter_shapes_and_names():
    conv = Conv2d(4, 6, (3, 2), groups=2)
    assert conv.weight.shape == (6, 2, 3, 2) and conv.bias.shape == (6,)
    assert [n for n, _ in conv.named_parameters()] == ["weight", "bias"]
    assert Conv2d(4, 6, 3, bias=False).bias is None
    assert ConvTranspose2d(4, 6, 3, groups=2).weight.shape == (4, 3, 3, 3)
    assert Conv1d(4, 6, 5).weight.shape == (6, 4, 5)
    conv = Conv2d(1, 16, 3, padding=1)
    assert conv.kernel_size == (3, 3) and conv.stride == (1, 1) and conv.padding == (1, 1)
    assert conv.dilation == (1, 1) and conv.groups == 1 and conv.padding_mode == "zeros"
    assert conv.output_padding == (0, 0) and conv.transposed is False
    assert ConvTranspose2d(1, 1, 2).transposed is True


def test_default_init_is_torchs_bounds():
    dp.manual_seed(0)
    conv = Conv2d(8, 32, 3)
    bound = 1 / math.sqrt(8 * 9)  # kaiming_uniform with a = sqrt(5) gives exactly 1/sqrt(fan_in)
    w, b = conv.weight.data, conv.bias.data
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert np.abs(b).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.1 * bound
    up = ConvTranspose2d(8, 4, 3, groups=2)  # fan_in from weight.shape[1] = 2: torch's rule
    assert np.abs(up.weight.data).max() <= 1 / math.sqrt(2 * 9)


def test_seeded_init_repeats():
    dp.manual_seed(3)
    a = Conv2d(2, 4, 3).weight.data.copy()
    dp.manual_seed(3)
    np.testing.assert_array_equal(a, Conv2d(2, 4, 3).weight.data)


def test_repr_matches_torch():
    assert repr(Conv2d(1, 16, 3, padding=1)) == "Conv2d(1, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))"
    assert repr(ConvTranspose2d(4, 2, 3, stride=2, output_padding=1, bias=False)) == (
        "ConvTranspose2d(4, 2, kernel_size=(3, 3), stride=(2, 2), output_padding=(1, 1), bias=False)"
    )
    assert repr(Conv1d(2, 4, 3, padding="same", padding_mode="reflect", groups=2, dilation=2)) == (
        "Conv1d(2, 4, kernel_size=(3,), stride=(1,), padding=same, dilation=(2,), groups=2, padding_mode=reflect)"
    )


def test_dtypes_are_kept():
    x = dp.randn(2, 3, 6, 6, requires_grad=True)
    conv = Conv2d(3, 4, 3)
    out = conv(x)
    assert out.dtype == dp.float32
    out.sum().backward()
    assert x.grad.dtype == conv.weight.grad.dtype == conv.bias.grad.dtype == dp.float32
    conv64 = Conv2d(3, 4, 3, dtype=dp.float64)
    assert conv64(dp.randn(1, 3, 5, 5).double()).dtype == dp.float64


def test_no_graph_under_no_grad():
    conv = Conv2d(3, 4, 3)
    with dp.no_grad():
        out = conv(dp.randn(1, 3, 5, 5))
    assert not out.requires_grad and out.grad_fn is None


def test_gradients_accumulate_over_two_uses_before_backward():
    """A layer used twice before one backward (the scratch buffers must not mix them up)."""
    conv = Conv2d(3, 4, 3, padding=1).double()
    x1, x2 = leaf(normal(2, 3, 5, 5)), leaf(normal(2, 3, 6, 4))
    (conv(x1).sum() * 2 + (conv(x2) ** 2).sum()).backward()
    w = dp.tensor(conv.weight.data, requires_grad=True)
    b = dp.tensor(conv.bias.data, requires_grad=True)
    r1, r2 = leaf(x1.data), leaf(x2.data)
    (R.conv2d_reference(r1, w, b, padding=1).sum() * 2 + (R.conv2d_reference(r2, w, b, padding=1) ** 2).sum()).backward()
    for got, want in [(conv.weight.grad, w.grad), (conv.bias.grad, b.grad), (x1.grad, r1.grad), (x2.grad, r2.grad)]:
        np.testing.assert_allclose(got.data, want.data, rtol=1e-10)


def test_outputs_stay_intact_across_later_calls():
    """Results come from recycled memory: a result someone holds must never be reused."""
    conv = Conv2d(2, 3, 3, padding=1)
    x1, x2 = dp.randn(2, 2, 6, 6), dp.randn(2, 2, 6, 6)
    y1 = conv(x1)
    kept = y1.data.copy()
    for _ in range(6):
        y2 = conv(x2)
        y2.sum()
    np.testing.assert_array_equal(y1.data, kept)
    assert not np.shares_memory(y1.data, y2.data)


def test_backward_twice_with_retain_graph():
    conv = Conv2d(2, 3, 3)
    out = conv(dp.randn(1, 2, 5, 5)).sum()
    out.backward(retain_graph=True)
    first = conv.weight.grad.data.copy()
    out.backward()
    np.testing.assert_allclose(conv.weight.grad.data, 2 * first, rtol=1e-6)


def test_a_small_cnn_trains():
    dp.manual_seed(0)
    def make():
        return dp.nn.Sequential(Conv2d(1, 4, 3, padding=1), dp.nn.Tanh(), Conv2d(4, 2, 3, stride=2), dp.nn.Flatten())

    model, teacher = make(), make()
    x = dp.randn(16, 1, 7, 7)
    with dp.no_grad():
        target = teacher(x)
    opt = dp.optim.SGD(model.parameters(), lr=0.5)
    losses = []
    for _ in range(30):
        loss = ((model(x) - target) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


# ---- errors a learner can act on ------------------------------------------------------------------


def test_channel_mismatch_names_both_shapes():
    conv = Conv2d(1, 16, 3)
    with pytest.raises(ValueError, match=r"conv2d: input has 3 channels but the weight expects 1 "
                                         r"\(weight shape \(16, 1, 3, 3\)\); input must be \(N, C, H, W\)"):
        conv(dp.randn(2, 3, 8, 8))
    with pytest.raises(ValueError, match=r"input has 4 channels but the weight expects 6 .*groups=2"):
        Conv2d(6, 4, 3, groups=2)(dp.randn(1, 4, 8, 8))
    with pytest.raises(ValueError, match="conv1d: input has 2 channels but the weight expects 3"):
        Conv1d(3, 1, 3)(dp.randn(1, 2, 8))


def test_kernel_larger_than_the_padded_input():
    with pytest.raises(ValueError, match=r"kernel's height 5 is larger than the padded input's height 4 "
                                         r"\(input 2 plus padding 1 \+ 1\)"):
        Conv2d(1, 1, 5, padding=1)(dp.randn(1, 1, 2, 9))
    with pytest.raises(ValueError, match=r"kernel's width 3 \(dilated: 7\)"):
        Conv2d(1, 1, 3, dilation=3)(dp.randn(1, 1, 9, 6))


def test_bad_inputs():
    with pytest.raises(ValueError, match=r"expected a 4-D input \(N, C, H, W\)"):
        Conv2d(1, 1, 3)(dp.randn(5, 5))
    with pytest.raises(TypeError, match="input is float64 but the weight is float32"):
        Conv2d(1, 1, 3)(dp.randn(1, 1, 5, 5).double())
    with pytest.raises(ValueError, match="weight must be 4-D"):
        C.conv2d(dp.randn(1, 1, 5, 5), dp.randn(1, 1, 3))
    with pytest.raises(ValueError, match=r"bias has shape \(3,\).*must have shape \(2,\)"):
        C.conv2d(dp.randn(1, 1, 5, 5), dp.randn(2, 1, 3, 3), dp.randn(3))
    with pytest.raises(ValueError, match="not divisible by groups=2"):
        C.conv2d(dp.randn(1, 2, 5, 5), dp.randn(3, 1, 3, 3), groups=2)
    with pytest.raises(ValueError, match="stride must be >= 1"):
        C.conv2d(dp.randn(1, 1, 5, 5), dp.randn(1, 1, 3, 3), stride=0)
    with pytest.raises(TypeError, match="padding must be an int or a tuple of 2 ints"):
        C.conv2d(dp.randn(1, 1, 5, 5), dp.randn(1, 1, 3, 3), padding=(1, 1, 1))


def test_constructor_errors_as_torch():
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="out_channels must be divisible by groups"):
        Conv2d(4, 3, 3, groups=2)
    with pytest.raises(ValueError, match="groups must be a positive integer"):
        Conv2d(4, 4, 3, groups=0)
    with pytest.raises(ValueError, match="Invalid padding string 'full'"):
        Conv2d(4, 4, 3, padding="full")
    with pytest.raises(ValueError, match="padding='same' is not supported for strided convolutions"):
        Conv2d(4, 4, 3, padding="same", stride=2)
    with pytest.raises(ValueError, match="not supported for strided"):
        C.conv2d(dp.randn(1, 1, 5, 5), dp.randn(1, 1, 3, 3), padding="same", stride=(1, 2))
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        Conv2d(4, 4, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match='Only "zeros" padding mode is supported for ConvTranspose2d'):
        ConvTranspose2d(4, 4, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="output padding must be smaller than either stride or dilation"):
        ConvTranspose2d(1, 1, 3, stride=2, output_padding=2)(dp.randn(1, 1, 3, 3))


@pytest.mark.parametrize("groups, bias", [(1, True), (1, False), (2, True)])
def test_weight_gradient_is_laid_out_as_the_weight(groups, bias):
    """C order like the weight itself: an optimizer step mixing layouts runs ~10x slower."""
    conv = Conv2d(4, 8, 3, groups=groups, bias=bias)
    conv(dp.randn(2, 4, 6, 6)).sum().backward()
    assert conv.weight.grad.data.flags.c_contiguous
    assert conv.weight.grad.data.shape == conv.weight.data.shape
