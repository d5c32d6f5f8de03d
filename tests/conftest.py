"""Shared test setup: every test starts from the same seed and the engine's default state.

tests/ has no __init__.py, so pytest puts this folder on sys.path and the helper modules
beside this file (op_cases.py, torch_parity.py) import by name. Subfolders that share
basenames with each other are packages (tests/ops/__init__.py, tests/autograd/__init__.py).
"""
import numpy as np
import pytest

import deepprimer as dp
from deepprimer.autograd.grad_mode import state

try:
    from hypothesis import settings

    settings.register_profile("deepprimer", deadline=None, max_examples=30, derandomize=True)
    settings.load_profile("deepprimer")
except ImportError:  # hypothesis is a test dependency (pyproject [test]); without it, no profile
    pass


@pytest.fixture(autouse=True)
def _engine_state():
    """Seed the library, and undo any change a test made to grad mode, anomaly mode or dtype."""
    dp.manual_seed(0)
    grad, anomaly, dtype = state.grad_enabled, state.anomaly_enabled, dp.get_default_dtype()
    yield
    state.grad_enabled, state.anomaly_enabled = grad, anomaly
    dp.set_default_dtype(dtype)


@pytest.fixture
def rng():
    return np.random.default_rng(0)
