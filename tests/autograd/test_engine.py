"""The backward pass: order, accumulation, graph freeing, grad mode, hooks, autograd.grad,
in-place safety, custom Functions, and the errors a learner sees."""
import gc
import weakref

import numpy as np
import pytest

import deepprimer as dp
from deepprimer.autograd import Function


def test_chain_rule_through_a_small_graph():
    x = dp.tensor(0.5, requires_grad=True)
    y = dp.tensor(0.3, requires_grad=True)
    z = (x * y + x**2).tanh()
    z.backward()
    local = 1 - np.tanh(0.5 * 0.3 + 0.25) ** 2
    assert x.grad.item() == pytest.approx(local * (0.3 + 1.0), rel=1e-6)
    assert y.grad.item() == pytest.approx(local * 0.5, rel=1e-6)


def test_a_tensor_used_twice_gets_both_gradients():
    x = dp.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    (h * h + h).sum().backward()  # d/dx (9x^2 + 3x) = 18x + 3
    assert x.grad.tolist() == [21.0, 39.0]


def test_long_chain_does_not_hit_the_recursion_limit():
    x = dp.tensor([1.0, 2.0], requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0 + 0.0
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


def test_gradients_accumulate_across_backward_calls():
    w = dp.tensor([1.0, 2.0], requires_grad=True)
    (w * 3).sum().backward()
    (w * w).sum().backward()
    assert w.grad.tolist() == [3.0 + 2.0, 3.0 + 4.0]
    w.grad = None
    (w * 3).sum().backward()
    assert w.grad.tolist() == [3.0, 3.0]


def test_grad_is_a_fresh_array_not_shared_with_the_graph():
    x = dp.tensor([1.0, 2.0], requires_grad=True)
    y = x + 0.0
    y.backward(dp.tensor([1.0, 1.0]))
    y2 = x * 1.0
    y2.backward(dp.tensor([1.0, 1.0]))
    assert x.grad.tolist() == [2.0, 2.0]
    seed = dp.tensor([5.0, 5.0])
    z = dp.tensor([0.0, 0.0], requires_grad=True)
    z.backward(seed)
    z.backward(seed)
    assert seed.tolist() == [5.0, 5.0] and z.grad.tolist() == [10.0, 10.0]


class _Twice(Function):
    """y = 2x, declaring that backward returns a new array (fresh_grads)."""

    fresh_grads = True

    def forward(self, x):
        return x * 2

    def backward(self, grad):
        returned.append(grad * 2)
        return returned[-1]


returned = []


def test_fresh_gradients_are_handed_on_and_added_into_without_copies():
    returned.clear()
    x = dp.tensor([1.0, 2.0], requires_grad=True)
    (_Twice.apply(x) + _Twice.apply(x)).sum().backward()
    assert x.grad.tolist() == [4.0, 4.0]
    # the first returned array became x.grad, the second was added into it in place
    assert x.grad.data is returned[0] and returned[0].tolist() == [4.0, 4.0]
    assert returned[1].tolist() == [2.0, 2.0]


def test_backward_with_explicit_gradient():
    x = dp.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * 2).backward(gradient=dp.tensor([1.0, 0.0, -1.0]))
    assert x.grad.tolist() == [2.0, 0.0, -2.0]
    (x * 2).backward(np.array([1.0, 1.0, 1.0]))  # an array or a list serves as one gradient too
    dp.autograd.backward(x * 1, [[1.0, 1.0, 1.0]])
    assert x.grad.tolist() == [5.0, 3.0, 1.0]


def test_backward_on_non_scalar_says_what_to_pass():
    y = dp.randn(3, 2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"grad can be implicitly created only for a scalar output, but this "
                                           r"tensor has shape \(3, 2\)\. Reduce it first \(loss.sum\(\) or loss.mean\(\)\), "
                                           r"or pass gradient=dp.ones_like\(t\)"):
        y.backward()


def test_backward_gradient_of_wrong_shape():
    y = dp.randn(3, requires_grad=True) * 2
    with pytest.raises(ValueError, match=r"backward: gradient has shape \(2,\) but the tensor has shape \(3,\)"):
        y.backward(dp.ones(2))


