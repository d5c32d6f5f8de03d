"""nn.utils: counting, summary, weight penalties, gradient clipping."""
import numpy as np
import pytest

import deepprimer as dp
from deepprimer import nn
from deepprimer.autograd import gradcheck
from deepprimer.nn.utils import (
    clip_grad_norm_,
    clip_grad_value_,
    count_parameters,
    l1_penalty,
    l2_penalty,
    summary,
    weight_parameters,
)


def mlp():
    return nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.1), nn.Linear(8, 3))


def test_count_parameters():
    model = mlp()
    assert count_parameters(model) == (4 * 8 + 8) + (8 + 8) + (8 * 3 + 3)
    model[0].requires_grad_(False)
    assert count_parameters(model, trainable_only=True) == 16 + 27
    shared = nn.Sequential(model[4], model[4])
    assert count_parameters(shared) == 27
    assert count_parameters(list(model[4].parameters())) == 27


def test_summary_prints_each_layer_shape_and_count():
    model = mlp()
    lines = []
    result = summary(model, (16, 4), print_fn=lines.append)
    text = lines[0]
    assert text == str(result)
    assert text.splitlines() == [
        "Layer (type)     Output Shape  Param #",
        "======================================",
        "0 (Linear)       (16, 8)            40",
        "1 (BatchNorm1d)  (16, 8)            16",
        "2 (ReLU)         (16, 8)             0",
        "3 (Dropout)      (16, 8)             0",
        "4 (Linear)       (16, 3)            27",
        "======================================",
        "Input shape: (16, 4)",
        "Total params: 83",
        "Trainable params: 83",
        "Non-trainable params: 0",
    ]
    assert result.total_params == 83 and len(result.rows) == 5
    assert repr(result) == "<ModelSummary: 5 layers, 83 parameters>"


def test_summary_has_no_side_effects(capsys):
    model = mlp()
    model[1].train()
    dp.manual_seed(5)
    expected = dp.rand(3).data
    dp.manual_seed(5)
    summary(model, (8, 4))
    assert "Total params: 83" in capsys.readouterr().out
    np.testing.assert_array_equal(dp.rand(3).data, expected)  # the global stream is untouched
    assert all(m.training for m in model.modules())  # the mode is restored
    assert int(model[1].num_batches_tracked.item()) == 0  # ran in eval: statistics untouched
    assert not any(m._forward_hooks for m in model.modules())  # hooks removed


def test_summary_nested_and_integer_input():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(20, 4)
            self.body = nn.Sequential(nn.Flatten(), nn.Linear(12, 2))

        def forward(self, idx):
            return self.body(self.embed(idx))

    result = summary(Net(), (5, 3), dtype=dp.int64, print_fn=None)
    assert [(r[0], r[1], r[2], r[3]) for r in result.rows] == [
        ("embed", "Embedding", (5, 3, 4), 80), ("body.0", "Flatten", (5, 12), 0), ("body.1", "Linear", (5, 2), 26),
    ]
    assert summary(nn.Linear(3, 2), (4, 3), print_fn=None).rows == [("Linear", "Linear", (4, 2), 8)]


# ---- penalties -----------------------------------------------------------------------------------------


def test_weight_parameters_exclude_biases_and_norms_by_default():
    model = nn.Sequential(nn.Embedding(5, 3), nn.Linear(3, 4), nn.LayerNorm(4), nn.BatchNorm1d(2))
    chosen = weight_parameters(model)
    assert [id(p) for p in chosen] == [id(model[0].weight), id(model[1].weight)]
    assert len(weight_parameters(model, include_all=True)) == 7
    model[1].weight.requires_grad_(False)
    assert [id(p) for p in weight_parameters(model)] == [id(model[0].weight)]


