"""Adversarial tests of the backward engine's hot path (heap order by creation number,
gradient ownership, version checks skipped when nothing changed, keyword settings, the
shared read-only dL/dL seed, cross-entropy's saved exp/sums, conv2d's kept im2col
matrix). Each test asserts values, so each can fail."""
import copy
import time

import numpy as np
import pytest

import deepprimer as dp
import deepprimer.nn.functional as F
from deepprimer.autograd import Function
from deepprimer.ops import conv as conv_ops
from deepprimer.ops.conv_reference import conv2d_reference

MODIFIED = "modified by an in-place operation"


def leaf(values, dtype=dp.float64):
    return dp.tensor(np.asarray(values, dtype=np.float64), dtype=dtype, requires_grad=True)


def numerical_gradient(loss_of, leaves, eps=1e-6):
    """Central differences of the scalar ``loss_of()`` for every element of every leaf."""
    grads = []
    for t in leaves:
        g = np.zeros(t.data.shape)
        for index in np.ndindex(*t.data.shape):
            orig = t.data[index]
            t.data[index] = orig + eps
            with dp.no_grad():
                plus = float(loss_of().data)
            t.data[index] = orig - eps
            with dp.no_grad():
                minus = float(loss_of().data)
            t.data[index] = orig
            g[index] = (plus - minus) / (2 * eps)
        grads.append(g)
    return grads


# ---- order: the heap of creation numbers ---------------------------------------------------


def test_diamond_sums_both_paths():
    x = leaf([0.5, -1.0, 2.0])
    a = x * 3.0
    b = a.sin()
    c = a.exp()
    (b * c).sum().backward()
    a_ = 3 * x.data
    expected = 3 * (np.cos(a_) * np.exp(a_) + np.sin(a_) * np.exp(a_))
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-12)


def test_an_early_node_consumed_by_a_node_made_much_later():
    # h is made first; hundreds of unrelated nodes follow; then h is consumed twice more,
    # once by a node made before the unrelated ones and once after them
    x = leaf([0.3, 0.7])
    u = leaf([1.0, 2.0])
    h = x.tanh()
    early = h * 2.0
    chain = u
    for _ in range(300):
        chain = chain * 1.001 + 0.0
    late = h * h
    loss = (early + late + chain).sum()
    loss.backward()
    t = np.tanh(x.data)
    np.testing.assert_allclose(x.grad.data, (2.0 + 2 * t) * (1 - t**2), rtol=1e-12)
    np.testing.assert_allclose(u.grad.data, [1.001**300] * 2, rtol=1e-9)


