"""Conv1d / Conv2d / ConvTranspose2d (and BatchNorm2d on images) against PyTorch: the same
weights copied in, float64; forward values and the gradients of input, weight and bias
for stride / padding / dilation / groups / padding_mode combinations."""
import itertools

import pytest

torch = pytest.importorskip("torch")

import numpy as np  # noqa: E402

import deepprimer as dp  # noqa: E402
from deepprimer.nn.conv import Conv1d, Conv2d, ConvTranspose2d  # noqa: E402
from deepprimer.nn.normalization import BatchNorm2d  # noqa: E402
from deepprimer.ops import conv as C  # noqa: E402

RTOL, ATOL = 1e-9, 1e-11

pytestmark = [pytest.mark.torch, pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")]


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """These tensors are tiny: torch's thread pool only costs time (more so on a busy machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def copy_params(ours, theirs):
    """torch's parameters (float64) into our layer, so both compute the same function."""
    for name, p in theirs.named_parameters():
        getattr(ours, name).data[...] = p.detach().numpy()


def close(a, b, what, rtol=RTOL, atol=ATOL):
    b = b.detach().numpy()
    assert a.shape == b.shape, f"{what}: shape {a.shape} vs torch {b.shape}"
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=what)


def check_layer(ours, theirs, x_shape, seed=0, forward_kwargs=None, channels_last=False):
    """Same input, same output gradient; compare output and every gradient."""
    forward_kwargs = forward_kwargs or {}
    theirs = theirs.double()
    ours.double()
    copy_params(ours, theirs)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape)
    xt = torch.tensor(x, requires_grad=True)
    if channels_last:  # the memory layout conv outputs have: must not change any value
        x = np.ascontiguousarray(np.moveaxis(x, 1, -1))
        x = np.moveaxis(x, -1, 1)
    xd = dp.Tensor(x, requires_grad=True)  # no copy: keeps the memory layout
    out_t = theirs(xt, **forward_kwargs)
    out_d = ours(xd, **forward_kwargs)
    close(out_d.data, out_t, "forward")
    g = rng.standard_normal(tuple(out_t.shape))
    out_t.backward(torch.tensor(g))
    out_d.backward(dp.tensor(g))
    close(xd.grad.data, xt.grad, "input gradient")
    for name, p in theirs.named_parameters():
        close(getattr(ours, name).grad.data, p.grad, f"{name} gradient")


CONV2D_OPTIONS = [
    {"kernel_size": 3},
    {"kernel_size": 3, "padding": 1},
    {"kernel_size": (3, 2), "stride": 2, "padding": (1, 0)},
    {"kernel_size": 3, "stride": (1, 2), "dilation": 2, "padding": 2},
    {"kernel_size": 3, "padding": "same", "dilation": (2, 1)},
    {"kernel_size": 4, "padding": "same"},
    {"kernel_size": 2, "padding": "valid", "stride": 3},
    {"kernel_size": 1, "bias": False},
    {"kernel_size": 3, "padding": 1, "padding_mode": "reflect"},
    {"kernel_size": 3, "padding": (2, 1), "padding_mode": "replicate", "stride": 2},
    {"kernel_size": 3, "padding": "same", "padding_mode": "circular"},
]


@pytest.mark.parametrize("groups", [1, 2])
@pytest.mark.parametrize("options", CONV2D_OPTIONS, ids=[str(o) for o in CONV2D_OPTIONS])
def test_conv2d_matches_torch(options, groups):
    check_layer(Conv2d(6, 12, groups=groups, **options), torch.nn.Conv2d(6, 12, groups=groups, **options), (2, 6, 9, 8))


@pytest.mark.parametrize("options", CONV2D_OPTIONS[1:5], ids=[str(o) for o in CONV2D_OPTIONS[1:5]])
def test_depthwise_conv2d_matches_torch(options):
    check_layer(Conv2d(6, 12, groups=6, **options), torch.nn.Conv2d(6, 12, groups=6, **options), (2, 6, 9, 8),
                channels_last=True)


@pytest.mark.parametrize("in_ch", [1, 3, 16])
def test_conv2d_layouts_and_channel_counts(in_ch):
    """1 and 3 channels (a first layer) and a channels-last input (a layer after a conv)."""
    for channels_last in (False, True):
        check_layer(Conv2d(in_ch, 8, 3, padding=1), torch.nn.Conv2d(in_ch, 8, 3, padding=1), (3, in_ch, 7, 7),
                    channels_last=channels_last)


CONV1D_OPTIONS = [
    {"kernel_size": 3},
    {"kernel_size": 5, "stride": 2, "padding": 2},
    {"kernel_size": 3, "dilation": 3, "padding": "same"},
    {"kernel_size": 2, "padding": "same"},
    {"kernel_size": 3, "padding": 1, "padding_mode": "circular", "groups": 2},
    {"kernel_size": 3, "padding": 2, "padding_mode": "reflect", "bias": False},
]


@pytest.mark.parametrize("options", CONV1D_OPTIONS, ids=[str(o) for o in CONV1D_OPTIONS])
def test_conv1d_matches_torch(options):
    check_layer(Conv1d(4, 6, **options), torch.nn.Conv1d(4, 6, **options), (3, 4, 13))