def test_backward_without_graph_is_explained():
    with pytest.raises(RuntimeError, match="backward: this tensor does not require grad and has no graph"):
        dp.ones(2).sum().backward()
    w = dp.ones(2, requires_grad=True)
    with dp.no_grad():
        loss = (w * 2).sum()
    with pytest.raises(RuntimeError, match="do not compute it under dp.no_grad"):
        loss.backward()


def test_second_backward_through_freed_graph_is_a_clear_error():
    x = dp.randn(3, requires_grad=True)
    loss = (x.exp() * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time.*retain_graph=True"):
        loss.backward()


def test_retain_graph_allows_a_second_backward():
    x = dp.tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    assert x.grad.tolist() == [4.0, 8.0]


def test_saved_arrays_are_released_after_backward():
    def build():
        x = dp.randn(1000, requires_grad=True)
        h = x.exp()  # its array is saved by Exp and by the Mul below, and held by h
        refs = [weakref.ref(h.data)]
        z = (h * h).sum()
        return x, z, refs

    x, loss, refs = build()
    gc.collect()
    assert refs[0]() is not None  # the graph keeps it alive until backward
    loss.backward()
    gc.collect()
    assert refs[0]() is None
    assert loss.grad_fn.saved is None and loss.grad_fn.inputs is None


def test_retain_graph_keeps_saved_arrays():
    x = dp.randn(10, requires_grad=True)
    h = x.exp()
    ref = weakref.ref(h.data)
    loss = (h * h).sum()
    del h
    loss.backward(retain_graph=True)
    gc.collect()
    assert ref() is not None
    loss.backward()
    gc.collect()
    assert ref() is None


def test_no_saved_arrays_without_grad():
    x = dp.randn(3)
    y = x.exp()
    assert y.grad_fn is None and not y.requires_grad
    w = dp.randn(3, requires_grad=True)
    with dp.no_grad():
        assert (w.exp() * w).grad_fn is None


# ---- grad mode ----------------------------------------------------------------------------


def test_no_grad_and_enable_grad_as_context_managers():
    w = dp.ones(2, requires_grad=True)
    with dp.no_grad():
        assert not dp.is_grad_enabled()
        assert not (w * 2).requires_grad
        with dp.enable_grad():
            assert (w * 2).requires_grad
        assert not (w * 2).requires_grad
    assert dp.is_grad_enabled() and (w * 2).requires_grad


def test_grad_mode_restored_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with dp.no_grad():
            1 / 0
    assert dp.is_grad_enabled()


def test_no_grad_and_enable_grad_as_decorators():
    w = dp.ones(2, requires_grad=True)

    @dp.no_grad()
    def evaluate(t):
        return t * 2

    @dp.no_grad
    def evaluate_bare(t):
        return t * 2

    @dp.enable_grad()
    def train(t):
        return t * 2

    assert not evaluate(w).requires_grad and not evaluate_bare(w).requires_grad
    assert evaluate.__name__ == "evaluate" and evaluate_bare.__name__ == "evaluate_bare"
    with dp.no_grad():
        assert train(w).requires_grad
    assert dp.is_grad_enabled()


def test_set_grad_enabled():
    w = dp.ones(2, requires_grad=True)
    with dp.set_grad_enabled(False):
        assert not (w * 2).requires_grad
    assert dp.is_grad_enabled()

    @dp.set_grad_enabled(False)
    def f(t):
        return t * 2

    assert dp.is_grad_enabled() and not f(w).requires_grad
    dp.set_grad_enabled(False)
    assert not dp.is_grad_enabled()
    dp.set_grad_enabled(True)
    assert dp.is_grad_enabled()


# ---- in-place changes -----------------------------------------------------------------------


def test_inplace_on_a_tensor_the_graph_needs_is_refused():
    x = dp.randn(3, requires_grad=True)
    y = x * 2
    for change in (lambda: y.__iadd__(1), lambda: y.__imul__(2), lambda: y.__isub__(1),
                   lambda: y.__itruediv__(2), lambda: y.zero_(), lambda: y.__setitem__(0, 1.0)):
        with pytest.raises(RuntimeError, match="in-place change of a tensor that is part of the graph"):
            change()


def test_inplace_on_a_leaf_that_requires_grad_is_refused_outside_no_grad():
    w = dp.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"a leaf tensor that requires grad is being changed in place.*dp.no_grad"):
        w += 1
    with pytest.raises(RuntimeError, match="a leaf tensor"):
        w[0] = 5.0