def test_fan_out_to_many_interleaved_consumers():
    x = leaf([0.1, 0.2, 0.3])
    other = leaf([1.0, 1.0, 1.0])
    h = x * x  # every consumer below reads h; unrelated nodes come between them
    total = None
    for k in range(1, 41):
        noise = (other * float(k)).sin()
        term = h * float(k) + noise
        total = term if total is None else total + term
    total.sum().backward()
    np.testing.assert_allclose(x.grad.data, sum(range(1, 41)) * 2 * x.data, rtol=1e-12)
    expected_other = sum(k * np.cos(k * other.data) for k in range(1, 41))
    np.testing.assert_allclose(other.grad.data, expected_other, rtol=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_random_dags_match_finite_differences(seed):
    """Random graphs with fan-out, diamonds and late consumers of early nodes."""
    rng = np.random.default_rng(seed)
    leaves = [leaf(rng.uniform(-1, 1, 3)) for _ in range(3)]
    recipe = []  # (op, operand indices) over the list [leaves..., nodes...]
    size = len(leaves)
    for _ in range(40):
        op = rng.choice(["add", "mul", "sin", "tanh", "sub", "scale"])
        picks = tuple(int(i) for i in rng.integers(0, size, 2))
        recipe.append((op, picks))
        size += 1
    outputs = rng.choice(np.arange(3, size), 5, replace=False)

    def build():
        values = list(leaves)
        for op, (i, j) in recipe:
            a, b = values[i], values[j]
            values.append({
                "add": lambda: a + b, "mul": lambda: a * b, "sub": lambda: a - b,
                "sin": lambda: a.sin(), "tanh": lambda: (a * 0.5).tanh(), "scale": lambda: a * 0.9,
            }[op]())
        return sum((values[int(k)] * float(n + 1)).sum() for n, k in enumerate(outputs))

    build().backward()
    expected = numerical_gradient(build, leaves)
    for t, g in zip(leaves, expected):
        got = np.zeros(3) if t.grad is None else t.grad.data
        np.testing.assert_allclose(got, g, rtol=1e-6, atol=1e-7)


def test_twenty_thousand_step_chain_is_fast_and_exact():
    x = leaf([1.0, 2.0])
    y = x
    for _ in range(20_000):
        y = y * 1.0 + 1.0
    start = time.perf_counter()
    y.sum().backward()
    elapsed = time.perf_counter() - start
    assert x.grad.tolist() == [1.0, 1.0]
    assert elapsed < 10.0, f"backward through 40,000 nodes took {elapsed:.1f} s"


# ---- several roots, retained graphs, autograd.grad ----------------------------------------


def test_backward_from_several_roots_where_one_feeds_the_other():
    x = leaf([1.0, 2.0])
    a = x * x
    b = (a * 3.0).sum()
    dp.autograd.backward([a, b], [dp.ones_like(a) * 2.0, None])
    np.testing.assert_allclose(x.grad.data, (2.0 + 3.0) * 2 * x.data)


def test_backward_from_the_same_root_twice_in_the_list():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    dp.autograd.backward([y, y])
    np.testing.assert_allclose(x.grad.data, 2 * 2 * x.data)


def test_backward_roots_include_a_leaf_and_a_scalar_leaf_root_grad_is_writeable():
    x = leaf(3.0)
    w = leaf([1.0, 2.0])
    dp.autograd.backward([x, (w * x).sum()])
    assert x.grad.item() == pytest.approx(1.0 + 3.0)
    x.grad.data += 1.0  # the accumulated gradient is our own array, not the shared seed
    assert x.grad.item() == pytest.approx(5.0)
    z = leaf(7.0)
    z.backward()
    assert z.grad.item() == 1.0  # the seed itself was not changed through x.grad


def test_backward_from_an_intermediate_then_from_the_final_tensor():
    x = leaf([0.5, 1.5])
    h = x.exp()
    final = (h * h).sum()
    h.sum().backward(retain_graph=True)
    np.testing.assert_allclose(x.grad.data, np.exp(x.data))
    final.backward()
    np.testing.assert_allclose(x.grad.data, np.exp(x.data) + 2 * np.exp(2 * x.data))


def test_backward_from_an_intermediate_without_retain_frees_it_for_the_final_one():
    x = leaf([0.5, 1.5])
    h = x.exp()
    final = (h * h).sum()
    h.sum().backward()
    with pytest.raises(RuntimeError, match="second time"):
        final.backward()


def test_autograd_grad_of_non_leaves_and_leaves_with_unused():
    x = leaf([1.0, 2.0])
    unused = leaf([5.0])
    h = x * 3.0
    y = (h * h).sum()
    gh, gx, gu = dp.autograd.grad(y, [h, x, unused], allow_unused=True, retain_graph=True)
    np.testing.assert_allclose(gh.data, 2 * h.data)
    np.testing.assert_allclose(gx.data, 18 * x.data)
    assert gu is None
    assert x.grad is None and h.grad is None  # nothing accumulated
    with pytest.raises(RuntimeError, match="input 1 was not used"):
        dp.autograd.grad(y, [x, unused])


def test_autograd_grad_of_the_output_itself_and_of_a_leaf_root():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    (gy,) = dp.autograd.grad(y, y, retain_graph=True)
    assert gy.item() == 1.0
    gy.data += 1.0  # a fresh array: the shared seed must stay ones
    (gy2,) = dp.autograd.grad(y, y)
    assert gy2.item() == 1.0
    s = leaf(2.0)
    (gs,) = dp.autograd.grad(s, s)
    assert gs.item() == 1.0


def test_autograd_grad_with_grad_outputs_leaves_them_unchanged():
    x = leaf([1.0, 2.0, 3.0])
    y = x * 2.0
    z = y + y  # Add hands the same incoming gradient to both inputs
    seed = dp.tensor([1.0, 10.0, 100.0], dtype=dp.float64)
    (gx,) = dp.autograd.grad(z, x, grad_outputs=seed)
    np.testing.assert_allclose(gx.data, [4.0, 40.0, 400.0])
    assert seed.tolist() == [1.0, 10.0, 100.0]


def test_backward_with_an_explicit_gradient_does_not_change_it():
    x = leaf([1.0, 2.0])
    w = leaf([3.0, 4.0])
    y = x + w  # both inputs receive the caller's array itself
    seed = dp.tensor([1.0, 1.0], dtype=dp.float64)
    y.backward(seed)
    y2 = x * 1.0
    y2.backward(seed)
    x.grad.data *= 10.0
    w.grad.data *= 100.0
    assert seed.tolist() == [1.0, 1.0]
    assert x.grad.tolist() == [20.0, 20.0] and w.grad.tolist() == [100.0, 100.0]


# ---- hooks and retain_grad --------------------------------------------------------------


def test_hooks_on_leaves_and_non_leaves_replace_the_gradient():
    x = leaf([1.0, 2.0])
    seen = []
    x.register_hook(lambda g: seen.append(g.tolist()) or g * 10.0)
    h = x * 2.0
    h.register_hook(lambda g: g + 1.0)
    (h * h).sum().backward()  # dL/dh = 2h, +1, through *2, hook sees the whole sum once
    expected = (2 * (2 * x.data) + 1.0) * 2.0
    assert seen == [expected.tolist()]
    np.testing.assert_allclose(x.grad.data, expected * 10.0)


def test_leaf_hook_sees_its_whole_gradient_once_from_many_paths():
    x = leaf([1.0, 2.0])
    calls = []
    x.register_hook(lambda g: calls.append(g.tolist()))
    (x * 2.0 + x * 3.0 + x.sin()).sum().backward()
    assert len(calls) == 1
    np.testing.assert_allclose(calls[0], 5.0 + np.cos(x.data))


def test_a_hook_returning_a_tensor_it_keeps_does_not_alias_grad():
    x = leaf([1.0, 2.0])
    kept = dp.tensor([7.0, 7.0], dtype=dp.float64)
    h = x.clone()
    h.register_hook(lambda g: kept)
    (h * 1.0).sum().backward()
    x.grad.data += 1.0
    assert kept.tolist() == [7.0, 7.0]
    assert x.grad.tolist() == [8.0, 8.0]


def test_hook_on_the_loss_may_change_its_gradient_in_place():
    x = leaf([1.0, 2.0])
    loss = (x * x).sum()
    loss.register_hook(lambda g: g.mul_(2.0))
    loss.backward()
    np.testing.assert_allclose(x.grad.data, 4 * x.data)


def test_in_place_hook_on_a_read_only_gradient_gets_a_clear_error_if_refused():
    """If in-place change of the root gradient stays refused, the error must say why
    (read-only), not blame broadcasting."""
    x = leaf(3.0)
    x.register_hook(lambda g: g.mul_(2.0))
    try:
        x.backward()
    except (ValueError, RuntimeError) as err:
        assert "broadcast" not in str(err), f"misleading error: {err}"
    else:
        assert x.grad.item() == 2.0



class ScaleGradInPlace(Function):
    """A custom Function whose backward scales the incoming gradient in place (torch
    allows this for a Function's grad_output)."""

    def forward(self, a):
        self.save_for_backward(a)
        return (a * a).sum()

    def backward(self, grad):
        grad *= 2.0
        (a,) = self.saved
        return grad * a


def test_custom_function_at_the_root_may_change_grad_in_place():
    x = leaf([1.0, 2.0, 3.0])
    ScaleGradInPlace.apply(x).backward()
    np.testing.assert_allclose(x.grad.data, 2 * x.data)


def test_custom_function_changing_grad_in_place_below_the_root():
    x = leaf([1.0, 2.0, 3.0])
    (ScaleGradInPlace.apply(x) * 1.0).backward()  # Mul's backward hands it a fresh array
    np.testing.assert_allclose(x.grad.data, 2 * x.data)


def test_retain_grad_on_non_leaves_is_its_own_array():
    x = leaf([1.0, 2.0])
    h = x.clone()  # Clone's backward passes its incoming gradient through unchanged
    h.retain_grad()
    y = (h * 3.0).sum()
    y.retain_grad()
    y.backward()
    assert y.grad.item() == 1.0
    np.testing.assert_allclose(h.grad.data, [3.0, 3.0])
    h.grad.data += 100.0
    y.grad.data += 100.0
    np.testing.assert_allclose(x.grad.data, [3.0, 3.0])
    z = leaf(1.0) * 2.0
    z.backward()
    (w,) = dp.autograd.grad((x * 1.0).sum(), x)
    assert w.tolist() == [1.0, 1.0]  # the shared seed still holds ones


# ---- gradient ownership: what the engine may add into in place ----------------------------


class SameArrayTwice(Function):
    """Returns one fresh array for both inputs."""

    def forward(self, a, b):
        return a * 2.0 + b * 2.0

    def backward(self, grad):
        g = grad * 2.0
        return g, g


@pytest.mark.parametrize("non_leaf", [False, True])
def test_one_array_returned_for_two_inputs_gives_independent_grads(non_leaf):
    a = leaf([1.0, 2.0])
    b = leaf([3.0, 4.0])
    for step in (1, 2):
        ia, ib = (a * 1.0, b * 1.0) if non_leaf else (a, b)
        # made first, so they run after SameArrayTwice and add into what it gathered
        early = (ia * 5.0).sum() + (ib * 7.0).sum()
        loss = early + SameArrayTwice.apply(ia, ib).sum()
        loss.backward()
        np.testing.assert_allclose(a.grad.data, [7.0 * step] * 2)
        np.testing.assert_allclose(b.grad.data, [9.0 * step] * 2)
    a.grad.data += 1.0
    np.testing.assert_allclose(b.grad.data, [18.0, 18.0])


class ViewOfIncoming(Function):
    """Returns a view of the incoming gradient (a reshape) and the gradient itself."""

    def forward(self, a, b):
        return a + b

    def backward(self, grad):
        return grad.reshape(grad.shape), grad


def test_a_view_of_the_incoming_gradient_is_not_added_into():
    a = leaf([1.0, 2.0])
    b = leaf([3.0, 4.0])
    early = (a * 5.0).sum() + (b * 7.0).sum()
    y = ViewOfIncoming.apply(a, b)
    seed = dp.tensor([1.0, 2.0], dtype=dp.float64)
    dp.autograd.backward([y, early], [seed, None])
    np.testing.assert_allclose(a.grad.data, [6.0, 7.0])
    np.testing.assert_allclose(b.grad.data, [8.0, 9.0])
    assert seed.tolist() == [1.0, 2.0]


class FreshAndItsView(Function):
    """Returns a fresh array for input 0 and a view of that same array for input 1."""

    def forward(self, a, b):
        return a * 2.0 + b * 2.0

    def backward(self, grad):
        g = grad * 2.0
        return g, g.reshape(g.shape)


@pytest.mark.parametrize("non_leaf", [False, True])
def test_a_returned_array_with_a_view_of_it_for_another_input(non_leaf):
    a = leaf([1.0, 2.0, 3.0])
    b = leaf([1.0, 2.0, 3.0])
    ia, ib = (a * 1.0, b * 1.0) if non_leaf else (a, b)
    early = ia.sum()  # made first, so it runs after FreshAndItsView and adds into a's gradient
    (early + FreshAndItsView.apply(ia, ib).sum()).backward()
    np.testing.assert_allclose(a.grad.data, [3.0] * 3)
    np.testing.assert_allclose(b.grad.data, [2.0] * 3)


@pytest.mark.parametrize("op, expected", [
    (lambda x: x * x, lambda v: 2 * v),
    (lambda x: x + x, lambda v: np.full_like(v, 2.0)),
    (lambda x: x - x, lambda v: np.zeros_like(v)),
    (lambda x: x / x, lambda v: np.zeros_like(v)),
    (lambda x: x**x, lambda v: v**v * (np.log(v) + 1)),
    (lambda x: x @ x, lambda v: 2 * v),
])
def test_the_same_tensor_twice_in_one_op(op, expected):
    x = leaf([0.5, 1.5, 2.5])
    for step in (1, 2):
        op(x).sum().backward()
        np.testing.assert_allclose(x.grad.data, step * expected(x.data), rtol=1e-12, atol=1e-12)


def test_grads_of_leaves_are_writeable_own_arrays_after_shared_paths():
    a = leaf([1.0, 2.0])
    b = leaf([3.0, 4.0])
    (a + b).sum().backward()  # both get views of one broadcast of the seed
    a.grad.data += 1.0
    assert b.grad.tolist() == [1.0, 1.0]
    assert a.grad.data.flags.writeable and b.grad.data.flags.writeable


# ---- version checks ---------------------------------------------------------------------


def test_in_place_change_after_forward_is_caught():
    x = leaf([1.0, 2.0])
    w = leaf([3.0, 4.0])
    y = (x * w).sum()
    with dp.no_grad():
        w += 1.0
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.backward()


def test_in_place_change_caught_after_an_unrelated_change_moved_the_counter():
    x = leaf([1.0, 2.0])
    w = leaf([3.0, 4.0])
    unrelated = dp.tensor([0.0])
    y = (x * w).sum()
    unrelated += 1.0
    with dp.no_grad():
        w.mul_(2.0)
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.backward()


def test_unrelated_changes_alone_raise_nothing():
    x = leaf([1.0, 2.0])
    w = leaf([3.0, 4.0])
    y = (x * w).sum()
    other = dp.tensor([0.0, 0.0])
    for _ in range(3):
        other += 1.0
        other[0] = 5.0
    y.backward()
    np.testing.assert_allclose(x.grad.data, [3.0, 4.0])


def test_change_before_recording_is_fine_change_after_is_caught():
    x = leaf([1.0, 2.0])
    w = leaf([3.0, 4.0])
    before = (x * w).sum()  # recorded with w at version 0
    with dp.no_grad():
        w += 1.0
    after = (x * w).sum()  # recorded with w at version 1: valid
    after.backward()
    np.testing.assert_allclose(x.grad.data, [4.0, 5.0])
    with pytest.raises(RuntimeError, match=MODIFIED):
        before.backward()
    late = (x.exp() * 2.0).sum()  # recorded after every change: still valid
    with dp.no_grad():
        x.grad.zero_()
    late.backward()
    np.testing.assert_allclose(x.grad.data, 2 * np.exp(x.data))


def test_a_change_to_the_input_of_a_node_deep_in_the_graph_is_caught():
    x = leaf([0.5, 1.0])
    w = leaf([2.0, 3.0])
    deep = x * w  # saves w
    y = deep
    for _ in range(50):
        y = y.tanh() + 0.0
    loss = y.sum()
    with dp.no_grad():
        w.clamp_(min=2.5)
    with pytest.raises(RuntimeError, match=r"input 1 of Mul"):
        loss.backward()


def test_setitem_under_no_grad_is_caught():
    x = leaf([1.0, 2.0])
    w = leaf([3.0, 4.0])
    y = (x * w).sum()
    with dp.no_grad():
        w[0] = 0.0
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.backward()


def test_optimizer_step_between_forward_and_backward_is_caught():
    model = dp.nn.Linear(3, 2)
    opt = dp.optim.SGD(model.parameters(), lr=0.1)
    x = dp.randn(4, 3)
    model(x).sum().backward()
    loss = (model(x) ** 2).sum()  # a second forward, then step before its backward
    opt.step()
    with pytest.raises(RuntimeError, match=MODIFIED):
        loss.backward()


def test_versions_are_only_compared_for_nodes_that_saved_arrays():
    x = leaf([1.0, 2.0])
    w = leaf([3.0, 4.0])
    y = (x + w).sum()  # Add saves nothing: torch allows changing w here
    with dp.no_grad():
        w += 1.0
    y.backward()
    assert w.grad.tolist() == [1.0, 1.0]


def test_in_place_change_through_detach_is_caught():
    x = leaf([1.0, 2.0])
    w = leaf([3.0, 4.0])
    y = (x * w).sum()
    w.detach().mul_(0.0)
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.backward()


def test_in_place_change_of_a_saved_output_is_caught():
    x = leaf([0.0, 1.0])
    h = x.exp()
    loss = h.sum()
    with dp.no_grad():
        h += 1.0
    with pytest.raises(RuntimeError, match=MODIFIED):
        loss.backward()


# ---- requires_grad changed between forward and backward ------------------------------------


def test_leaf_frozen_after_forward_gets_no_grad():
    x = leaf([1.0, 2.0])
    w = leaf([3.0, 4.0])
    y = (x * w).sum()
    x.requires_grad_(False)
    y.backward()
    assert x.grad is None
    assert w.grad.tolist() == [1.0, 2.0]


def test_detach_in_place_after_use_gives_no_grad_to_the_detached_tensor():
    x = leaf([1.0, 2.0])
    h = x * 3.0
    y = (h * 2.0).sum()
    h.detach_()
    y.backward()
    assert h.grad is None


# ---- zero_grad(set_to_none=False) --------------------------------------------------------


def test_zero_grad_keeping_arrays_then_backward_accumulates():
    model = dp.nn.Linear(3, 2)
    opt = dp.optim.SGD(model.parameters(), lr=0.1)
    x = dp.randn(4, 3)
    model(x).sum().backward()
    grads = [p.grad for p in model.parameters()]
    arrays = [g.data for g in grads]
    opt.zero_grad(set_to_none=False)
    model.zero_grad(set_to_none=False)
    assert all((a == 0).all() for a in arrays)
    model(x).sum().backward()
    model(x).sum().backward()
    assert [p.grad for p in model.parameters()] == grads  # the same tensors, added into
    np.testing.assert_allclose(model.bias.grad.data, [8.0, 8.0])
    np.testing.assert_allclose(model.weight.grad.data, 2 * np.tile(x.data.sum(0), (2, 1)), rtol=1e-6)


def test_explicit_float64_gradient_on_a_float32_leaf_keeps_float32():
    x = dp.ones(3, requires_grad=True)
    x.backward(dp.ones(3, dtype=dp.float64))
    assert x.grad.dtype == dp.float32


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_mean_of_an_empty_tensor_has_a_gradient():
    x = dp.zeros(0, 3, requires_grad=True)
    x.mean(dim=1).sum().backward()
    assert x.grad.shape == (0, 3)


# ---- Function.apply: keyword settings and constants ---------------------------------------


class ScaledSum(Function):
    """Positional: a tensor, a constant array; keyword: a setting."""

    def forward(self, a, offset, *, scale):
        self.save_for_backward(a)
        self.scale = scale
        return ((a + offset) * scale).sum()

    def backward(self, grad):
        (a,) = self.saved
        return np.broadcast_to(grad * self.scale, a.shape), None


def test_keyword_settings_get_no_gradient_slot_and_constants_stay_in_inputs():
    x = leaf([1.0, 2.0])
    offset = np.array([10.0, 20.0])
    y = ScaledSum.apply(x, offset, scale=3.0)
    assert y.item() == pytest.approx(3.0 * 33.0)
    assert y.grad_fn.inputs[1] is offset and y.grad_fn.needs_input_grad == (True, False)
    y.backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_backward_returning_a_gradient_per_keyword_is_an_error():
    class TooMany(Function):
        def forward(self, a, *, k):
            return a * k

        def backward(self, grad):
            return grad, None

    x = leaf([1.0])
    with pytest.raises(RuntimeError, match="returned 2 gradients"):
        TooMany.apply(x, k=2.0).sum().backward()


def test_non_tensor_inputs_after_version_changes():
    # constants among fn.inputs must not break the version comparison
    x = leaf([1.0, 2.0])
    y = ScaledSum.apply(x, np.array([1.0, 1.0]), scale=2.0)
    other = dp.tensor([0.0])
    other += 1.0
    y.backward()
    assert x.grad.tolist() == [2.0, 2.0]


# ---- copies of a graph --------------------------------------------------------------------


def test_deepcopy_of_a_non_leaf_then_backward():
    x = leaf([1.0, 2.0, 3.0])
    y = x * 2.0
    try:
        y2 = copy.deepcopy(y)
    except RuntimeError as err:  # refusing, as torch does, is fine
        assert "graph leaves" in str(err) and "detach()" in str(err)
        return
    (y + y2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]


def test_pickling_a_non_leaf_is_refused_and_a_leaf_round_trips():
    import pickle

    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="pickle t.detach"):
        pickle.dumps(x * 2.0)
    back = pickle.loads(pickle.dumps(x))
    assert back.requires_grad and back.is_leaf and back.data.tolist() == [1.0, 2.0]
    copied = copy.deepcopy(x)
    assert copied.requires_grad and copied.data is not x.data


