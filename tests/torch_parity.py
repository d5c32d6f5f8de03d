"""Compare an op on deepprimer with the same op on PyTorch: forward values and gradients.

Import it only after ``torch = pytest.importorskip("torch")``. ``check_case`` builds the
same inputs on both frameworks from one NumPy array each, runs the op, compares every
output (values, shape, dtype), then back-propagates the same random output gradients
through both and compares the gradient of every input that requires grad.
Tolerances: rtol 1e-6 in float64 and 1e-4 in float32 (the issue's), with a small atol for
values that cancel to about zero.
"""
import numpy as np
import torch

import deepprimer as dp
import deepprimer.nn.functional as dpF
import torch.nn.functional as tF

RTOL = {np.float64: 1e-6, np.float32: 1e-4}
ATOL = {np.float64: 1e-9, np.float32: 1e-5}
DTYPES = [np.float64, np.float32]


def to_dp(array, dtype, requires_grad):
    if array.dtype.kind == "f":
        array = array.astype(dtype)
    return dp.tensor(array, requires_grad=requires_grad)


def to_torch(array, dtype, requires_grad):
    if array.dtype.kind == "f":
        array = array.astype(dtype)
    return torch.tensor(array, requires_grad=requires_grad)


def flat_outputs(out):
    """An op's result as a list of tensors (a tensor, a tuple, a namedtuple (values, indices))."""
    if isinstance(out, (tuple, list)):
        return [o for item in out for o in flat_outputs(item)]
    return [out]


def same_dtype(ours, theirs):
    """A deepprimer tensor and a torch tensor have the same dtype (float32 is torch.float32)."""
    return str(ours.dtype) == str(theirs.dtype).replace("torch.", "")


def assert_close(actual, expected, dtype, what):
    """deepprimer's array ``actual`` equals torch's tensor ``expected`` in shape, dtype, value."""
    expected_np = expected.detach().numpy()
    assert tuple(actual.shape) == tuple(expected_np.shape), f"{what}: shape {tuple(actual.shape)} vs torch {tuple(expected_np.shape)}"
    assert actual.dtype == expected_np.dtype, f"{what}: dtype {actual.dtype} vs torch {expected_np.dtype}"
    if actual.dtype.kind in "iub":
        np.testing.assert_array_equal(actual, expected_np, err_msg=what)
    else:
        np.testing.assert_allclose(
            actual, expected_np, rtol=RTOL[dtype], atol=ATOL[dtype], err_msg=what
        )


def compare(dp_fn, torch_fn, arrays, dtype, grads=None, seed=0):
    """Run ``dp_fn(*dp_tensors)`` and ``torch_fn(*torch_tensors)`` on the same ``arrays``.

    ``grads`` says per input whether it requires grad (default: every floating input).
    Returns (dp outputs, torch outputs) for further checks.
    """
    if grads is None:
        grads = [a.dtype.kind == "f" for a in arrays]
    dp_in = [to_dp(a, dtype, g) for a, g in zip(arrays, grads)]
    th_in = [to_torch(a, dtype, g) for a, g in zip(arrays, grads)]
    dp_out = flat_outputs(dp_fn(*dp_in))
    th_out = flat_outputs(torch_fn(*th_in))
    assert len(dp_out) == len(th_out), f"{len(dp_out)} outputs vs torch's {len(th_out)}"
    for k, (d, t) in enumerate(zip(dp_out, th_out)):
        assert isinstance(d, dp.Tensor), f"output {k} is a {type(d).__name__}, not a Tensor"
        assert d.requires_grad == t.requires_grad, f"output {k}: requires_grad {d.requires_grad} vs torch {t.requires_grad}"
        assert_close(d.data, t, dtype, f"forward output {k}")

    # the same random output gradients through both graphs
    rng = np.random.default_rng(seed)
    pairs = [(d, t) for d, t in zip(dp_out, th_out) if t.requires_grad]
    if pairs:
        seeds = [rng.standard_normal(t.shape).astype(dtype) for _, t in pairs]
        dp.autograd.backward([d for d, _ in pairs], [dp.tensor(s) for s in seeds])
        torch.autograd.backward([t for _, t in pairs], [torch.tensor(s) for s in seeds])
    for i, (d, t) in enumerate(zip(dp_in, th_in)):
        if not t.requires_grad:
            continue
        if t.grad is None:
            assert d.grad is None or not np.any(d.grad.data), f"input {i}: torch has no gradient"
            continue
        assert d.grad is not None, f"input {i}: no gradient, torch has one"
        assert_close(d.grad.data, t.grad, dtype, f"gradient of input {i}")
    return dp_out, th_out


def check_case(case, dtype):
    """Parity of one ``op_cases.Case`` in ``dtype``."""
    compare(
        lambda *xs: case.fn(dp, dpF, *xs),
        lambda *xs: case.fn(torch, tF, *xs),
        case.arrays(),
        dtype,
        grads=[s.floating and s.grad for s in case.inputs],
    )
