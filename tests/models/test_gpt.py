import numpy as np
import pytest

import deepprimer as dp
from deepprimer.models import MiniGPT


@pytest.fixture
def model():
    dp.manual_seed(0)
    return MiniGPT(vocab_size=20, block_size=8, d_model=16, n_heads=2, n_layers=2, dropout=0.0)


def test_logits_shape_and_tied_weights(model):
    idx = dp.randint(0, 20, (3, 8))
    assert tuple(model(idx).shape) == (3, 8, 20)
    assert model.head.weight is model.token_embedding.weight
    names = [n for n, _ in model.named_parameters()]
    assert "head.weight" not in names and "token_embedding.weight" in names  # counted once


def test_causal_masking_hides_the_future(model):
    """The logits at step t do not depend on the token embedding at t + 1 or later."""
    model.eval()
    idx = dp.randint(0, 20, (1, 8))
    emb = model.token_embedding(idx).detach().requires_grad_()
    x = model.position_embedding(emb)
    x = model.blocks(x, mask=dp.nn.generate_square_subsequent_mask(8), is_causal=True)
    logits = model.head(model.norm(x))
    logits[0, 3].sum().backward()
    grad = np.abs(emb.grad.numpy()[0]).sum(axis=1)
    assert (grad[:4] > 0).all() and (grad[4:] == 0).all()


def test_loss_falls_on_a_repeating_sequence(model):
    data = np.tile(np.arange(10), 10)
    x = dp.tensor(np.stack([data[i:i + 8] for i in range(0, 80, 4)]))
    y = dp.tensor(np.stack([data[i + 1:i + 9] for i in range(0, 80, 4)]))
    opt = dp.optim.Adam(model.parameters(), lr=1e-2)
    first = None
    for _ in range(40):
        opt.zero_grad()
        loss = model.loss(x, y)
        loss.backward()
        opt.step()
        first = first or loss.item()
    assert loss.item() < 0.2 * first


def test_generate_is_deterministic_under_a_seed_and_respects_top_k(model):
    prompt = dp.tensor([[1, 2, 3]])
    dp.manual_seed(7)
    a = model.generate(prompt, 12, temperature=0.9, top_k=3)
    dp.manual_seed(7)
    b = model.generate(prompt, 12, temperature=0.9, top_k=3)
    assert a.tolist() == b.tolist() and tuple(a.shape) == (1, 15) and a.tolist()[0][:3] == [1, 2, 3]
    greedy = model.generate(prompt, 1, top_k=1).tolist()[0][-1]
    model.eval()
    assert greedy == int(model(prompt).detach().numpy()[0, -1].argmax())


def test_errors_name_the_limits(model):
    with pytest.raises(ValueError, match="time <= 8"):
        model(dp.randint(0, 20, (1, 9)))
    with pytest.raises(ValueError, match="temperature must be > 0"):
        model.generate(dp.tensor([[1]]), 1, temperature=0)
    with pytest.raises(ValueError, match="divisible"):
        MiniGPT(10, d_model=10, n_heads=3)
