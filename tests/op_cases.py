"""The op catalog (deepprimer.autograd.catalog) as pytest parameters.

The same table drives the float64 gradchecks (tests/ops/test_*.py), the PyTorch parity
tests (tests/ops/test_*_torch.py) and ``deepprimer check``.
"""
import pytest

from deepprimer.autograd.catalog import (  # noqa: F401  (re-exported for the test files)
    ELEMENTWISE, FUNCTIONAL, LINALG, NN_OPS, REDUCE, SHAPE, Case, Spec, make_arrays,
)


def params(cases, gradcheck=False):
    """``cases`` as pytest params (id = case name, with the case's marks); with
    ``gradcheck=True`` only those that have a gradient to check."""
    return [pytest.param(c, id=c.name, marks=c.marks) for c in cases if c.gradcheck or not gradcheck]
