"""Making tensors: fills, ranges, random draws, the *_like forms, seeding."""
import numpy as np
import pytest

import deepprimer as dp

FILLS = [
    (lambda **kw: dp.zeros(2, 3, **kw), 0.0),
    (lambda **kw: dp.zeros((2, 3), **kw), 0.0),
    (lambda **kw: dp.ones([2, 3], **kw), 1.0),
    (lambda **kw: dp.full((2, 3), 1.5, **kw), 1.5),
    (lambda **kw: dp.empty(2, 3, **kw), None),
    (lambda **kw: dp.rand(2, 3, **kw), None),
    (lambda **kw: dp.randn(2, 3, **kw), None),
]


@pytest.mark.parametrize("make, value", FILLS, ids=["zeros", "zeros_tuple", "ones_list", "full", "empty", "rand", "randn"])
def test_fills_shapes_dtypes_requires_grad(make, value):
    t = make()
    assert t.shape == (2, 3) and t.dtype == dp.float32 and not t.requires_grad and t.is_leaf
    if value is not None:
        assert (t.numpy() == value).all()
    assert make(dtype=dp.float64).dtype == dp.float64
    assert make(requires_grad=True).requires_grad


def test_full_infers_dtype_from_the_value():
    assert dp.full((2,), 7).dtype == dp.int64
    assert dp.full((2,), True).dtype == dp.bool
    assert dp.full((2,), 7.0).dtype == dp.float32
    assert dp.full((2,), 7, dtype=dp.float64).tolist() == [7.0, 7.0]


def test_scalar_and_empty_shapes():
    assert dp.zeros(()).shape == () and dp.zeros(0).shape == (0,)
    assert dp.ones(3).tolist() == [1.0, 1.0, 1.0]


def test_arange():
    assert dp.arange(5).tolist() == [0, 1, 2, 3, 4] and dp.arange(5).dtype == dp.int64
    assert dp.arange(2, 8, 3).tolist() == [2, 5]
    assert dp.arange(5, 0, -2).tolist() == [5, 3, 1]
    r = dp.arange(0, 1, 0.25)
    assert r.dtype == dp.float32 and r.tolist() == [0.0, 0.25, 0.5, 0.75]
    assert dp.arange(3, dtype=dp.float64).dtype == dp.float64
    with pytest.raises(ValueError, match="arange: step must be non-zero"):
        dp.arange(0, 5, 0)


def test_linspace_and_eye():
    assert dp.linspace(0, 1, 5).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert dp.linspace(0, 1, 5).dtype == dp.float32
    assert dp.linspace(-1, 1, 3, dtype=dp.float64).dtype == dp.float64
    with pytest.raises(ValueError, match="linspace: steps must be non-negative, got -1"):
        dp.linspace(0, 1, -1)
    assert dp.eye(2).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert dp.eye(2, 3).shape == (2, 3)


def test_rand_randn_randint_ranges():
    u = dp.rand(1000).numpy()
    assert (u >= 0).all() and (u < 1).all()
    n = dp.randn(20000).numpy()
    assert abs(n.mean()) < 0.05 and abs(n.std() - 1) < 0.05
    r = dp.randint(3, 7, (1000,))
    assert r.dtype == dp.int64 and set(r.tolist()) == {3, 4, 5, 6}
    assert set(dp.randint(4, (500,)).tolist()) == {0, 1, 2, 3}  # torch's randint(high, size)
    assert dp.randint(0, 2, size=(2, 3)).shape == (2, 3)
    assert dp.randint(10, size=(3,), dtype=dp.int32).dtype == dp.int32
    assert sorted(dp.randperm(5).tolist()) == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match=r"randint: low \(5\) must be less than high \(5\)"):
        dp.randint(5, 5, (2,))


def test_like_forms_take_shape_and_dtype():
    t = dp.ones(2, 3, dtype=dp.float64)
    for make in (dp.zeros_like, dp.ones_like, dp.empty_like, dp.rand_like, dp.randn_like):
        out = make(t)
        assert out.shape == (2, 3) and out.dtype == dp.float64 and not out.requires_grad
    assert dp.zeros_like(t, dtype=dp.float32).dtype == dp.float32
    assert dp.ones_like(t, requires_grad=True).requires_grad
    assert dp.full_like(t, 4.0).tolist() == [[4.0] * 3] * 2 and dp.full_like(t, 4).dtype == dp.float64
    assert dp.zeros_like(dp.tensor([1, 2])).dtype == dp.int64
    r = dp.randint_like(t, 3)
    assert r.shape == (2, 3) and r.dtype == dp.int64 and r.numpy().max() < 3
    assert dp.randint_like(t, 5, 6).tolist() == [[5] * 3] * 2


def test_manual_seed_makes_draws_repeatable():
    dp.manual_seed(123)
    a = (dp.rand(3).tolist(), dp.randn(2, 2).tolist(), dp.randint(0, 100, (4,)).tolist(), dp.randperm(6).tolist())
    dp.manual_seed(123)
    b = (dp.rand(3).tolist(), dp.randn(2, 2).tolist(), dp.randint(0, 100, (4,)).tolist(), dp.randperm(6).tolist())
    assert a == b
    assert dp.initial_seed() == 123
    assert dp.randn(3).tolist() != dp.randn(3).tolist()


def test_generators_are_independent():
    g1, g2 = dp.Generator(5), dp.Generator(5)
    dp.manual_seed(0)
    x = dp.randn(3, generator=g1).tolist()
    dp.randn(10)  # draws from the default generator do not move g2
    assert dp.randn(3, generator=g2).tolist() == x
    state = g1.get_state()
    y = dp.rand(2, generator=g1).tolist()
    g1.set_state(state)
    assert dp.rand(2, generator=g1).tolist() == y


def test_manual_seed_needs_an_int():
    with pytest.raises(TypeError, match="manual_seed: seed must be an int, got float"):
        dp.manual_seed(1.5)


def test_from_numpy_shares_memory():
    a = np.arange(3.0)
    t = dp.from_numpy(a)
    a[0] = 9.0
    assert t.tolist() == [9.0, 1.0, 2.0] and t.dtype == dp.float64
    with pytest.raises(TypeError, match="from_numpy: expected a NumPy array, got list"):
        dp.from_numpy([1, 2])


@pytest.mark.parametrize("bad", [(-1, 2), (2.5,), (True,)])
def test_bad_sizes(bad):
    with pytest.raises(ValueError, match="zeros: sizes must be non-negative ints"):
        dp.zeros(*bad)
