"""Data: datasets, batching, splitting, scaling and augmentation (``deepprimer.data``).

The PyTorch names (``Dataset``, ``TensorDataset``, ``DataLoader``, ``random_split``,
``Subset``) behave as in ``torch.utils.data``; ``train_val_test_split`` and
``StandardScaler`` follow scikit-learn. Built-in datasets are in ``data.datasets``,
image augmentations in ``data.transforms``.

    from deepprimer.data import DataLoader, StandardScaler, train_val_test_split, datasets
    X, y = datasets.wine()
    X_tr, X_va, X_te, y_tr, y_va, y_te = train_val_test_split(X, y, seed=0)
    scaler = StandardScaler().fit(X_tr)           # training split only
    loader = DataLoader((scaler.transform(X_tr), y_tr), batch_size=32, shuffle=True)
    for xb, yb in loader:                         # tensors, reshuffled each epoch
        ...
"""
from .dataset import ConcatDataset, Dataset, Subset, TensorDataset
from .loader import DataLoader, default_collate
from .scaler import StandardScaler
from .split import random_split, train_val_test_split
from . import datasets, transforms
from .datasets import list_datasets, load

__all__ = [
    "ConcatDataset", "Dataset", "Subset", "TensorDataset",
    "DataLoader", "default_collate",
    "StandardScaler",
    "random_split", "train_val_test_split",
    "datasets", "transforms", "list_datasets", "load",
]
