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