# ---- cross-entropy: saved exp/sums, one-reduction target checks ---------------------------


def reference_ce(x, target, weight=None, ignore_index=-100, reduction="mean", smoothing=0.0):
    """torch's cross-entropy for class indices, composed of primitives."""
    n, c = x.shape
    t = np.asarray(target)
    valid = t != ignore_index
    safe = np.where(valid, t, 0)
    w = np.ones(c) if weight is None else np.asarray(weight, dtype=np.float64)
    onehot = np.zeros((n, c))
    onehot[np.arange(n), safe] = 1.0
    row_w = w[safe] * valid
    logp = F.log_softmax(x, dim=1)
    nll = -(logp * dp.tensor(onehot * row_w[:, None], dtype=x.dtype)).sum(dim=1)
    loss = nll
    if smoothing:
        smooth = -(logp * dp.tensor(w, dtype=x.dtype)).sum(dim=1) * dp.tensor(valid * 1.0, dtype=x.dtype)
        loss = nll * (1 - smoothing) + smooth * (smoothing / c)
    if reduction == "none":
        return loss
    total = loss.sum()
    return total / float(row_w.sum()) if reduction == "mean" else total


CE_CASES = [
    dict(),
    dict(reduction="sum"),
    dict(reduction="none"),
    dict(ignore_index=0),
    dict(ignore_index=2, reduction="sum"),
    dict(weight=[0.5, 2.0, 1.0, 3.0]),
    dict(weight=[0.5, 2.0, 1.0, 3.0], ignore_index=1),
    dict(smoothing=0.2),
    dict(smoothing=0.2, ignore_index=0),
    dict(smoothing=0.1, weight=[0.5, 2.0, 1.0, 3.0], ignore_index=3, reduction="none"),
    dict(smoothing=0.3, weight=[0.5, 2.0, 1.0, 3.0], reduction="mean"),
]


