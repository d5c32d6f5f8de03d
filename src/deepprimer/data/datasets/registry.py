"""The built-in datasets by name: what ``deepprimer datasets`` lists and ``load(name)`` opens.

Every tabular or image dataset comes back as a :class:`DatasetBundle`: ``X`` float32,
``y`` int64 class indices (classification) or float32 of shape ``(n, 1)`` (regression, so
it matches a model's ``(n, 1)`` output in ``MSELoss``), plus a description and names.
A bundle unpacks like a pair: ``X, y = datasets.moons()``.
"""
import difflib
from dataclasses import dataclass, field

import numpy as np

from ..dataset import TensorDataset


@dataclass(repr=False)
class DatasetBundle:
    """Arrays and what they mean. ``X, y = bundle`` unpacks the arrays."""

    X: np.ndarray
    y: np.ndarray
    name: str
    task: str  # "classification" or "regression"
    description: str
    feature_names: list = field(default=None)
    class_names: list = field(default=None)

    def __iter__(self):
        return iter((self.X, self.y))

    def __len__(self):
        return len(self.X)

    @property
    def n_classes(self):
        """Number of classes (None for regression)."""
        if self.task != "classification":
            return None
        return len(self.class_names) if self.class_names else int(self.y.max()) + 1

    def to_dataset(self):
        """``TensorDataset(X, y)``, ready for a DataLoader."""
        return TensorDataset(self.X, self.y)

    def __repr__(self):
        kind = f"{self.n_classes} classes" if self.task == "classification" else self.task
        return (
            f"DatasetBundle({self.name!r}: X {self.X.shape} {self.X.dtype}, "
            f"y {self.y.shape} {self.y.dtype}, {kind})"
        )


@dataclass(frozen=True)
class DatasetInfo:
    """What the registry knows about a dataset without loading it."""

    name: str
    task: str  # "classification", "regression" or "text"
    description: str
    shape: tuple  # shape of X with the default arguments (None where it depends on a file)
    n_classes: int = None
    source: str = ""


_REGISTRY = {}


def register(name, *, task, description, shape, n_classes=None, source=""):
    """Decorator: make a loader available as ``load(name)`` and in ``list_datasets()``."""

    def add(loader):
        _REGISTRY[name] = (DatasetInfo(name, task, description, shape, n_classes, source), loader)
        return loader

    return add


def list_datasets():
    """Every built-in dataset's :class:`DatasetInfo`, in registration order."""
    return [info for info, _ in _REGISTRY.values()]


def info(name):
    return _REGISTRY[_known(name)][0]


def load(name, **kwargs):
    """Load a built-in dataset by name: ``load("moons", n=500, noise=0.2)``."""
    return _REGISTRY[_known(name)][1](**kwargs)


def _known(name):
    if name not in _REGISTRY:
        close = difflib.get_close_matches(name, _REGISTRY, n=3)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ValueError(f"unknown dataset {name!r}.{hint} Available: {', '.join(_REGISTRY)}")
    return name


def format_table():
    """The registry as a plain-text table (what ``deepprimer datasets`` prints)."""
    rows = [("name", "task", "classes", "shape", "source", "description")]
    for i in list_datasets():
        shape = "x".join(map(str, i.shape)) if i.shape else "-"
        rows.append((i.name, i.task, str(i.n_classes or "-"), shape, i.source, i.description))
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths)) + "  " + r[-1] for r in rows
    )
