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


@pytest.mark.parametrize("shape, out_dtype, bias_dtype, layout", [
    ((50176, 16), F32, F32, "C"),  # a conv layer's rows: tiled, with no rest
    ((1000, 3, 45), F32, F32, "C"),  # 3-D, and rows left over after the tiled part
    ((300, 7, 71), F64, F64, "C"),  # float64 throughout
    ((700, 5000), F32, F32, "C"),  # rows too long to tile
    ((64, 128), F32, F32, "C"),  # too small to tile
    ((4096, 40), F32, F32, "F"),  # not C-contiguous
    ((4096, 40), F32, F64, "C"),  # a float64 bias on float32 output: NumPy's casting rules
])
def test_add_bias_is_the_broadcast_add_bit_for_bit(shape, out_dtype, bias_dtype, layout):
    rng = np.random.default_rng(0)
    out = np.array(rng.standard_normal(shape), dtype=out_dtype, order=layout)
    bias = rng.standard_normal(shape[-1]).astype(bias_dtype)
    expected = out.copy()
    expected += bias
    result = backend.add_bias(out, bias)
    assert result is out and out.dtype == out_dtype
    np.testing.assert_array_equal(out, expected)
