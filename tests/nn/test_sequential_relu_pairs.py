"""Sequential runs a ReLU and a neighbour as one graph node: a Linear or Conv2d before
it (the ReLU in place on the layer's output) or a MaxPool2d after it (pooled first).

The pair must be invisible but for speed and node names: the same outputs and gradients bit for bit as
calling the layers one by one (the reference here), hooks that see every layer, a plan
that follows changes to the layers, and the engine's guards (in-place changes, a second
backward) intact.
"""
import numpy as np
import pytest

import deepprimer as dp
from deepprimer import nn


def mlp():
    return nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 5), nn.ReLU(), nn.Linear(5, 3))


def cnn():
    return nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 3, 3, padding=1, padding_mode="reflect"), nn.ReLU(),
        nn.ReLU(), nn.MaxPool2d(3, stride=1, padding=1), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True),
        nn.Flatten(), nn.Linear(3 * 2 * 2, 2),
    )


def one_by_one(model, x):
    """The reference: each layer called on its own, as Sequential did before pairing."""
    for layer in model:
        x = layer(x)
    return x


def with_specials(x):
    """Special values that ReLU must pass on as NumPy's maximum does, and a block of
    negative values, whose pooling windows are all ties after the ReLU."""
    x[..., :2, :] = -np.abs(x[..., :2, :])
    flat = x.reshape(-1)
    flat[::7], flat[3::11], flat[5::13] = np.nan, -np.inf, -0.0
    return x


def run(model, x, forward):
    model.zero_grad()
    inp = dp.tensor(x, requires_grad=True)
    out = forward(model, inp)
    (out * dp.tensor(np.linspace(-1, 1, out.numel()).reshape(out.shape).astype(x.dtype))).sum().backward()
    return out.data, inp.grad.data, [p.grad.data for p in model.parameters()]


def nodes(t):
    """Every node of t's graph."""
    seen, todo = set(), [t.grad_fn]
    while todo:
        fn = todo.pop()
        if fn is None or fn in seen:
            continue
        seen.add(fn)
        todo += [i.grad_fn for i in fn.inputs if isinstance(i, dp.Tensor)]
    return seen


def node_names(t):
    return {fn.name for fn in nodes(t)}


