"""Tensor: what it is (shape, dtype, ...), leaving the graph (numpy, item, detach), dtype
conversion, grad bookkeeping, Python protocols, and the repr."""
import numpy as np
import pytest

import deepprimer as dp


def test_attributes():
    x = dp.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert x.shape == (2, 3) and isinstance(x.shape, dp.Size) and repr(x.shape) == "deepprimer.Size([2, 3])"
    assert x.size() == (2, 3) and x.size(1) == 3 and x.size(-2) == 2
    assert x.ndim == 2 and x.dim() == 2 and x.numel() == 6 and x.shape.numel() == 6
    assert x.dtype == dp.float32 and x.device == "cpu"
    assert x.T.shape == (3, 2) and x.T.tolist() == [[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]]
    assert x.is_leaf and x.grad is None and x.grad_fn is None and not x.requires_grad
    assert x.is_floating_point() and not dp.tensor([1]).is_floating_point()


def test_dtypes_follow_torch():
    assert dp.tensor(1.5).dtype == dp.float32
    assert dp.tensor([1, 2]).dtype == dp.int64
    assert dp.tensor([True]).dtype == dp.bool
    assert dp.tensor([1, 2.5]).dtype == dp.float32
    assert dp.tensor([]).dtype == dp.float32
    assert dp.tensor([1.0], dtype=dp.float64).dtype == dp.float64
    assert dp.tensor(np.array([1.0, 2.0])).dtype == dp.float64  # NumPy arrays keep theirs
    assert dp.tensor(np.array([1, 2], dtype=np.int32)).dtype == dp.int32
    assert dp.tensor(np.float64(2.0)).dtype == dp.float64
    assert dp.float is dp.float32 and dp.double is dp.float64 and dp.long is dp.int64


def test_default_dtype_can_be_float64():
    dp.set_default_dtype(dp.float64)
    assert dp.tensor([1.0]).dtype == dp.float64 and dp.randn(2).dtype == dp.float64
    assert dp.get_default_dtype() == dp.float64
    with pytest.raises(TypeError, match="set_default_dtype: only floating dtypes can be the default, got int64"):
        dp.set_default_dtype(dp.int64)


def test_tensor_copies_its_data():
    a = np.array([1.0, 2.0])
    t = dp.tensor(a)
    a[0] = 9.0
    assert t.tolist() == [1.0, 2.0]
    u = dp.tensor(t)
    u.data[1] = 7.0
    assert t.tolist() == [1.0, 2.0]
    assert dp.tensor([dp.tensor(1.0), dp.tensor(2.0)]).tolist() == [1.0, 2.0]


def test_tensor_refuses_non_numeric_data():
    with pytest.raises(TypeError, match="tensor: cannot make a tensor from str data"):
        dp.tensor("abc")


def test_requires_grad():
    x = dp.tensor([1.0, 2.0], requires_grad=True)
    assert x.requires_grad and x.is_leaf
    y = dp.ones(2).requires_grad_()
    assert y.requires_grad
    assert not y.requires_grad_(False).requires_grad
    z = x * 2
    assert z.requires_grad and not z.is_leaf and repr(z.grad_fn) == "<MulBackward>"
    with pytest.raises(RuntimeError, match=r"requires_grad_\(False\) on a non-leaf: use .detach\(\) instead"):
        z.requires_grad_(False)
    with pytest.raises(RuntimeError, match="only floating point tensors can require gradients, this one is int64; convert it first with .float"):
        dp.tensor([1, 2], requires_grad=True)


def test_numpy_item_tolist():
    x = dp.tensor([[1.5, 2.5]])
    assert isinstance(x.numpy(), np.ndarray) and np.shares_memory(x.numpy(), x.data)
    assert x.tolist() == [[1.5, 2.5]]
    assert dp.tensor([[3.5]]).item() == 3.5 and isinstance(dp.tensor(3).item(), int)
    with pytest.raises(ValueError, match=r"item\(\): only a one-element tensor converts to a Python number; this one has shape \(1, 2\)"):
        x.item()
    w = dp.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Can't call numpy\(\) on a tensor that requires grad: use t.detach\(\).numpy\(\)"):
        w.numpy()
    assert w.detach().numpy().tolist() == [1.0, 1.0]
    assert np.asarray(w).dtype == np.float32


def test_detach_shares_memory_and_cuts_the_graph():
    w = dp.ones(2, requires_grad=True)
    y = w * 2
    d = y.detach()
    assert not d.requires_grad and d.is_leaf and np.shares_memory(d.data, y.data)
    y.detach_()
    assert not y.requires_grad and y.grad_fn is None


def test_conversions():
    x = dp.tensor([1.7, -2.2])
    assert x.long().tolist() == [1, -2] and x.long().dtype == dp.int64
    assert x.int().dtype == dp.int32 and x.double().dtype == dp.float64
    assert x.float() is x
    assert x.astype(dp.float64).dtype == dp.float64 and x.to(dp.float64).dtype == dp.float64
    assert x.to("cpu") is x and x.type(dp.int64).dtype == dp.int64
    assert dp.tensor([0, 2]).bool().tolist() == [False, True]
    assert dp.tensor([1, 2]).float().dtype == dp.float32