def test_inplace_on_leaves_under_no_grad_works():
    w = dp.ones(3, requires_grad=True)
    (w * w).sum().backward()
    with dp.no_grad():
        w -= 0.5 * w.grad
        w *= 2
        w[0] = 7.0
        w.add_(dp.ones(3), alpha=2)
    assert w.tolist() == [9.0, 2.0, 2.0]
    assert w.requires_grad and w.is_leaf


def test_inplace_with_an_operand_that_requires_grad_is_refused():
    a = dp.zeros(3)
    with pytest.raises(RuntimeError, match="in-place change with an operand that requires grad"):
        a += dp.ones(3, requires_grad=True)


def test_modifying_a_saved_input_is_caught_at_backward():
    x = dp.tensor([1.0, 2.0])
    w = dp.tensor([3.0, 4.0], requires_grad=True)
    loss = (w * x).sum()
    x += 1  # x needs no grad, so this is allowed, but Mul saved it
    with pytest.raises(RuntimeError, match=r"modified by an in-place operation: input 1 of Mul \(shape \(2,\)\) was changed after"):
        loss.backward()


def test_inplace_dtype_and_shape_errors_name_the_op():
    i = dp.tensor([1, 2])
    with pytest.raises(TypeError, match="add_ \\(in place\\): the result of int64 add float cannot be stored"):
        i += 0.5
    f = dp.zeros(3)
    with pytest.raises(ValueError, match=r"copy_ \(in place\): a value of shape \(2, 2\) cannot be broadcast into this tensor of shape \(3,\)"):
        f.copy_(dp.ones(2, 2))
    with pytest.raises(ValueError, match=r"mul_ \(in place\): a value of shape \(4,\)"):
        f *= dp.ones(4)


# ---- hooks and retain_grad ------------------------------------------------------------------


def test_hook_on_a_leaf_inspects_and_replaces_the_gradient():
    seen = []
    x = dp.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: seen.append(g.tolist()))
    x.register_hook(lambda g: g * 10)
    (x * x).sum().backward()  # x is used twice: the hook sees the whole gradient, once
    assert seen == [[2.0, 4.0]]
    assert x.grad.tolist() == [20.0, 40.0]


def test_hook_on_a_non_leaf_changes_what_flows_on():
    x = dp.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    seen = []
    h.register_hook(lambda g: seen.append(g.tolist()))
    h.register_hook(lambda g: g.clamp(max=1.5))
    (h * dp.tensor([1.0, 2.0])).sum().backward()
    assert seen == [[1.0, 2.0]]
    assert x.grad.tolist() == [3.0, 4.5]


def test_hook_handles_remove_hooks():
    x = dp.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1
    handles = [x.register_hook(lambda g: g * 2), h.register_hook(lambda g: g * 3)]
    (h * 1).sum().backward(retain_graph=True)
    assert x.grad.tolist() == [6.0, 6.0]
    for handle in handles:
        handle.remove()
    x.grad = None
    (h * 1).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


def test_hook_needs_requires_grad():
    with pytest.raises(RuntimeError, match="register_hook: this tensor does not require grad"):
        dp.ones(2).register_hook(lambda g: g)


def test_retain_grad_keeps_and_accumulates_a_non_leaf_gradient():
    x = dp.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h.retain_grad()
    out = (h * h).sum()
    out.backward(retain_graph=True)
    assert h.grad.tolist() == [4.0, 8.0]
    out.backward()
    assert h.grad.tolist() == [8.0, 16.0]
    y = x * 2
    (y * y).sum().backward()
    assert y.grad is None  # not kept without retain_grad


# ---- autograd.grad ----------------------------------------------------------------------------


def test_autograd_grad_returns_gradients_without_touching_dot_grad():
    x = dp.tensor([1.0, 2.0], requires_grad=True)
    y = dp.tensor([3.0], requires_grad=True)
    out = (x * x).sum() * y
    gx, gy = dp.autograd.grad(out, [x, y])
    assert gx.tolist() == [6.0, 12.0] and gy.tolist() == [5.0]
    assert x.grad is None and y.grad is None


def test_autograd_grad_for_a_non_leaf_and_with_grad_outputs():
    x = dp.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    out = h**2
    (gh,) = dp.autograd.grad(out, h, grad_outputs=dp.tensor([1.0, 0.5]), retain_graph=True)
    assert gh.tolist() == [6.0, 6.0]
    (gx,) = dp.autograd.grad(out.sum(), x)
    assert gx.tolist() == [18.0, 36.0]