@pytest.mark.parametrize("dtype", [dp.float64, dp.float32])
@pytest.mark.parametrize("kw", CE_CASES, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()) or "plain")
def test_cross_entropy_matches_a_composition_of_primitives(kw, dtype):
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((6, 4)) * 3
    target = np.array([0, 1, 2, 3, 0, -100 if kw.get("ignore_index", -100) == -100 else 1])
    x1 = dp.tensor(logits, dtype=dtype, requires_grad=True)
    x2 = dp.tensor(logits, dtype=dtype, requires_grad=True)
    weight = None if "weight" not in kw else dp.tensor(kw["weight"], dtype=dtype)
    got = F.cross_entropy(x1, dp.tensor(target), weight=weight, ignore_index=kw.get("ignore_index", -100),
                          reduction=kw.get("reduction", "mean"), label_smoothing=kw.get("smoothing", 0.0))
    want = reference_ce(x2, target, kw.get("weight"), kw.get("ignore_index", -100),
                        kw.get("reduction", "mean"), kw.get("smoothing", 0.0))
    assert got.dtype == dtype
    tol = 1e-12 if dtype == dp.float64 else 1e-5
    np.testing.assert_allclose(got.data, want.data, rtol=tol, atol=tol)
    seed = np.linspace(0.5, 1.5, 6) if kw.get("reduction") == "none" else None
    got.backward(None if seed is None else dp.tensor(seed, dtype=dtype))
    want.backward(None if seed is None else dp.tensor(seed, dtype=dtype))
    np.testing.assert_allclose(x1.grad.data, x2.grad.data, rtol=tol, atol=tol)