def test_clone_is_a_copy_in_the_graph():
    x = dp.tensor([1.0, 2.0], requires_grad=True)
    c = x.clone()
    assert not np.shares_memory(c.data, x.data) and c.requires_grad
    (c * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_grad_attribute_is_a_tensor_of_the_same_shape_and_dtype():
    x = dp.ones(2, 3, dtype=dp.float64, requires_grad=True)
    (x * 2).sum().backward()
    assert isinstance(x.grad, dp.Tensor) and x.grad.shape == (2, 3) and x.grad.dtype == dp.float64
    assert not x.grad.requires_grad


def test_python_protocols():
    x = dp.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert len(x) == 2 and [row.tolist() for row in x] == [[1.0, 2.0], [3.0, 4.0]]
    assert float(dp.tensor([2.5])) == 2.5 and int(dp.tensor(3)) == 3
    assert [10, 20, 30][dp.tensor(1)] == 20
    assert f"{dp.tensor(2.5):.2f}" == "2.50"
    assert bool(dp.tensor([1.0])) and not bool(dp.tensor(0.0))
    with pytest.raises(RuntimeError, match="Boolean value of a tensor with 4 values is ambiguous"):
        bool(x)
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(dp.tensor(1.0))
    with pytest.raises(TypeError, match="only integer tensors of a single element can be used as an index"):
        [1, 2][dp.tensor(1.0)]
    assert {x: 1}[x] == 1  # hashable by identity
    assert +x is x and (-x).tolist() == [[-1.0, -2.0], [-3.0, -4.0]] and abs(-x).tolist() == x.tolist()


def test_numpy_array_on_the_left():
    x = dp.tensor([1.0, 2.0], requires_grad=True)
    out = np.array([1.0, 1.0], dtype=np.float32) + x
    assert isinstance(out, dp.Tensor) and out.requires_grad


def test_inplace_methods_outside_the_graph():
    x = dp.zeros(3)
    x.fill_(2.0)
    x.add_(1.0).mul_(2.0).sub_(dp.ones(3), alpha=2).div_(2.0)
    assert x.tolist() == [2.0, 2.0, 2.0]
    x.clamp_(max=1.5)
    assert x.tolist() == [1.5, 1.5, 1.5]
    x.zero_()
    x[1] = 5.0
    x.copy_(x * 2)
    assert x.tolist() == [0.0, 10.0, 0.0]


def test_methods_mirror_the_functions():
    x = dp.tensor([[1.0, -2.0], [3.0, 0.5]])
    assert x.abs().tolist() == [[1.0, 2.0], [3.0, 0.5]]
    assert x.square().tolist() == [[1.0, 4.0], [9.0, 0.25]]
    assert x.abs().rsqrt()[1, 0].item() == pytest.approx(3**-0.5)
    assert x.sign().tolist() == [[1.0, -1.0], [1.0, 1.0]]
    assert x.isnan().tolist() == [[False] * 2] * 2 and x.isfinite().all().item()
    assert x.maximum(dp.zeros(2)).tolist() == [[1.0, 0.0], [3.0, 0.5]]
    assert x.masked_fill(x < 0, 0.0).tolist() == [[1.0, 0.0], [3.0, 0.5]]
    assert x.add(1, alpha=2).tolist() == [[3.0, 0.0], [5.0, 2.5]]
    assert x.pow(2).tolist() == x.square().tolist()


REPRS = [
    (lambda: dp.tensor([1.5, 2.0]), "tensor([1.5000, 2.0000])"),
    (lambda: dp.tensor([1.0, 2.0]), "tensor([1., 2.])"),
    (lambda: dp.tensor([1, 2]), "tensor([1, 2])"),
    (lambda: dp.tensor(3.25), "tensor(3.2500)"),
    (lambda: dp.tensor([True, False]), "tensor([ True, False])"),
    (lambda: dp.tensor([1.0, 10.0, -100.0]), "tensor([   1.,   10., -100.])"),
    (lambda: dp.tensor([1.0, float("inf"), float("nan")]), "tensor([1., inf, nan])"),
    (lambda: dp.tensor([1e-5, 1.0]), "tensor([1.0000e-05, 1.0000e+00])"),
    (lambda: dp.tensor([[1.0, 2.0]], dtype=dp.float64), "tensor([[1., 2.]], dtype=deepprimer.float64)"),
    (lambda: dp.tensor([1, 2], dtype=dp.int32), "tensor([1, 2], dtype=deepprimer.int32)"),
    (lambda: dp.zeros(2, requires_grad=True), "tensor([0., 0.], requires_grad=True)"),
    (lambda: dp.zeros(2, requires_grad=True) * 2, "tensor([0., 0.], grad_fn=<MulBackward>)"),
    (lambda: dp.zeros(0), "tensor([])"),
    (lambda: dp.zeros(2, 0), "tensor([], size=(2, 0))"),
    (lambda: dp.zeros(0, dtype=dp.int64), "tensor([], dtype=deepprimer.int64)"),
    (lambda: dp.tensor([[1.0, 2.0], [3.0, 4.0]]), "tensor([[1., 2.],\n        [3., 4.]])"),
    (lambda: dp.arange(2000), "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])"),
]


@pytest.mark.parametrize("make, expected", REPRS, ids=[r[1] for r in REPRS])
def test_repr_reads_like_torch(make, expected):
    assert repr(make()) == expected
    assert str(make()) == expected
