"""The backward pass against PyTorch's: hooks, retain_grad, accumulation, autograd.grad,
each scenario written once for both libraries."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import deepprimer as dp  # noqa: E402

pytestmark = pytest.mark.torch


def leaf_hooks_see_the_whole_gradient(lib, log):
    x = lib.tensor([1.0, -2.0], requires_grad=True)
    x.register_hook(lambda g: log.append(g.tolist()))
    x.register_hook(lambda g: g.clamp(max=1.0))
    (x * x + x * 3).sum().backward()
    return [x.grad]


def non_leaf_hooks_and_retain_grad(lib, log):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h.retain_grad()
    h.register_hook(lambda g: g * 5)
    out = (h * h).sum()
    out.backward(retain_graph=True)
    log.append(h.grad.tolist())
    out.backward()
    return [x.grad, h.grad]


def hooks_in_autograd_grad(lib, log):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: g * 10)
    h = x * 2
    h.register_hook(lambda g: (log.append(g.tolist()), g * 3)[1])
    (gx,) = lib.autograd.grad((h * h).sum(), x)
    return [gx]


def accumulation_and_zeroing(lib, log):
    w = lib.tensor([0.5, -1.0], requires_grad=True)
    for k in range(3):
        (w * w * k).sum().backward()
    log.append(w.grad.tolist())
    w.grad = None
    (w.exp()).sum().backward()
    return [w.grad]


def diamond_and_broadcast(lib, log):
    a = lib.tensor([[1.0], [2.0]], requires_grad=True)
    b = lib.tensor([3.0, 4.0, 5.0], requires_grad=True)
    c = a * b
    d = c.tanh() + c.sigmoid() * a
    d.sum().backward()
    return [a.grad, b.grad]


def autograd_grad_of_non_leaf(lib, log):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    h = x.exp()
    out = (h * x).sum()
    gh, gx = lib.autograd.grad(out, [h, x])
    return [gh, gx]


SCENARIOS = [leaf_hooks_see_the_whole_gradient, non_leaf_hooks_and_retain_grad, hooks_in_autograd_grad,
             accumulation_and_zeroing, diamond_and_broadcast, autograd_grad_of_non_leaf]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_engine_behaves_like_torch(scenario):
    ours_log, theirs_log = [], []
    ours = scenario(dp, ours_log)
    theirs = scenario(torch, theirs_log)
    np.testing.assert_allclose(np.array(ours_log, dtype=float), np.array(theirs_log, dtype=float), rtol=1e-6)
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.numpy(), t.numpy(), rtol=1e-5)  # float32


# ---- random programs: intermediates reused, broadcast, freed and retained ---------------------

UNARY = [
    lambda lib, x: x * 2, lambda lib, x: x.tanh(), lambda lib, x: x.exp() * 0.1,
    lambda lib, x: x.sum(0, keepdim=True), lambda lib, x: x.mean(-1, keepdim=True),
    lambda lib, x: x.reshape(-1).reshape(x.shape), lambda lib, x: x[:, :1], lambda lib, x: lib.relu(x),
    lambda lib, x: x.softmax(-1), lambda lib, x: x.amax(0, keepdim=True), lambda lib, x: x + 0,
    lambda lib, x: x.permute(1, 0).permute(1, 0), lambda lib, x: lib.cat([x, x], 0)[: x.shape[0]],
    lambda lib, x: x.logsumexp(-1, keepdim=True), lambda lib, x: x[[0, 0]].sum(0, keepdim=True),
]
BINARY = [
    lambda lib, a, b: a + b, lambda lib, a, b: a * b, lambda lib, a, b: a - b,
    lambda lib, a, b: lib.maximum(a, b * 0.9), lambda lib, a, b: lib.where(a > b, a, b),
    lambda lib, a, b: a / (b * b + 1),
]


def _run_program(lib, leaves, program):
    values = [lib.tensor(a, requires_grad=True) for a in leaves]
    for op in program:
        if op[0] == "unary":
            values.append(UNARY[op[1]](lib, values[op[2]]))
        else:
            values.append(BINARY[op[1]](lib, values[op[2]], values[op[3]]))
    loss = values[len(leaves)].sum()
    for i, v in enumerate(values[-4:]):
        loss = loss + (v * (i + 1)).sum()
    grads = lambda: [np.zeros(v.shape) if v.grad is None else v.grad.numpy().copy() for v in values[: len(leaves)]]  # noqa: E731
    loss.backward(retain_graph=True)
    first = grads()
    loss.backward()  # through the retained graph: gradients accumulate
    return [loss.detach().numpy()] + first + grads()


@st.composite
def programs(draw):
    shapes = [(3, 4), (1, 4), (3, 1), (1, 1)]
    leaves = [np.random.default_rng(draw(st.integers(0, 999))).standard_normal(draw(st.sampled_from(shapes)))
              for _ in range(3)]
    program = []
    for n in range(3, 13):
        if draw(st.booleans()):
            program.append(("unary", draw(st.integers(0, len(UNARY) - 1)), draw(st.integers(0, n - 1))))
        else:
            program.append(("binary", draw(st.integers(0, len(BINARY) - 1)),
                            draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))))
    return leaves, program


@settings(max_examples=40)
@given(programs())
def test_random_programs_match_torch(case):
    """Random graphs with reused intermediates and broadcasting: the engine's gradient
    accumulation (which adds into arrays it owns, in place) must agree with torch's."""
    leaves, program = case
    ours, theirs = _run_program(dp, leaves, program), _run_program(torch, leaves, program)
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o, t, rtol=1e-9, atol=1e-12)