def test_cross_entropy_ignore_index_rows_get_zero_gradient():
    x = leaf(np.random.default_rng(0).standard_normal((4, 3)))
    F.cross_entropy(x, dp.tensor([0, -100, 2, -100])).backward()
    assert (x.grad.data[[1, 3]] == 0).all()
    np.testing.assert_allclose(x.grad.data.sum(axis=1), 0.0, atol=1e-12)
    y = leaf(np.random.default_rng(0).standard_normal((3, 3)))
    F.cross_entropy(y, dp.tensor([0, 0, 2]), ignore_index=0).backward()
    assert (y.grad.data[:2] == 0).all() and (y.grad.data[2] != 0).all()


@pytest.mark.parametrize("ignore_index", [-100, 0, -1])
def test_cross_entropy_negative_labels_are_an_error(ignore_index):
    x = leaf(np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"target class -2 is out of range for 4 classes"):
        F.cross_entropy(x, dp.tensor([0, -2, 1]), ignore_index=ignore_index)


def test_cross_entropy_ignore_index_minus_one_ignores_only_it():
    x = leaf(np.zeros((2, 4)))
    loss = F.cross_entropy(x, dp.tensor([-1, 2]), ignore_index=-1)
    assert loss.item() == pytest.approx(np.log(4))
    with pytest.raises(ValueError, match=r"target class -100 is out of range"):
        F.cross_entropy(x, dp.tensor([-100, 2]), ignore_index=-1)


