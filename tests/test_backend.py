"""The array seam and the allocator tuning done at import."""
import subprocess
import sys

import numpy as np
import pytest

import deepprimer as dp
from deepprimer import backend


def test_the_array_module_is_numpy_and_float32_is_the_default():
    assert backend.xp is np
    assert dp.get_default_dtype() == np.float32 and dp.zeros(2).dtype == np.float32


def allocator_tuned(env):
    code = "import deepprimer.backend as b; print(b.allocator_tuned)"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env).stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt is Linux-only")
def test_allocator_tuning_applies_on_glibc_and_can_be_switched_off(monkeypatch):
    import os

    env = dict(os.environ)
    env.pop("DEEPPRIMER_MALLOC_TUNING", None)
    assert allocator_tuned(env) == "True"
    assert allocator_tuned({**env, "DEEPPRIMER_MALLOC_TUNING": "0"}) == "False"


def test_set_num_threads_limits_the_blas_threads():
    before = dp.get_num_threads()
    try:
        dp.set_num_threads(1)
        assert dp.get_num_threads() == 1
    finally:
        dp.set_num_threads(before)
    assert dp.get_num_threads() == before
    with pytest.raises(ValueError, match="n must be an int >= 1"):
        dp.set_num_threads(0)


F32, F64 = np.float32, np.float64


@pytest.mark.parametrize("shape, out_dtype, bias_dtype, layout, tiled", [
    ((50176, 16), F32, F32, "C", True),  # a conv layer's rows, no rest
    ((1000, 3, 45), F32, F32, "C", True),  # 3-D, and rows left after the tiled part
    ((300, 7, 71), F64, F64, "C", True),  # float64 throughout
    ((700, 5000), F32, F32, "C", False),  # rows too long to tile
    ((64, 128), F32, F32, "C", False),  # too small to tile
    ((4096, 40), F32, F32, "F", False),  # not C-contiguous
    ((4096, 40), F32, F64, "C", False),  # a float64 bias on float32 output: NumPy's casting rules
])
def test_add_bias_is_the_broadcast_add_bit_for_bit(monkeypatch, shape, out_dtype, bias_dtype, layout, tiled):
    rng = np.random.default_rng(0)
    out = np.array(rng.standard_normal(shape), dtype=out_dtype, order=layout)
    out.flat[:3] = [-0.0, np.nan, np.inf]
    bias = rng.standard_normal(shape[-1]).astype(bias_dtype)
    bias[:2] = [-0.0, 1e-40]  # a signed zero, and a subnormal in float32
    expected = out.copy(order="K")
    expected += bias
    tiles, tile = [], np.tile
    monkeypatch.setattr(backend.xp, "tile", lambda *a: tiles.append(a) or tile(*a))
    result = backend.add_bias(out, bias)
    assert result is out and out.dtype == out_dtype
    assert bool(tiles) == tiled  # the path the case is meant to exercise
    assert out.tobytes(order="A") == expected.tobytes(order="A")  # the same bits, signed zeros and NaNs too


def test_add_bias_reads_the_bias_as_it_was_when_it_is_a_row_of_the_output():
    out = np.random.default_rng(0).standard_normal((4099, 32)).astype(np.float32)  # 3 rows past the tiled part
    expected = out.copy()
    expected += expected[0]
    backend.add_bias(out, out[0])
    assert out.tobytes() == expected.tobytes()


@pytest.mark.parametrize("bias", [[1.0] * 32, 2.5, np.float32(2.5)])
def test_add_bias_takes_what_plus_equals_takes(bias):
    out = np.ones((8192, 32), np.float32)
    expected = out.copy()
    expected += bias
    backend.add_bias(out, bias)
    np.testing.assert_array_equal(out, expected)


# ---- row reductions along the last axis ----------------------------------------------------

ROW_CASES = [
    ((64, 10), "c"), ((1024, 10), "c"), ((16, 4, 64, 64), "c"), ((64, 128), "c"), ((3, 10), "c"),
    ((5, 64), "c"), ((65, 65), "c"), ((0, 10), "c"), ((10, 0), "c"), ((7,), "c"),
    ((64, 10), "fortran"), ((64, 20), "strided"), ((4, 64, 10), "transposed"),
]
ROW_LAYOUTS = {"c": lambda a: a, "fortran": np.asfortranarray, "strided": lambda a: a[:, ::2],
               "transposed": lambda a: a.transpose(1, 0, 2)}


@pytest.mark.parametrize("shape, layout", ROW_CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.int64])
def test_row_reductions_give_numpys_results(shape, layout, dtype):
    x = ROW_LAYOUTS[layout](np.random.default_rng(0).standard_normal(shape) * 4).astype(dtype)
    for axis in range(x.ndim):
        sums = backend.sum_keepdims(x, axis)
        expected = x.sum(axis=axis, keepdims=True)
        assert sums.shape == expected.shape and sums.dtype == expected.dtype
        tol = {np.float16: 1e-2, np.float32: 1e-5}.get(dtype, 1e-12)
        np.testing.assert_allclose(sums, expected, rtol=tol, atol=tol * 10)
        if x.shape[axis]:
            assert np.array_equal(backend.max_keepdims(x, axis), x.max(axis=axis, keepdims=True))


def test_row_reductions_take_their_fast_paths_and_keep_nan():
    x = np.random.default_rng(1).standard_normal((64, 10)).astype(np.float32)
    x[3, 4], x[9, :] = np.nan, -np.inf
    assert np.array_equal(backend.max_keepdims(x, 1), x.max(axis=1, keepdims=True), equal_nan=True)
    ones = backend.shared_ones(10, np.dtype(np.float32))
    assert np.array_equal(backend.sum_keepdims(x, 1)[:, 0], x @ ones, equal_nan=True)  # the GEMV
