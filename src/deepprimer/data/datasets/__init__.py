"""Built-in datasets, all offline: scikit-learn's bundled sets, synthetic 2-D problems,
MNIST-style IDX files from a local folder, and text for character models.

    from deepprimer.data import datasets
    X, y = datasets.moons(n=500, noise=0.2, seed=1)      # a DatasetBundle unpacks to X, y
    bundle = datasets.load("digits")                    # by name
    print(datasets.format_table())                      # what `deepprimer datasets` lists
"""
from .registry import DatasetBundle, DatasetInfo, format_table, info, list_datasets, load, register
from .sklearn_sets import breast_cancer, digits, iris, wine
from .synthetic import circles, gaussians, moons, plane, sine, spiral, xor
from .idx import data_home, download_idx_files, fashion_mnist, mnist, read_idx
from .text import CharVocab, sequence_dataset, text_corpus

__all__ = [
    "DatasetBundle", "DatasetInfo", "format_table", "info", "list_datasets", "load", "register",
    "breast_cancer", "digits", "iris", "wine",
    "circles", "gaussians", "moons", "plane", "sine", "spiral", "xor",
    "data_home", "download_idx_files", "fashion_mnist", "mnist", "read_idx",
    "CharVocab", "sequence_dataset", "text_corpus",
]