def assert_bits_equal(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    assert np.array_equal(np.ascontiguousarray(a).view(np.uint8), np.ascontiguousarray(b).view(np.uint8))


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # NaN through a GEMM
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("make, shape", [(mlp, (7, 6)), (cnn, (3, 2, 6, 6))])
@pytest.mark.parametrize("special", [False, True])
def test_pairs_give_the_same_bits_as_layers_one_by_one(make, shape, dtype, special):
    dp.manual_seed(0)
    model = make().to(dtype)
    x = np.random.default_rng(1).standard_normal(shape).astype(dtype)
    if special:
        x = with_specials(x)
    paired = run(model, x, lambda m, t: m(t))
    reference = run(model, x, one_by_one)
    for a, b in zip([paired[0], paired[1], *paired[2]], [reference[0], reference[1], *reference[2]]):
        assert_bits_equal(a, b)


@pytest.mark.parametrize("make, shape, joined, alone", [
    (mlp, (4, 6), {"LinearReLU": 2}, 0),
    # conv, ReLU, pool: the pool takes the ReLU; the overlapping 3x3 pool cannot, its ReLU stays
    (cnn, (2, 2, 6, 6), {"MaxPool2dReLU": 2, "Conv2dReLU": 1}, 1),
])
def test_each_pair_is_one_node(make, shape, joined, alone):
    model = make()
    x = dp.randn(*shape)
    graph = nodes(model(x))
    assert len(graph) == len(nodes(one_by_one(model, x))) - sum(joined.values())
    assert {name: sum(fn.name == name for fn in graph) for name in joined} == joined
    assert sum(fn.name == "ReLU" for fn in graph) == alone


def test_a_pool_returning_indices_is_not_joined():
    model = nn.Sequential(nn.ReLU(), nn.MaxPool2d(2, return_indices=True))
    out, indices = model(dp.randn(1, 2, 4, 4, requires_grad=True))
    assert out.grad_fn.name == "MaxPool2d" and indices.shape == (1, 2, 2, 2)


def test_hooks_see_both_layers_and_the_pre_activation():
    model = mlp()
    seen = []
    model[0].register_forward_hook(lambda m, args, out: seen.append(("linear", out.data.min() < 0)))
    model[1].register_forward_pre_hook(lambda m, args: seen.append(("relu", None)))
    x = dp.randn(16, 6)
    out = model(x)
    assert seen == [("linear", True), ("relu", None)]  # the Linear's own output, negatives and all
    assert_bits_equal(out.data, one_by_one(model, x).data)


def test_the_pairs_follow_changes_to_the_layers():
    model = mlp()
    x = dp.randn(4, 6)
    model(x)
    model[1] = nn.Tanh()
    assert np.array_equal(model(x).data, one_by_one(model, x).data)
    assert node_names(model(x)) == {"Linear", "Tanh", "LinearReLU"}
    model.append(nn.ReLU())
    assert model(x).grad_fn.name == "LinearReLU"
    del model[-1]
    assert model(x).grad_fn.name == "Linear"


def test_a_subclass_keeps_its_own_forward():
    class Doubled(nn.Linear):
        def forward(self, input):
            return super().forward(input) * 2

    dp.manual_seed(0)
    model = nn.Sequential(Doubled(3, 4), nn.ReLU())
    x = dp.randn(5, 3)
    assert np.array_equal(model(x).data, np.maximum(nn.Linear.forward(model[0], x).data * 2, 0))
    assert model(x).grad_fn.name == "ReLU"


def test_changing_the_output_in_place_before_backward_is_caught():
    model = mlp()[:2]
    out = model(dp.randn(4, 6))
    with dp.no_grad():
        out.add_(1)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        out.sum().backward()


def test_second_backward_needs_retain_graph():
    model = mlp()
    loss = model(dp.randn(4, 6)).sum()
    loss.backward(retain_graph=True)
    first = [p.grad.data.copy() for p in model.parameters()]
    loss.backward()
    for p, g in zip(model.parameters(), first):
        np.testing.assert_array_equal(p.grad.data, 2 * g)
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()


def test_no_graph_under_no_grad():
    model = cnn()
    with dp.no_grad():
        out = model(dp.randn(2, 2, 6, 6))
    assert out.grad_fn is None and not out.requires_grad


def test_a_bad_input_still_names_the_shapes():
    with pytest.raises(ValueError, match=r"input of shape \(4, 5\) has 5 features but the weight of shape \(8, 6\)"):
        mlp()(dp.randn(4, 5))
    with pytest.raises(TypeError, match="input is float64 but the weight is float32"):
        mlp()(dp.randn(4, 6, dtype=dp.float64))


def test_asking_for_indices_after_the_first_call_is_honoured():
    model = nn.Sequential(nn.ReLU(), nn.MaxPool2d(2))
    x = dp.randn(2, 3, 4, 4)
    assert model(x).grad_fn is None and model(x).shape == (2, 3, 2, 2)
    model[1].return_indices = True
    out, indices = model(x)
    assert out.shape == indices.shape == (2, 3, 2, 2) and indices.dtype == np.int64


@pytest.mark.parametrize("where", ["instance", "class"])
def test_a_replaced_forward_is_called(monkeypatch, where):
    model = mlp()
    x = dp.randn(3, 6)
    if where == "instance":
        monkeypatch.setattr(model[0], "forward", lambda input: nn.Linear.forward(model[0], input) * 0 - 1)
    else:
        original = nn.Linear.forward
        monkeypatch.setattr(nn.Linear, "forward", lambda self, input: original(self, input) * 0 - 1)
    assert_bits_equal(model(x).data, one_by_one(model, x).data)
    joined = sum(fn.name == "LinearReLU" for fn in nodes(model(x)))
    assert joined == (1 if where == "instance" else 0)  # the other Linear is still as written


@pytest.mark.parametrize("pool", [
    nn.MaxPool2d((1, 2), dilation=(1, 4), padding=(0, 2)),  # windows made of padding only: -inf
    nn.MaxPool2d(3, stride=1, padding=1),  # overlapping windows
])
def test_pools_that_could_tell_are_not_joined(pool):
    model = nn.Sequential(nn.ReLU(), pool)
    x = -np.abs(np.random.default_rng(2).standard_normal((2, 3, 6, 6)))
    x[0, 0, 0, 0] = -0.0
    paired = run(model, x, lambda m, t: m(t))
    reference = run(model, x, one_by_one)
    for a, b in zip(paired[:2], reference[:2]):
        assert_bits_equal(a, b)
    assert "MaxPool2dReLU" not in node_names(model(dp.tensor(x, requires_grad=True)))


def test_copies_and_pickles_carry_the_layers_not_the_plan():
    import copy
    import pickle

    model = cnn()
    x = dp.randn(2, 2, 6, 6)
    expected = model(x).data
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert "_Sequential__plan" not in clone.__dict__
        assert np.array_equal(clone(x).data, expected)
        assert clone._Sequential__plan[1][1].owner is clone[2]  # steps over the clone's own layers