CONV_T_OPTIONS = [
    {"kernel_size": 3},
    {"kernel_size": 3, "stride": 2, "padding": 1, "output_padding": 1},
    {"kernel_size": 4, "stride": 2, "padding": 1},
    {"kernel_size": (3, 2), "stride": (2, 3), "padding": (1, 0), "output_padding": (1, 2)},
    {"kernel_size": 3, "stride": 2, "dilation": 2, "output_padding": 1},
    {"kernel_size": 2, "stride": 2, "groups": 2, "bias": False},
    {"kernel_size": 3, "stride": 3, "padding": 2, "groups": 4},
]


@pytest.mark.parametrize("options", CONV_T_OPTIONS, ids=[str(o) for o in CONV_T_OPTIONS])
def test_conv_transpose2d_matches_torch(options):
    check_layer(ConvTranspose2d(4, 8, **options), torch.nn.ConvTranspose2d(4, 8, **options), (2, 4, 5, 4))
    check_layer(ConvTranspose2d(4, 8, **options), torch.nn.ConvTranspose2d(4, 8, **options), (2, 4, 5, 4),
                channels_last=True)


def test_conv_transpose2d_output_size_matches_torch():
    check_layer(ConvTranspose2d(3, 2, 3, stride=2, padding=1), torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1),
                (1, 3, 4, 5), forward_kwargs={"output_size": (8, 10)})


@pytest.mark.parametrize("stride, padding, dilation, groups", list(itertools.product([1, 2], [0, 1], [1, 2], [1, 3])))
def test_functional_conv2d_float32(stride, padding, dilation, groups):
    rng = np.random.default_rng(stride + 3 * padding + 7 * dilation + groups)
    x = rng.standard_normal((2, 6, 8, 7)).astype(np.float32)
    w = rng.standard_normal((9, 6 // groups, 3, 3)).astype(np.float32)
    b = rng.standard_normal(9).astype(np.float32)
    kw = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    ours = C.conv2d(dp.tensor(x), dp.tensor(w), dp.tensor(b), **kw)
    theirs = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), **kw)
    assert ours.dtype == dp.float32
    close(ours.data, theirs, "float32 forward", rtol=1e-4, atol=1e-4)


def test_unbatched_input_matches_torch():
    ours, theirs = Conv2d(3, 4, 3, padding=1).double(), torch.nn.Conv2d(3, 4, 3, padding=1).double()
    copy_params(ours, theirs)
    x = np.random.default_rng(0).standard_normal((3, 5, 6))
    close(ours(dp.tensor(x)).data, theirs(torch.tensor(x)), "unbatched conv2d")
    ours1, theirs1 = Conv1d(3, 4, 3).double(), torch.nn.Conv1d(3, 4, 3).double()
    copy_params(ours1, theirs1)
    close(ours1(dp.tensor(x[:, 0])).data, theirs1(torch.tensor(x[:, 0])), "unbatched conv1d")


def test_default_init_matches_torchs_distribution():
    """The same bound for weight and bias, 1/sqrt(fan_in), which both reach."""
    torch.manual_seed(0)
    for ours, theirs, fan_in in [(Conv2d(16, 32, 3), torch.nn.Conv2d(16, 32, 3), 16 * 9),
                                 (ConvTranspose2d(16, 8, 4, groups=2), torch.nn.ConvTranspose2d(16, 8, 4, groups=2), 4 * 16)]:
        bound = 1 / np.sqrt(fan_in)
        for name in ("weight", "bias"):
            for values in (getattr(ours, name).data, getattr(theirs, name).detach().numpy()):
                assert np.abs(values).max() <= bound * (1 + 1e-6), name
        for values in (ours.weight.data, theirs.weight.detach().numpy()):
            assert np.abs(values).max() > 0.95 * bound
            assert abs(values.std() - bound / np.sqrt(3)) < 0.1 * bound


@pytest.mark.parametrize("training", [True, False])
def test_batchnorm2d_on_images_matches_torch(training):
    ours, theirs = BatchNorm2d(5, momentum=0.2).double(), torch.nn.BatchNorm2d(5, momentum=0.2).double()
    rng = np.random.default_rng(1)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(rng.uniform(0.5, 1.5, 5)))
        theirs.bias.copy_(torch.tensor(rng.standard_normal(5)))
        theirs.running_mean.copy_(torch.tensor(rng.standard_normal(5)))
        theirs.running_var.copy_(torch.tensor(rng.uniform(0.5, 2.0, 5)))
    copy_params(ours, theirs)
    ours.running_mean.data[...] = theirs.running_mean.numpy()
    ours.running_var.data[...] = theirs.running_var.numpy()
    ours.train(training)
    theirs.train(training)
    for channels_last in (False, True):  # after a conv the input is channels-last in memory
        check_layer(ours, theirs, (4, 5, 6, 7), seed=2, channels_last=channels_last)
        for p in list(ours.parameters()) + list(theirs.parameters()):
            p.grad = None
    np.testing.assert_allclose(ours.running_mean.data, theirs.running_mean.numpy(), rtol=1e-10)
    np.testing.assert_allclose(ours.running_var.data, theirs.running_var.numpy(), rtol=1e-10)
