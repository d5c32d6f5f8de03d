"""DataLoader: a dataset in mini-batches, reshuffled every epoch, as in ``torch.utils.data``.

Each pass over the loader is one epoch: every sample appears exactly once (the last,
smaller batch is dropped only with ``drop_last=True``). Shuffling draws from the library's
seeded generator (``dp.manual_seed``) or from the ``generator`` given.

Fast path: a :class:`TensorDataset` (or a NumPy array, a tuple or dict of arrays, or a
Subset of those) is batched by indexing each whole array with the batch's indices, one
NumPy call per array, instead of fetching samples one at a time and stacking them.
Batches are always fresh copies, so changing a batch in place never changes the dataset.
"""
from collections.abc import Mapping

import numpy as np

from ..random import Generator, get_rng
from ..tensor import Tensor, as_array
from .dataset import array_source, as_dataset


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size`` samples.

    ``dataset`` may be a Dataset, a NumPy array or tensor (batches are tensors), a tuple
    of arrays (batches are tuples of tensors) or a dict of arrays (batches are dicts).
    ``collate_fn(list_of_samples)`` replaces :func:`default_collate`; with it, samples are
    always fetched one by one.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, collate_fn=None, generator=None):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        if generator is not None and not isinstance(generator, Generator):
            raise TypeError(
                f"DataLoader: generator must be a dp.Generator (e.g. dp.Generator(seed)) or None, "
                f"got {type(generator).__name__}"
            )
        self.dataset = as_dataset(dataset)
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn
        self.generator = generator
        self._source = array_source(self.dataset) if collate_fn is None else None

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        n = len(self.dataset)
        order = get_rng(self.generator).permutation(n) if self.shuffle else None
        stop = n - n % self.batch_size if self.drop_last else n
        if self._source is not None:
            return self._array_batches(order, stop)
        return self._sample_batches(order, stop, n)

    def _array_batches(self, order, stop):
        dataset, base = self._source
        arrays, bs = dataset.arrays, self.batch_size
        if base is not None:
            order = base if order is None else base[order]
        for start in range(0, stop, bs):
            if order is None:
                yield dataset.pack([a[start:start + bs].copy() for a in arrays])
            else:
                index = order[start:start + bs]
                yield dataset.pack([a[index] for a in arrays])

    def _sample_batches(self, order, stop, n):
        dataset, bs = self.dataset, self.batch_size
        collate = self.collate_fn or default_collate
        for start in range(0, stop, bs):
            index = range(start, min(start + bs, n)) if order is None else order[start:start + bs].tolist()
            yield collate([dataset[i] for i in index])

    def __repr__(self):
        return (
            f"DataLoader({len(self.dataset)} samples, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last}, {len(self)} batches)"
        )


def default_collate(batch):
    """Stack a list of samples into one batch, as PyTorch's ``default_collate`` does.

    Arrays and tensors are stacked along a new first dimension into a tensor; Python and
    NumPy numbers become a 1-D tensor (floats float32, ints int64, as ``dp.tensor``);
    tuples, lists and dicts are collated field by field, keeping their structure;
    strings stay a list.
    """
    if not batch:
        raise ValueError("default_collate: got an empty batch")
    elem = batch[0]
    if isinstance(elem, (Tensor, np.ndarray)):
        arrays = [b.data if isinstance(b, Tensor) else np.asarray(b) for b in batch]
        shapes = {a.shape for a in arrays}
        if len(shapes) > 1:
            raise ValueError(
                f"default_collate: samples in a batch must have one shape to be stacked; got "
                f"{sorted(shapes)}. Pad them to one shape or pass a collate_fn to the DataLoader."
            )
        return Tensor._make(np.stack(arrays))
    if isinstance(elem, (bool, int, float, np.generic)):
        return Tensor._make(as_array(batch))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, Mapping):
        return {key: default_collate([b[key] for b in batch]) for key in elem}
    if isinstance(elem, (tuple, list)):
        if len({len(b) for b in batch}) > 1:
            raise ValueError("default_collate: samples in a batch have different numbers of fields")
        fields = [default_collate(list(f)) for f in zip(*batch)]
        if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a namedtuple
            return type(elem)(*fields)
        return tuple(fields) if isinstance(elem, tuple) else fields
    raise TypeError(
        f"default_collate: don't know how to batch samples of type {type(elem).__name__}; "
        f"expected arrays, tensors, numbers, strings, or tuples/lists/dicts of them "
        f"(or pass a collate_fn to the DataLoader)"
    )
