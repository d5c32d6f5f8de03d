"""Small real datasets that ship inside scikit-learn: no download, always available.

scikit-learn is imported only when one of them is loaded.
"""
import numpy as np

from .registry import DatasetBundle, register

_SOURCE = "bundled with scikit-learn"


def _sklearn(loader_name):
    from sklearn import datasets

    return getattr(datasets, loader_name)()


def _bundle(raw, name, description, X=None):
    return DatasetBundle(
        X=np.asarray(raw.data if X is None else X, dtype=np.float32),
        y=np.asarray(raw.target, dtype=np.int64),
        name=name,
        task="classification",
        description=description,
        feature_names=[str(f) for f in raw.feature_names],
        class_names=[str(c) for c in raw.target_names],
    )


@register(
    "digits", task="classification", n_classes=10, shape=(1797, 1, 8, 8), source=_SOURCE,
    description="8x8 handwritten digits 0-9 (UCI optdigits test set), pixels in [0, 1]",
)
def digits(flatten=False):
    """1,797 grey 8x8 images of handwritten digits, 10 classes of about 180 each.

    X is (1797, 1, 8, 8) float32 in [0, 1] (the original 0-16 counts divided by 16), or
    (1797, 64) with ``flatten=True``; y the digit, int64.
    """
    raw = _sklearn("load_digits")
    images = raw.images.reshape(-1, 1, 8, 8) / 16.0
    return _bundle(
        raw, "digits", "8x8 handwritten digits 0-9, pixels in [0, 1]",
        X=images.reshape(len(images), -1) if flatten else images,
    )


@register(
    "iris", task="classification", n_classes=3, shape=(150, 4), source=_SOURCE,
    description="Fisher's iris flowers: 4 measurements (cm), 3 species",
)
def iris():
    """150 iris flowers, 4 measurements in cm, 3 species of 50 each."""
    return _bundle(_sklearn("load_iris"), "iris", "Fisher's iris flowers: 4 measurements (cm), 3 species")


@register(
    "wine", task="classification", n_classes=3, shape=(178, 13), source=_SOURCE,
    description="chemical analysis of 178 Italian wines, 13 features, 3 cultivars",
)
def wine():
    """178 wines, 13 chemical measurements (on very different scales: standardise them),
    3 cultivars of 59, 71 and 48."""
    return _bundle(_sklearn("load_wine"), "wine", "chemical analysis of Italian wines, 13 features, 3 cultivars")


@register(
    "breast_cancer", task="classification", n_classes=2, shape=(569, 30), source=_SOURCE,
    description="Wisconsin breast cancer: 30 cell-nucleus features, malignant/benign",
)
def breast_cancer():
    """569 tumours, 30 features of cell nuclei; class 0 malignant (212), 1 benign (357)."""
    return _bundle(
        _sklearn("load_breast_cancer"), "breast_cancer",
        "Wisconsin breast cancer: 30 cell-nucleus features, 0 malignant / 1 benign",
    )
