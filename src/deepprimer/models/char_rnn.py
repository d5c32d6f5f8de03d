"""CharRNN: a recurrent network that learns to continue text, one character at a time.

    characters -> embedding -> LSTM / GRU / RNN (num_layers deep) -> linear -> logits

At step t the hidden state h_t summarises everything read so far, and the logits give
p(next character | all previous ones). Training is next-character cross-entropy over
whole windows; ``generate`` samples a continuation, carrying h_t forward one character at
a time, so each new character costs one recurrent step, not a pass over the whole context
(the advantage of a recurrence over attention at generation time).
"""
import numpy as np

from .. import nn, random
from ..autograd import no_grad
from ..nn import functional as F
from ..tensor import Tensor
from .sampling import sample_next

CELLS = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}


class CharRNN(nn.Module):
    def __init__(self, vocab_size, embed_dim=64, hidden_size=256, num_layers=2, cell="lstm", dropout=0.1):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"CharRNN: cell must be one of {', '.join(repr(c) for c in CELLS)}, got {cell!r}")
        self.vocab_size, self.cell = vocab_size, cell
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.rnn = CELLS[cell](embed_dim, hidden_size, num_layers=num_layers, batch_first=True,
                               dropout=dropout if num_layers > 1 else 0.0)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, idx, hidden=None):
        """idx: (batch, time) int64 ids -> ((batch, time, vocab) logits, the final hidden state).

        ``hidden`` is the state a previous call returned (None: zeros), so a long text can be
        read in pieces: a tensor (num_layers, batch, hidden_size), or a pair (h, c) for an LSTM.
        """
        if idx.ndim != 2:
            raise ValueError(f"CharRNN: expected token ids of shape (batch, time), got {tuple(idx.shape)}")
        output, hidden = self.rnn(self.embedding(idx), hidden)
        return self.head(self.dropout(output)), hidden

    def loss(self, idx, targets):
        """Mean cross-entropy of every next-character prediction in the batch."""
        logits, _ = self(idx)
        return F.cross_entropy(logits.reshape(-1, self.vocab_size), targets.reshape(-1))

    @no_grad()
    def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None, generator=None):
        """Continue ``idx`` (batch, time) by ``max_new_tokens`` sampled characters.

        The prompt is read once; after that each sampled character is fed in alone with the
        hidden state carried over. ``temperature`` and ``top_k`` as in ``MiniGPT.generate``;
        draws come from the seeded generator (``dp.manual_seed``), so a seed fixes the sample.
        """
        if temperature <= 0:
            raise ValueError(f"generate: temperature must be > 0, got {temperature}")
        was_training = self.training
        self.eval()
        rng = random.get_rng(generator)
        tokens = np.array(idx.data if isinstance(idx, Tensor) else idx, dtype=np.int64)
        pieces, step_input, hidden = [tokens], tokens, None
        for _ in range(max_new_tokens):
            logits, hidden = self(Tensor._make(step_input), hidden)
            step_input = sample_next(logits.data[:, -1, :], temperature, top_k, rng)[:, None]
            pieces.append(step_input)
        self.train(was_training)
        return Tensor._make(np.concatenate(pieces, axis=1))
