"""The data of a classifier or generative run: a built-in dataset as flat rows, split, and
(if the config says so) standardised with statistics of the training split only."""
import dataclasses

import numpy as np

from ..data import StandardScaler, train_val_test_split
from ..data.datasets import load as load_dataset


@dataclasses.dataclass
class Splits:
    X_train: np.ndarray
    X_val: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_val: np.ndarray
    y_test: np.ndarray
    task: str
    n_outputs: int
    class_names: list
    scaler: StandardScaler = None


def prepare_data(config, scaler=None):
    """Load, flatten, split (stratified for classes, by the config's seed) and standardise.
    A saved run passes its ``scaler`` so its test split is transformed as in training."""
    bundle = load_dataset(config.dataset)
    X = bundle.X.reshape(len(bundle.X), -1).astype(np.float32)
    classification = bundle.task == "classification"
    parts = train_val_test_split(
        X, bundle.y, val_size=config.val_size, test_size=config.test_size,
        stratify=classification, seed=config.seed,
    )
    splits = Splits(*parts, task=bundle.task, n_outputs=bundle.n_classes if classification else bundle.y.shape[1],
                    class_names=bundle.class_names)
    if config.standardize:
        if scaler is None:
            scaler = StandardScaler().fit(splits.X_train)
        splits.X_train, splits.X_val, splits.X_test = (
            scaler.transform(a) if len(a) else a for a in (splits.X_train, splits.X_val, splits.X_test)
        )
        splits.scaler = scaler
    return splits
