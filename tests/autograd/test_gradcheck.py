"""gradcheck: True for a right backward; for a wrong one, an error that names the input,
the element and both values."""
import inspect
import re

import pytest

import deepprimer as dp
from deepprimer.autograd import Function, GradcheckError


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 2 * x * grad


class WrongSquare(Function):
    """d(x^2)/dx written as x instead of 2x: the mistake gradcheck is there to catch."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return x * grad


class WrongSecondInput(Function):
    def forward(self, a, b):
        self.save_for_backward(a, b)
        return a * b

    def backward(self, grad):
        a, b = self.saved
        return grad * b, grad * a * 1.01


def x64(*values):
    return dp.tensor(list(values), dtype=dp.float64, requires_grad=True)


def test_signature_and_defaults_follow_the_issue():
    params = inspect.signature(dp.autograd.gradcheck).parameters
    assert list(params)[:5] == ["fn", "inputs", "eps", "atol", "rtol"]
    assert (params["eps"].default, params["atol"].default, params["rtol"].default) == (1e-6, 1e-5, 1e-3)


def test_passes_for_a_right_backward():
    assert dp.autograd.gradcheck(Square.apply, (x64(1.0, -2.0, 3.0),)) is True
    assert dp.autograd.gradcheck(lambda a: (a.sin() * a).sum(), x64(0.3, 0.7)) is True


def test_fails_for_a_wrong_backward_naming_input_element_and_values():
    x = dp.tensor([[1.0, -2.0], [0.5, 3.0]], dtype=dp.float64, requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        dp.autograd.gradcheck(WrongSquare.apply, (x,))
    message = str(info.value)
    assert "gradient of output 0 element 0 with respect to input 0 (shape (2, 2)) element (0, 0)" in message
    analytical, numerical = (float(v) for v in re.search(r"analytical (\S+) vs numerical (\S+)", message).groups())
    assert analytical == pytest.approx(1.0) and numerical == pytest.approx(2.0)
    assert "4 of 16 entries disagree" in message


def test_names_the_second_input():
    a, b = x64(1.0, 2.0), x64(3.0, 4.0)
    with pytest.raises(GradcheckError, match=r"with respect to input 1 \(shape \(2,\)\) element \(0,\): analytical 1.01 vs numerical 1"):
        dp.autograd.gradcheck(WrongSecondInput.apply, (a, b))


def test_raise_exception_false_returns_false():
    assert dp.autograd.gradcheck(WrongSquare.apply, (x64(1.0, 2.0),), raise_exception=False) is False


def test_tolerances_are_used():
    a, b = x64(1.0, 2.0), x64(3.0, 4.0)
    assert dp.autograd.gradcheck(WrongSecondInput.apply, (a, b), atol=0.1, rtol=0.0)


def test_non_tensor_and_constant_inputs_are_passed_through():
    x = x64(1.0, 2.0)
    c = dp.tensor([3.0, 4.0], dtype=dp.float64)
    assert dp.autograd.gradcheck(lambda a, k, b: (a * b) ** k, (x, 2, c))


def test_several_outputs():
    x = x64(0.5, 1.5, -1.0)
    assert dp.autograd.gradcheck(lambda a: (a.exp(), a.max(dim=0), a.chunk(3)), x)


def test_float32_inputs_are_refused():
    with pytest.raises(TypeError, match=r"gradcheck: input 0 is float32; finite differences need float64 \(create it with dtype=dp.float64 or call .double\(\)\)"):
        dp.autograd.gradcheck(Square.apply, (dp.ones(2, requires_grad=True),))


def test_nothing_to_check():
    with pytest.raises(ValueError, match="gradcheck: no input requires grad; there is nothing to check"):
        dp.autograd.gradcheck(Square.apply, (dp.ones(2, dtype=dp.float64),))


def test_works_under_no_grad():
    with dp.no_grad():
        assert dp.autograd.gradcheck(Square.apply, (x64(1.0, 2.0),))
        with pytest.raises(GradcheckError):
            dp.autograd.gradcheck(WrongSquare.apply, (x64(1.0, 2.0),))


def test_inputs_are_left_unchanged():
    x = x64(1.0, 2.0)
    dp.autograd.gradcheck(Square.apply, (x,))
    assert x.tolist() == [1.0, 2.0] and x.grad is None


def test_max_gradient_error():
    assert dp.autograd.max_gradient_error(Square.apply, (x64(1.0, 2.0),)) < 1e-8
    assert dp.autograd.max_gradient_error(WrongSquare.apply, (x64(1.0, 2.0),)) == pytest.approx(2.0, rel=1e-6)
