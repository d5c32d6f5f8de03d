"""detect_anomaly: the first op that makes NaN/Inf, and the user's line that made it."""
import inspect

import numpy as np
import pytest

import deepprimer as dp

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy notes the NaN too


def line_of(marker):
    """The line number in this file of the line containing ``marker``."""
    source, start = inspect.getsourcelines(inspect.getmodule(line_of))
    return next(i for i, text in enumerate(source, start or 1) if marker in text and "line_of" not in text)


def test_forward_nan_names_the_op_and_the_line():
    x = dp.tensor([1.0, -1.0], requires_grad=True)
    with dp.autograd.detect_anomaly():
        y = x * 2
        with pytest.raises(RuntimeError) as info:
            y.log()  # MARK-forward
    message = str(info.value)
    assert message.startswith("detect_anomaly: Log produced NaN/Inf in its forward output from finite inputs")
    assert f"test_anomaly.py:{line_of('MARK-forward')} in test_forward_nan_names_the_op_and_the_line" in message


def test_backward_nan_names_the_op_and_the_line():
    x = dp.tensor([0.0, 4.0], requires_grad=True)
    with dp.autograd.detect_anomaly():
        y = x.sqrt()  # MARK-backward
        loss = (y * 3).sum()
        with pytest.raises(RuntimeError) as info:
            loss.backward()
    message = str(info.value)
    assert "detect_anomaly: Sqrt.backward returned NaN/Inf in the gradient of its input 0" in message
    assert f"test_anomaly.py:{line_of('MARK-backward')}" in message


def test_nan_coming_in_from_the_data_is_told_apart():
    data = dp.tensor([float("nan"), 1.0])
    with dp.autograd.detect_anomaly():
        with pytest.raises(RuntimeError, match="an input of Mul already held NaN/Inf .*came from outside the recorded graph"):
            data * dp.ones(2, requires_grad=True)


def test_off_by_default_and_restored_after_the_block():
    assert not dp.autograd.is_anomaly_enabled()
    x = dp.tensor([-1.0], requires_grad=True)
    with np.errstate(invalid="ignore"):
        assert np.isnan(x.log().item())  # no error without anomaly detection
    with dp.autograd.detect_anomaly():
        assert dp.autograd.is_anomaly_enabled()
    assert not dp.autograd.is_anomaly_enabled()
    dp.autograd.set_detect_anomaly(True)
    assert dp.autograd.is_anomaly_enabled()
    dp.autograd.set_detect_anomaly(False)


def test_finite_computation_runs_unchanged_under_anomaly_detection():
    x = dp.tensor([1.0, 2.0], requires_grad=True)
    with dp.autograd.detect_anomaly():
        (x.exp() * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([1.0, 2.0]) * (1 + np.array([1.0, 2.0])), rtol=1e-6)