@pytest.mark.parametrize("ignore_index", [-100, 0, 7])
def test_cross_entropy_labels_past_the_classes_name_the_class(ignore_index):
    x = leaf(np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"target class 5 is out of range for 4 classes \(0\.\.3\)"):
        F.cross_entropy(x, dp.tensor([1, 5, 2]), ignore_index=ignore_index)
    with pytest.raises(ValueError, match=r"target class 4 is out of range"):
        F.cross_entropy(x, dp.tensor([1, 4, 2]), weight=dp.ones(4, dtype=dp.float64), ignore_index=ignore_index)


def test_cross_entropy_ignore_index_past_the_classes_is_ignored():
    x = leaf(np.zeros((2, 3)))
    loss = F.cross_entropy(x, dp.tensor([7, 1]), ignore_index=7)
    assert loss.item() == pytest.approx(np.log(3))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_empty_batch(reduction):
    x = leaf(np.zeros((0, 4)))
    loss = F.cross_entropy(x, dp.tensor(np.zeros(0, dtype=np.int64)), reduction=reduction)
    if reduction == "mean":
        assert np.isnan(loss.item())  # torch: nan (0 / 0)
    elif reduction == "sum":
        assert loss.item() == 0.0
    else:
        assert tuple(loss.shape) == (0,)
    loss.sum().backward()
    assert x.grad.shape == (0, 4)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_cross_entropy_all_rows_ignored_is_nan_with_zero_gradient_for_sum():
    x = leaf(np.zeros((2, 3)))
    assert np.isnan(F.cross_entropy(x, dp.tensor([-100, -100])).item())
    F.cross_entropy(x, dp.tensor([-100, -100]), reduction="sum").backward()
    assert (x.grad.data == 0).all()


