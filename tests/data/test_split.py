import numpy as np
import pytest

import deepprimer as dp
from deepprimer.data import TensorDataset, random_split, train_val_test_split


def subset_ids(subsets):
    return [sorted(int(s[i][0].item()) for i in range(len(s))) for s in subsets]


def test_random_split_counts_cover_and_seed():
    ds = TensorDataset(np.arange(10))
    parts = random_split(ds, [6, 3, 1], generator=dp.Generator(0))
    assert [len(p) for p in parts] == [6, 3, 1]
    ids = subset_ids(parts)
    assert sorted(i for p in ids for i in p) == list(range(10))
    assert subset_ids(random_split(ds, [6, 3, 1], generator=dp.Generator(0))) == ids
    dp.manual_seed(5)
    a = subset_ids(random_split(ds, [5, 5]))
    dp.manual_seed(5)
    assert subset_ids(random_split(ds, [5, 5])) == a


def test_random_split_fractions_deal_out_remainder():
    parts = random_split(np.arange(11), [0.5, 0.3, 0.2])
    assert [len(p) for p in parts] == [6, 3, 2]  # floor 5, 3, 2 = 10; one left: to the first (as torch)
    assert sorted(int(p[i].item()) for p in parts for i in range(len(p))) == list(range(11))


def test_random_split_errors():
    with pytest.raises(ValueError, match="sum to 9, but the dataset has 10"):
        random_split(np.arange(10), [5, 4])
    with pytest.raises(ValueError, match="non-negative ints"):
        random_split(np.arange(10), [0.5, 0.2])


def three_class_labels():
    return np.repeat([0, 1, 2], [500, 300, 200])


def test_train_val_test_split_sizes_disjoint_and_stratified():
    y = three_class_labels()
    X = np.arange(len(y) * 2, dtype=np.float32).reshape(-1, 2)
    X_tr, X_va, X_te, y_tr, y_va, y_te = train_val_test_split(X, y, val_size=0.2, test_size=0.1, seed=0)
    assert (len(X_tr), len(X_va), len(X_te)) == (700, 200, 100)
    rows = np.concatenate([X_tr[:, 0], X_va[:, 0], X_te[:, 0]]) // 2
    assert sorted(rows.astype(int).tolist()) == list(range(1000))  # each sample in exactly one split
    for Xs, ys in ((X_tr, y_tr), (X_va, y_va), (X_te, y_te)):
        np.testing.assert_array_equal(y[(Xs[:, 0] // 2).astype(int)], ys)  # rows stay paired
        np.testing.assert_array_equal(np.bincount(ys), np.bincount(y) * len(ys) // len(y))
    assert not np.all(np.diff(y_tr) >= 0)  # shuffled, not sorted by class


def test_stratified_split_with_awkward_counts_is_close():
    y = np.repeat([0, 1, 2, 3], [7, 13, 1, 29])
    _, _, _, y_tr, y_va, y_te = train_val_test_split(np.zeros(50), y, val_size=0.2, test_size=0.2, seed=1)
    assert (len(y_tr), len(y_va), len(y_te)) == (30, 10, 10)
    for ys in (y_tr, y_va, y_te):
        expected = np.bincount(y, minlength=4) * len(ys) / len(y)
        assert np.all(np.abs(np.bincount(ys, minlength=4) - expected) < 1)


def test_split_seed_repeats_and_ignores_global_seed():
    y = three_class_labels()
    X = np.arange(len(y))
    dp.manual_seed(1)
    a = train_val_test_split(X, y, seed=3)
    dp.manual_seed(2)
    b = train_val_test_split(X, y, seed=3)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    c = train_val_test_split(X, y, seed=4)
    assert not np.array_equal(a[0], c[0])


def test_split_unstratified_regression_and_tensors():
    X = dp.randn(40, 3)
    y = dp.randn(40, 1)  # continuous targets: split at random
    X_tr, X_va, X_te, y_tr, y_va, y_te = train_val_test_split(X, y, val_size=4, test_size=0.25, seed=0)
    assert isinstance(X_tr, dp.Tensor) and X_tr.shape == (26, 3) and y_va.shape == (4, 1) and len(X_te) == 10
    np.testing.assert_array_equal(
        np.sort(np.concatenate([y_tr.numpy(), y_va.numpy(), y_te.numpy()]), axis=0), np.sort(y.numpy(), axis=0)
    )
    parts = train_val_test_split(np.arange(20), np.arange(20) % 2, stratify=False, seed=0)
    assert [len(p) for p in parts[:3]] == [14, 3, 3]


def test_split_errors():
    with pytest.raises(ValueError, match="X has 3 samples but y has 4"):
        train_val_test_split(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="no training"):
        train_val_test_split(np.zeros(10), np.zeros(10), val_size=0.5, test_size=0.5)
    with pytest.raises(ValueError, match="test_size"):
        train_val_test_split(np.zeros(10), np.zeros(10), test_size=1.5)