def test_penalty_values_and_gradients():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)).double()
    w1, w2 = model[0].weight.data, model[2].weight.data
    l1, l2 = l1_penalty(model), l2_penalty(model)
    assert l1.item() == pytest.approx(np.abs(w1).sum() + np.abs(w2).sum())
    assert l2.item() == pytest.approx((w1**2).sum() + (w2**2).sum())
    assert l1.dtype == dp.float64 and l1.requires_grad
    (0.5 * l2 + 0.1 * l1).backward()
    np.testing.assert_allclose(model[0].weight.grad.data, w1 + 0.1 * np.sign(w1))
    assert model[0].bias.grad is None  # biases are not penalised by default
    model.zero_grad()
    l2_penalty(model, include_all=True).backward()
    np.testing.assert_allclose(model[0].bias.grad.data, 2 * model[0].bias.data)


def test_penalty_adds_to_loss_and_matches_composition():
    dp.manual_seed(0)
    model = nn.Linear(3, 2)
    x, y = dp.randn(8, 3), dp.randn(8, 2)
    loss = nn.MSELoss()(model(x), y) + 1e-2 * l2_penalty(model)
    loss.backward()
    fused = model.weight.grad.data.copy()
    model.zero_grad()
    loss = nn.MSELoss()(model(x), y) + 1e-2 * (model.weight ** 2).sum()
    loss.backward()
    np.testing.assert_allclose(fused, model.weight.grad.data, rtol=1e-5)


def test_penalties_gradcheck_and_lists():
    a = dp.tensor(np.random.default_rng(0).standard_normal((3, 2)), requires_grad=True)
    b = dp.tensor(np.random.default_rng(1).standard_normal(4), requires_grad=True)
    assert gradcheck(lambda a, b: l2_penalty([a, b]), (a, b))
    assert gradcheck(lambda a, b: l1_penalty([a, b]), (a, b))
    assert l1_penalty([]).item() == 0.0


# ---- clipping ---------------------------------------------------------------------------------------------


def with_grads(*grads):
    params = []
    for g in grads:
        p = nn.Parameter(dp.zeros(*np.shape(g), dtype=dp.float64))
        p.grad = dp.tensor(np.asarray(g, dtype=np.float64))
        params.append(p)
    return params


def test_clip_grad_norm_scales_down_only_above_max():
    params = with_grads([3.0, 0.0], [[4.0]])
    total = clip_grad_norm_(params, 1.0)
    assert total.item() == pytest.approx(5.0)
    np.testing.assert_allclose(params[0].grad.data, [3 / (5 + 1e-6), 0])
    np.testing.assert_allclose(params[1].grad.data, [[4 / (5 + 1e-6)]])
    params = with_grads([0.3, 0.4])
    assert clip_grad_norm_(params, 1.0).item() == pytest.approx(0.5)
    np.testing.assert_array_equal(params[0].grad.data, [0.3, 0.4])


def test_clip_grad_norm_inf_norm_single_tensor_and_missing_grads():
    p = with_grads([1.0, -7.0, 2.0])[0]
    q = nn.Parameter(dp.zeros(2))  # no gradient: ignored
    assert clip_grad_norm_([p, q], 3.5, norm_type="inf").item() == 7.0
    np.testing.assert_allclose(p.grad.data, np.array([1.0, -7.0, 2.0]) * 3.5 / (7 + 1e-6))
    assert clip_grad_norm_(p, 100.0).item() == pytest.approx(3.5 / (7 + 1e-6) * np.sqrt(54))


def test_clip_grad_norm_nonfinite():
    p = with_grads([np.inf, 1.0])[0]
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(p, 1.0, error_if_nonfinite=True)


def test_clip_grad_value():
    params = with_grads([-3.0, 0.5, 2.0])
    clip_grad_value_(params, 1.0)
    np.testing.assert_array_equal(params[0].grad.data, [-1.0, 0.5, 1.0])


def test_clipping_a_model_after_backward():
    model = mlp()
    (model(dp.randn(16, 4) * 100).sum() * 100).backward()
    total = clip_grad_norm_(model.parameters(), max_norm=1.0)
    assert total.item() > 1.0
    after = np.sqrt(sum((p.grad.data.astype(np.float64) ** 2).sum() for p in model.parameters()))
    assert after == pytest.approx(1.0, rel=1e-4)
