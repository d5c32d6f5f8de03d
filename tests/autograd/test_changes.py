"""In-place changes after the forward pass (autograd/changes.py): caught through the
tensor itself, its views and its detached copies; not raised where backward needs nothing
that changed; and the record of changes does not grow with arrays that are gone."""
import gc

import numpy as np
import pytest

import deepprimer as dp
import deepprimer.nn as nn
from deepprimer.autograd import changes

MODIFIED = "modified by an in-place operation"


def leaf(values):
    return dp.tensor(values, dtype=dp.float64, requires_grad=True)


def test_change_through_a_view_of_a_saved_output_is_caught():
    x = leaf([0.0, 1.0, 2.0, 3.0])
    h = x.exp()
    loss = h.sum()
    with dp.no_grad():
        h.reshape(2, 2)[0] += 1.0
    with pytest.raises(RuntimeError, match=MODIFIED + r": the output of Exp \(shape \(4,\)\)"):
        loss.backward()


def test_change_through_a_detached_input_names_the_input():
    x = leaf([1.0, 2.0])
    w = leaf([3.0, 4.0])
    y = (x * w).sum()
    w.detach()[1:] *= 2.0
    with pytest.raises(RuntimeError, match=MODIFIED + r": input 1 of Mul \(shape \(2,\)\) was changed after"):
        y.backward()


def test_change_before_the_forward_is_fine():
    x = leaf([1.0, 2.0])
    w = dp.tensor([3.0, 4.0], dtype=dp.float64)
    w.detach().mul_(2.0)
    (x * w).sum().backward()
    assert x.grad.tolist() == [6.0, 8.0]


def test_change_of_memory_the_node_did_not_save_is_fine():
    # Add saves nothing; a separate array changed in place is none of Mul's business
    x = leaf([1.0, 2.0])
    other = dp.tensor([5.0, 6.0], dtype=dp.float64)
    y = (x + other).sum() + (x * x).sum()
    other += 1.0
    y.backward()
    assert x.grad.tolist() == [3.0, 5.0]


def test_changed_parameter_after_backward_with_retained_graph_is_caught():
    # the GAN mistake: an optimizer step between two backward passes through one graph
    model = nn.Linear(3, 2)
    opt = dp.optim.SGD(model.parameters(), lr=0.1)
    x = dp.randn(4, 3, requires_grad=True)
    loss = model(x).pow(2).sum()
    loss.backward(retain_graph=True)
    opt.step()
    with pytest.raises(RuntimeError, match=MODIFIED):
        loss.backward()


def test_batchnorm_running_stats_do_not_trip_the_check():
    # training-mode batch norm changes its running statistics in place during forward;
    # nothing saved depends on them, so backward runs
    dp.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 1))
    model(dp.randn(8, 4)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_the_record_forgets_arrays_that_are_gone():
    gc.collect()
    before = len(changes._changed_at)
    for _ in range(200):
        t = dp.zeros(3)
        t += 1.0
    del t
    gc.collect()
    assert len(changes._changed_at) <= before + 1


def test_owner_is_shared_by_views_and_strided_windows():
    a = np.arange(12.0)
    windows = np.lib.stride_tricks.sliding_window_view(a.reshape(3, 4), (2, 2))
    assert changes.owner(a[2:].reshape(2, 5)[1]) is a
    assert changes.owner(windows) is a
    assert changes.owner(a) is a


@pytest.mark.parametrize("target", [
    dp.tensor([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]], dtype=dp.float64),  # probabilities
    dp.tensor([2, 0]),  # class indices, kept by the node as a plain array
])
def test_a_changed_cross_entropy_target_is_caught(target):
    import deepprimer.nn.functional as F

    x = leaf([[0.1, 0.2, 0.3], [0.3, 0.2, 0.1]])
    loss = F.cross_entropy(x, target)
    with dp.no_grad():
        target.mul_(0)
    with pytest.raises(RuntimeError, match=MODIFIED + r": input 1 of SoftmaxCrossEntropy"):
        loss.backward()



def test_batchnorm_used_twice_before_backward_is_fine():
    # a GAN discriminator on real then fake data: the second call changes the running
    # statistics the first node was given, but training-mode backward never reads them
    bn = nn.BatchNorm1d(4)
    x1, x2 = dp.randn(8, 4, requires_grad=True), dp.randn(8, 4, requires_grad=True)
    (bn(x1) + bn(x2)).sum().backward()
    assert x1.grad is not None and x2.grad is not None


@pytest.mark.parametrize("lookup", ["embedding", "getitem"])
def test_a_changed_index_array_is_caught(lookup):
    import deepprimer.nn.functional as F

    weight = leaf(np.arange(10.0).reshape(5, 2))
    idx = dp.tensor([0, 1])
    out = F.embedding(idx, weight) if lookup == "embedding" else weight[idx]
    idx[0] = 4  # backward would scatter the gradient to row 4
    with pytest.raises(RuntimeError, match=MODIFIED):
        out.sum().backward()


def test_an_unsaved_input_may_change_before_backward_as_in_torch():
    # Linear saves x and the weight, not the bias: its gradient does not depend on the bias
    layer = nn.Linear(3, 2)
    x = dp.randn(4, 3, requires_grad=True)
    y = layer(x).sum()
    with dp.no_grad():
        layer.bias.add_(1.0)
    y.backward()
    assert layer.bias.grad.tolist() == [4.0, 4.0]
