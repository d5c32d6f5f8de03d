"""Datasets: anything with ``__getitem__`` and ``__len__``, as in ``torch.utils.data``.

:class:`TensorDataset` holds whole arrays with a common first dimension; the
:class:`~deepprimer.data.DataLoader` batches it by indexing the whole arrays at once
(one NumPy call per array per batch) instead of fetching and stacking samples one by one.
:class:`Subset` of a ``TensorDataset`` keeps that fast path.
"""
import bisect

import numpy as np

from ..tensor import Tensor


class Dataset:
    """Base class of map-style datasets: subclasses define ``__getitem__`` and ``__len__``."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __add__(self, other):
        return ConcatDataset([self, other])


def _array(data):
    """The NumPy array behind a tensor or array-like (kept as is, no copy, no dtype change)."""
    if isinstance(data, Tensor):
        return data.data
    array = np.asarray(data)
    if array.ndim == 0:
        raise ValueError("TensorDataset: every input needs a first (sample) dimension; got a scalar")
    return array


class TensorDataset(Dataset):
    """Samples are matching rows of several arrays or tensors: ``TensorDataset(X, y)``.

    ``dataset[i]`` is the tuple ``(X[i], y[i])`` as tensors, as in PyTorch. Keyword inputs
    (ours) make dict samples instead: ``TensorDataset(image=X, label=y)[i]`` is
    ``{"image": X[i], "label": y[i]}``. NumPy arrays and tensors are both accepted and
    kept without copying; dtypes are kept as given.
    """

    def __init__(self, *tensors, **named):
        if tensors and named:
            raise TypeError("TensorDataset: pass arrays either positionally or by name, not both")
        if not tensors and not named:
            raise ValueError("TensorDataset: needs at least one array or tensor")
        self.keys = tuple(named) if named else None
        self.arrays = tuple(_array(t) for t in (named.values() if named else tensors))
        sizes = [a.shape[0] for a in self.arrays]
        if len(set(sizes)) > 1:
            names = self.keys or [f"#{i}" for i in range(len(sizes))]
            listed = ", ".join(f"{n}: {s}" for n, s in zip(names, sizes))
            raise ValueError(
                f"TensorDataset: all inputs must have the same size in the first dimension "
                f"(one row per sample); got {listed}"
            )

    @property
    def tensors(self):
        """The stored data as tensors (sharing memory with the arrays)."""
        return tuple(Tensor._make(a) for a in self.arrays)

    def __len__(self):
        return self.arrays[0].shape[0]

    def __getitem__(self, index):
        return self.pack(a[index] for a in self.arrays)

    def pack(self, parts):
        """Wrap one row (or one batch) per array as tensors, in this dataset's sample structure."""
        parts = [Tensor._make(np.asarray(p)) for p in parts]
        return dict(zip(self.keys, parts)) if self.keys else tuple(parts)

    def __repr__(self):
        shapes = ", ".join(str(a.shape) for a in self.arrays)
        return f"TensorDataset({len(self)} samples: {shapes})"


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        n = len(dataset)
        if self.indices.size and (self.indices.min() < 0 or self.indices.max() >= n):
            raise IndexError(f"Subset: indices must lie in [0, {n}) for a dataset of {n} samples")

    def __getitem__(self, index):
        return self.dataset[int(self.indices[index])]

    def __len__(self):
        return self.indices.size


class ConcatDataset(Dataset):
    """Several datasets one after the other."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: needs at least one dataset")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"ConcatDataset: index {index} out of range for {n} samples")
        index %= n
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


def array_source(dataset):
    """``(tensor_dataset, indices or None)`` when ``dataset`` can be batched by whole-array
    indexing (a TensorDataset whose ``__getitem__`` is not overridden, or Subsets of one),
    else ``None``."""
    indices = None
    while isinstance(dataset, Subset):
        indices = dataset.indices if indices is None else dataset.indices[indices]
        dataset = dataset.dataset
    if isinstance(dataset, TensorDataset) and type(dataset).__getitem__ is TensorDataset.__getitem__:
        return dataset, indices
    return None


def as_dataset(data):
    """A Dataset from what the loader and the splitters accept.

    A Dataset (or anything with ``__getitem__`` and ``__len__``) is used as it is; a
    NumPy array or tensor becomes a one-array TensorDataset whose samples are plain
    tensors; a tuple of arrays becomes ``TensorDataset(*arrays)`` and a dict of arrays
    ``TensorDataset(**arrays)``.
    """
    if isinstance(data, Dataset):
        return data
    if isinstance(data, (np.ndarray, Tensor)):
        return _SingleArrayDataset(data)
    if isinstance(data, tuple) and data and all(isinstance(d, (np.ndarray, Tensor)) for d in data):
        return TensorDataset(*data)
    if isinstance(data, dict) and data and all(isinstance(d, (np.ndarray, Tensor)) for d in data.values()):
        return TensorDataset(**data)
    if hasattr(data, "__getitem__") and hasattr(data, "__len__"):
        return data
    raise TypeError(
        f"expected a Dataset, an array or tensor, a tuple or dict of arrays, or a sequence of "
        f"samples; got {type(data).__name__}"
    )


class _SingleArrayDataset(TensorDataset):
    """One array whose rows are the samples themselves (not 1-tuples)."""

    def pack(self, parts):
        (part,) = parts
        return Tensor._make(np.asarray(part))

    def __repr__(self):
        return f"ArrayDataset({len(self)} samples: {self.arrays[0].shape})"
