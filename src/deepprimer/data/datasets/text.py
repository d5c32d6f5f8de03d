"""Text for character-level models: a corpus, a character vocabulary, next-character pairs.

The default corpus needs no download: the help texts of Python's own topics
(``pydoc_data.topics``, about 465,000 characters of English and code) ship with CPython.
"""
from pathlib import Path

import numpy as np

from ...tensor import Tensor
from ..dataset import TensorDataset
from .registry import register


@register(
    "text", task="text", shape=None, source="CPython's pydoc_data, or any text file",
    description="a text corpus for character-level models (default: Python's help topics)",
)
def text_corpus(path=None, encoding="utf-8"):
    """The text of the file at ``path``, or by default the concatenated help topics
    that ship with every CPython (``pydoc_data.topics``), sorted by topic name."""
    if path is not None:
        return Path(path).expanduser().read_text(encoding=encoding)
    try:
        from pydoc_data.topics import topics
    except ImportError as error:  # some distributions strip pydoc_data
        raise FileNotFoundError(
            "text_corpus: this Python has no pydoc_data module for the default corpus; "
            "pass path= to any plain-text file instead"
        ) from error
    return "\n\n".join(topics[key].strip() for key in sorted(topics)) + "\n"


class CharVocab:
    """A character vocabulary: ``encode`` text to int64 ids, ``decode`` ids back to text.

    ``CharVocab(text)`` takes the characters of ``text``, sorted, so the ids do not depend
    on the order in which characters first appear.
    """

    def __init__(self, text):
        self.chars = sorted(set(text))
        if not self.chars:
            raise ValueError("CharVocab: the text is empty")
        self.stoi = {c: i for i, c in enumerate(self.chars)}
        self.itos = dict(enumerate(self.chars))
        codes = np.array([ord(c) for c in self.chars])
        self._table = np.full(codes.max() + 1, -1, dtype=np.int64)  # code point -> id
        self._table[codes] = np.arange(len(codes))

    def __len__(self):
        return len(self.chars)

    def encode(self, text):
        """Ids of the characters of ``text``, a 1-D int64 array."""
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        ids = np.full(codes.shape, -1, dtype=np.int64)
        known = codes < len(self._table)
        ids[known] = self._table[codes[known]]
        if (ids < 0).any():
            unknown = sorted({text[i] for i in np.flatnonzero(ids < 0)[:100]})
            raise ValueError(f"CharVocab.encode: characters not in the vocabulary: {unknown!r}")
        return ids

    def decode(self, ids):
        """The text for ``ids`` (a list, an array or a tensor of ints)."""
        ids = np.asarray(ids.data if isinstance(ids, Tensor) else ids).reshape(-1)
        if ids.size and (ids.min() < 0 or ids.max() >= len(self.chars)):
            raise ValueError(f"CharVocab.decode: ids must lie in [0, {len(self.chars)}), got {ids.min()}..{ids.max()}")
        return "".join(self.itos[i] for i in ids.tolist())

    def __repr__(self):
        return f"CharVocab({len(self)} characters)"


def sequence_dataset(ids, seq_len, stride=1):
    """Next-character training pairs from a 1-D sequence of ids: sample i is
    ``(ids[s:s+seq_len], ids[s+1:s+seq_len+1])`` with ``s = i * stride``.

    The windows are views of ``ids`` (no copy until a batch is taken), as a TensorDataset,
    so the DataLoader batches them with its fast path.
    """
    ids = np.asarray(ids.data if isinstance(ids, Tensor) else ids)
    if ids.ndim != 1:
        raise ValueError(f"sequence_dataset: ids must be 1-D, got shape {ids.shape}")
    if seq_len < 1 or stride < 1:
        raise ValueError(f"sequence_dataset: seq_len and stride must be >= 1, got {seq_len}, {stride}")
    if len(ids) < seq_len + 1:
        raise ValueError(f"sequence_dataset: {len(ids)} ids are too few for seq_len={seq_len} (need seq_len + 1)")
    windows = np.lib.stride_tricks.sliding_window_view(ids, seq_len + 1)[::stride]
    return TensorDataset(windows[:, :-1], windows[:, 1:])
