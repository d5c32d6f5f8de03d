"""MiniGPT: a decoder-only Transformer that learns to continue text, one token at a time.

    tokens -> token embedding + position embedding
           -> N blocks of [causal self-attention, feed-forward], each with a skip connection
           -> LayerNorm -> logits over the vocabulary (weights tied to the token embedding)

Causal masking lets position t attend only to positions <= t, so one forward pass trains
every next-token prediction in the sequence at once. ``generate`` samples a continuation.
"""
import numpy as np

from .. import nn, random
from ..autograd import no_grad
from ..nn import functional as F
from ..tensor import Tensor
from .sampling import sample_next


class MiniGPT(nn.Module):
    def __init__(self, vocab_size, block_size=64, d_model=128, n_heads=4, n_layers=2, dropout=0.1):
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"MiniGPT: d_model {d_model} must be divisible by n_heads {n_heads}")
        self.vocab_size, self.block_size = vocab_size, block_size
        self.token_embedding = nn.Embedding(vocab_size, d_model)
        self.position_embedding = nn.LearnedPositionalEncoding(block_size, d_model, dropout=dropout, batch_first=True)
        layer = nn.TransformerEncoderLayer(d_model, n_heads, dim_feedforward=4 * d_model, dropout=dropout,
                                           activation="gelu", batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, n_layers)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size, bias=False)
        self.head.weight = self.token_embedding.weight  # weight tying: one matrix reads and writes tokens
        nn.init.normal_(self.token_embedding.weight, std=0.02)

    def forward(self, idx):
        """idx: (batch, time) int64 token ids, time <= block_size -> (batch, time, vocab) logits."""
        if idx.ndim != 2 or idx.shape[1] > self.block_size:
            raise ValueError(
                f"MiniGPT: expected token ids of shape (batch, time) with time <= {self.block_size}, "
                f"got {tuple(idx.shape)}"
            )
        steps = idx.shape[1]
        x = self.position_embedding(self.token_embedding(idx))
        mask = nn.generate_square_subsequent_mask(steps, dtype=x.dtype)
        x = self.blocks(x, mask=mask, is_causal=True)
        return self.head(self.norm(x))

    def loss(self, idx, targets):
        """Mean cross-entropy of every next-token prediction in the batch."""
        logits = self(idx)
        return F.cross_entropy(logits.reshape(-1, self.vocab_size), targets.reshape(-1))

    @no_grad()
    def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None, generator=None):
        """Continue ``idx`` (batch, time) by ``max_new_tokens`` sampled tokens.

        ``temperature`` < 1 sharpens the distribution (safer text), > 1 flattens it (more
        surprising); ``top_k`` keeps only the k likeliest tokens. Draws come from the seeded
        generator (``dp.manual_seed``), so a seed fixes the sample.
        """
        if temperature <= 0:
            raise ValueError(f"generate: temperature must be > 0, got {temperature}")
        was_training = self.training
        self.eval()
        rng = random.get_rng(generator)
        tokens = np.array(idx.data if isinstance(idx, Tensor) else idx, dtype=np.int64)
        for _ in range(max_new_tokens):
            logits = self(Tensor._make(tokens[:, -self.block_size:])).data[:, -1, :]
            tokens = np.concatenate([tokens, sample_next(logits, temperature, top_k, rng)[:, None]], axis=1)
        self.train(was_training)
        return Tensor._make(tokens)