@pytest.mark.parametrize("smoothing", [0.0, 0.25])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_probability_targets_with_grad(smoothing, weighted):
    rng = np.random.default_rng(5)
    logits = rng.standard_normal((3, 4))
    q = rng.dirichlet(np.ones(4), 3)
    w = np.array([0.5, 1.0, 2.0, 1.5]) if weighted else None
    x1, t1 = leaf(logits), leaf(q)
    x2, t2 = leaf(logits), leaf(q)
    loss = F.cross_entropy(x1, t1, weight=None if w is None else dp.tensor(w, dtype=dp.float64),
                           label_smoothing=smoothing)
    qs = t2 * (1 - smoothing) + smoothing / 4
    if w is not None:
        qs = qs * dp.tensor(w, dtype=dp.float64)
    want = -(F.log_softmax(x2, dim=1) * qs).sum() / 3.0
    np.testing.assert_allclose(loss.item(), want.item(), rtol=1e-12)
    loss.backward()
    want.backward()
    np.testing.assert_allclose(x1.grad.data, x2.grad.data, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(t1.grad.data, t2.grad.data, rtol=1e-10, atol=1e-12)


def test_cross_entropy_backward_twice_with_retain_graph_is_unchanged():
    # backward writes into its softmax array in place: the saved exp/sums must survive
    x = leaf(np.random.default_rng(1).standard_normal((4, 3)))
    loss = F.cross_entropy(x, dp.tensor([0, 1, 2, 1]), label_smoothing=0.1, weight=dp.tensor([1.0, 2.0, 3.0], dtype=dp.float64))
    loss.backward(retain_graph=True)
    first = x.grad.data.copy()
    loss.backward()
    np.testing.assert_allclose(x.grad.data, 2 * first, rtol=1e-12)


def test_cross_entropy_spatial_targets_with_ignore():
    rng = np.random.default_rng(2)
    logits = rng.standard_normal((2, 3, 2, 2))
    target = np.array([[[0, 1], [2, -100]], [[1, 1], [0, 2]]])
    x1, x2 = leaf(logits), leaf(logits)
    got = F.cross_entropy(x1, dp.tensor(target))
    flat = x2.permute(0, 2, 3, 1).reshape(-1, 3)
    want = reference_ce(flat, target.reshape(-1))
    np.testing.assert_allclose(got.item(), want.item(), rtol=1e-12)
    got.backward()
    want.backward()
    np.testing.assert_allclose(x1.grad.data, x2.grad.data, rtol=1e-10, atol=1e-12)


# ---- Linear's own bias gradient -------------------------------------------------------------


@pytest.mark.parametrize("shape", [(3,), (4, 3), (2, 5, 3), (0, 3)])
def test_linear_bias_gradient_for_any_leading_shape(shape):
    rng = np.random.default_rng(0)
    x = leaf(rng.standard_normal(shape))
    W = leaf(rng.standard_normal((2, 3)))
    b = leaf([0.1, -0.2])
    g = rng.standard_normal(shape[:-1] + (2,))
    F.linear(x, W, b).backward(dp.tensor(g, dtype=dp.float64))
    np.testing.assert_allclose(b.grad.data, g.reshape(-1, 2).sum(axis=0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(W.grad.data, g.reshape(-1, 2).T @ x.data.reshape(-1, 3), rtol=1e-12, atol=1e-12)
    assert b.grad.dtype == dp.float64 and b.grad.data.flags.writeable


def test_linear_bias_gradient_accumulates_with_another_use_of_the_bias():
    x = leaf(np.ones((4, 3)))
    W = leaf(np.ones((2, 3)))
    b = leaf([1.0, 2.0])
    (F.linear(x, W, b).sum() + (b * b).sum() + F.linear(x, W, b).sum()).backward()
    np.testing.assert_allclose(b.grad.data, 8.0 + 2 * b.data)


# ---- conv2d: the kept im2col matrix ---------------------------------------------------------


def test_conv2d_under_no_grad_has_no_graph():
    x = leaf(np.random.default_rng(0).standard_normal((1, 2, 5, 5)))
    w = leaf(np.random.default_rng(1).standard_normal((3, 2, 3, 3)))
    with dp.no_grad():
        y = F.conv2d(x, w, padding=1)
    assert not y.requires_grad and y.grad_fn is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.sum().backward()


def reference_conv_grads(x, w, b, stride, padding, seed, groups=1):
    xr, wr, br = leaf(x.data), leaf(w.data), leaf(b.data)
    out = conv2d_reference(xr, wr, br, stride=stride, padding=padding, groups=groups)
    (out * dp.tensor(seed, dtype=dp.float64)).sum().backward()
    return out.data, xr.grad.data, wr.grad.data, br.grad.data


def test_two_conv_layers_keep_separate_im2col_matrices():
    rng = np.random.default_rng(0)
    x = leaf(rng.standard_normal((2, 3, 6, 6)))
    w1 = leaf(rng.standard_normal((3, 3, 3, 3)))
    w2 = leaf(rng.standard_normal((3, 3, 3, 3)))
    b = leaf(np.zeros(3))
    # same shapes for both layers: a shared scratch buffer would be overwritten by layer 2
    h = F.conv2d(x, w1, b, padding=1)
    y = F.conv2d(h.tanh(), w2, b, padding=1)
    g = rng.standard_normal(y.shape)
    (y * dp.tensor(g, dtype=dp.float64)).sum().backward()

    def loss():
        return (F.conv2d(F.conv2d(x, w1, b, padding=1).tanh(), w2, b, padding=1) * dp.tensor(g, dtype=dp.float64)).sum()

    want_w1, want_w2 = numerical_gradient(loss, [w1, w2])
    np.testing.assert_allclose(w1.grad.data, want_w1, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(w2.grad.data, want_w2, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("keep", [True, False])
@pytest.mark.parametrize("stride, padding, groups", [(1, 0, 1), (2, 1, 1), ((2, 1), (1, 2), 1), (2, 1, 2)])
def test_conv2d_gradcheck_kept_and_rebuilt_cols(monkeypatch, keep, stride, padding, groups):
    if not keep:
        monkeypatch.setattr(conv_ops, "KEEP_COLS_AT_MOST", -1)
    rng = np.random.default_rng(4)
    x = leaf(rng.standard_normal((2, 4, 5, 6)))
    w = leaf(rng.standard_normal((4, 4 // groups, 3, 2)))
    b = leaf(rng.standard_normal(4))
    assert dp.autograd.gradcheck(
        lambda x, w, b: F.conv2d(x, w, b, stride=stride, padding=padding, groups=groups), (x, w, b)
    )


def test_conv2d_kept_cols_survive_other_convs_before_backward():
    rng = np.random.default_rng(6)
    x = leaf(rng.standard_normal((2, 3, 7, 7)))
    w = leaf(rng.standard_normal((4, 3, 3, 3)))
    b = leaf(np.zeros(4))
    y = F.conv2d(x, w, b, stride=2, padding=1)
    # other convolutions, with and without grad, reuse the scratch buffers meanwhile
    with dp.no_grad():
        F.conv2d(dp.randn(2, 3, 7, 7, dtype=dp.float64), w, b, stride=2, padding=1)
    F.conv2d(dp.randn(2, 3, 7, 7, dtype=dp.float64), w.detach(), None, stride=2, padding=1)
    seed = rng.standard_normal(y.shape)
    (y * dp.tensor(seed, dtype=dp.float64)).sum().backward()
    out, gx, gw, gb = reference_conv_grads(x, w, b, 2, 1, seed)
    np.testing.assert_allclose(y.data, out, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(x.grad.data, gx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(w.grad.data, gw, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b.grad.data, gb, rtol=1e-10, atol=1e-12)


def test_conv2d_saves_either_its_im2col_matrix_or_its_padded_input():
    x = dp.randn(2, 3, 6, 6, requires_grad=True)
    w = dp.randn(4, 3, 3, 3, requires_grad=True)
    xpad, _, cols = F.conv2d(x, w, padding=1).grad_fn.saved  # the weight needs a gradient
    assert xpad is None and cols.shape == (1, 2 * 6 * 6, 3 * 3 * 3)  # (groups, rows, taps)
    w.requires_grad_(False)
    xpad, _, cols = F.conv2d(x, w, padding=1).grad_fn.saved  # only x does: cols is not kept
    assert cols is None and xpad.size == 2 * 3 * 8 * 8


def test_needs_input_grad_is_known_inside_forward():
    seen = []

    class Probe(Function):
        def forward(self, a, b):
            seen.append(self.needs_input_grad)
            return a * b

        def backward(self, grad):
            return grad, grad

    Probe.apply(leaf([1.0]), dp.tensor([2.0], dtype=dp.float64))
    with dp.no_grad():
        Probe.apply(leaf([1.0]), leaf([2.0]))
    assert [tuple(s) for s in seen] == [(True, False), (False, False)]


def test_conv2d_weight_changed_in_place_after_forward_is_caught():
    x = leaf(np.ones((1, 1, 4, 4)))
    w = leaf(np.ones((1, 1, 3, 3)))
    y = F.conv2d(x, w).sum()
    with dp.no_grad():
        w.mul_(2.0)
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.backward()


def test_conv2d_backward_twice_with_retain_graph_doubles():
    rng = np.random.default_rng(7)
    x = leaf(rng.standard_normal((2, 2, 6, 6)))
    w = leaf(rng.standard_normal((3, 2, 3, 3)))
    loss = (F.conv2d(x, w, stride=2, padding=1) ** 2).sum()
    loss.backward(retain_graph=True)
    first_w, first_x = w.grad.data.copy(), x.grad.data.copy()
    loss.backward()
    np.testing.assert_allclose(w.grad.data, 2 * first_w, rtol=1e-12)
    np.testing.assert_allclose(x.grad.data, 2 * first_x, rtol=1e-12)