def test_autograd_grad_unused_input():
    x = dp.ones(2, requires_grad=True)
    z = dp.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="autograd.grad: input 1 was not used to compute the outputs; pass allow_unused=True"):
        dp.autograd.grad((x * 2).sum(), [x, z], retain_graph=True)
    gx, gz = dp.autograd.grad((x * 2).sum(), [x, z], allow_unused=True)
    assert gx.tolist() == [2.0, 2.0] and gz is None


def test_autograd_grad_input_must_require_grad():
    with pytest.raises(RuntimeError, match="autograd.grad: input 0 does not require grad"):
        dp.autograd.grad(dp.ones(2, requires_grad=True).sum(), [dp.ones(2)])


def test_autograd_backward_several_roots():
    x = dp.tensor([1.0, 2.0], requires_grad=True)
    a, b = x * 2, x * x
    dp.autograd.backward([a, b], [dp.ones(2), dp.tensor([1.0, 0.0])])
    assert x.grad.tolist() == [4.0, 2.0]


# ---- custom Functions ------------------------------------------------------------------------


class Cube(Function):
    """Written the deepprimer way: instance methods, self is the ctx."""

    def forward(self, x):
        self.save_for_backward(x)
        return x**3

    def backward(self, grad):
        (x,) = self.saved_tensors
        return grad * 3 * x**2


class ScaledAdd(Function):
    """Written PyTorch-style: static methods taking ctx, a non-tensor argument."""

    @staticmethod
    def forward(ctx, a, b, alpha):
        ctx.alpha = alpha
        return a + alpha * b

    @staticmethod
    def backward(ctx, grad):
        return grad, grad * ctx.alpha, None


def test_custom_functions_both_styles():
    x = dp.tensor([1.0, 2.0], requires_grad=True)
    y = dp.tensor([3.0, 4.0], requires_grad=True)
    out = ScaledAdd.apply(Cube.apply(x), y, 0.5)
    assert out.tolist() == [2.5, 10.0]
    assert repr(out.grad_fn) == "<ScaledAddBackward>"
    out.sum().backward()
    assert x.grad.tolist() == [3.0, 12.0] and y.grad.tolist() == [0.5, 0.5]


def test_custom_functions_pass_gradcheck():
    x = dp.tensor([0.5, -1.5], dtype=dp.float64, requires_grad=True)
    y = dp.tensor([2.0, 1.0], dtype=dp.float64, requires_grad=True)
    assert dp.autograd.gradcheck(lambda a, b: ScaledAdd.apply(Cube.apply(a), b, 3.0), (x, y))


def test_custom_function_with_a_wrong_number_of_gradients():
    class Bad(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, grad):
            return grad

    out = Bad.apply(dp.ones(2, requires_grad=True), dp.ones(2)).sum()
    with pytest.raises(RuntimeError, match=r"Bad.backward returned 1 gradients; forward took 2 inputs, so it must return 2 \(None where there is none\)"):
        out.backward()


def test_custom_function_with_a_gradient_of_the_wrong_shape():
    class BadShape(Function):
        def forward(self, a):
            return a * 2

        def backward(self, grad):
            return grad[:1]

    out = BadShape.apply(dp.ones(3, requires_grad=True)).sum()
    with pytest.raises(RuntimeError, match=r"BadShape.backward: gradient of shape \(1,\) cannot flow into shape \(3,\)"):
        out.backward()


def test_integer_outputs_carry_no_graph():
    x = dp.randn(4, requires_grad=True)
    assert not x.argmax().requires_grad
    assert not x.long().requires_grad
    assert x.double().requires_grad


def test_astype_gradient_flows_back_in_the_input_dtype():
    x = dp.tensor([1.0, 2.0], requires_grad=True)
    (x.double() * 3).sum().backward()
    assert x.grad.dtype == dp.float32 and x.grad.tolist() == [3.0, 3.0]


def test_detach_cuts_the_graph():
    x = dp.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None
    assert np.shares_memory(d.data, y.data)
    (y * d).sum().backward()
    assert x.grad.tolist() == [4.0, 8.0]  # d is a constant


def test_backward_under_no_grad_still_works():
    x = dp.tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    with dp.no_grad():
        loss.backward()
    assert x.grad.tolist() == [2.0, 4.0]
