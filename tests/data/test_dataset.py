import numpy as np
import pytest

import deepprimer as dp
from deepprimer.data import Subset, TensorDataset


def test_tensor_dataset_items_are_tensors():
    X = np.arange(6, dtype=np.float32).reshape(3, 2)
    ds = TensorDataset(X, dp.tensor([0, 1, 2]))
    assert len(ds) == 3
    x, y = ds[1]
    assert isinstance(x, dp.Tensor) and x.tolist() == [2.0, 3.0] and y.item() == 1
    assert [t.shape for t in ds.tensors] == [(3, 2), (3,)]


def test_tensor_dataset_size_mismatch_names_sizes():
    with pytest.raises(ValueError, match=r"#0: 3, #1: 4"):
        TensorDataset(np.zeros((3, 2)), np.zeros(4))
    with pytest.raises(ValueError, match=r"x: 3, y: 2"):
        TensorDataset(x=np.zeros(3), y=np.zeros(2))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()
    with pytest.raises(TypeError, match="not both"):
        TensorDataset(np.zeros(2), y=np.zeros(2))


def test_subset():
    ds = TensorDataset(np.arange(10))
    sub = Subset(ds, [7, 2])
    assert len(sub) == 2 and sub[0][0].item() == 7 and sub[-1][0].item() == 2
    with pytest.raises(IndexError, match=r"\[0, 10\)"):
        Subset(ds, [10])
