"""DataLoader: every sample once per epoch, seeded shuffles, batch structures, collate."""
from collections import namedtuple

import numpy as np
import pytest

import deepprimer as dp
from deepprimer.data import ConcatDataset, DataLoader, Dataset, Subset, TensorDataset, default_collate


class Squares(Dataset):
    """A map-style dataset with no arrays behind it: exercises the per-sample path."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.array([i, i * i], dtype=np.float32), i


def ids_of(loader):
    """The sample ids of one epoch, batch by batch (column 0 of the inputs is the id)."""
    return [xb.numpy()[:, 0].astype(int).tolist() for xb, _ in loader]


def make_tensor_dataset(n):
    X = np.stack([np.arange(n), -np.arange(n)], axis=1).astype(np.float32)
    return TensorDataset(X, np.arange(n))


@pytest.mark.parametrize("make", [make_tensor_dataset, Squares], ids=["fast", "per-sample"])
@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("n,bs", [(10, 3), (12, 4), (5, 8), (7, 1)])
def test_every_sample_once_per_epoch(make, shuffle, drop_last, n, bs):
    loader = DataLoader(make(n), batch_size=bs, shuffle=shuffle, drop_last=drop_last)
    for _ in range(2):  # the loader can be iterated again
        batches = ids_of(loader)
        assert len(batches) == len(loader)
        seen = [i for b in batches for i in b]
        if drop_last:
            assert all(len(b) == bs for b in batches)
            assert len(seen) == (n // bs) * bs
            assert len(set(seen)) == len(seen)
        else:
            assert sorted(seen) == list(range(n))
            assert all(len(b) == bs for b in batches[:-1])
        if not shuffle:
            assert seen == list(range(len(seen)))


def test_len():
    ds = make_tensor_dataset(10)
    assert len(DataLoader(ds, batch_size=3)) == 4
    assert len(DataLoader(ds, batch_size=3, drop_last=True)) == 3
    assert len(DataLoader(ds, batch_size=10, drop_last=True)) == 1
    assert len(DataLoader(ds, batch_size=11, drop_last=True)) == 0
    assert list(DataLoader(ds, batch_size=11, drop_last=True)) == []


@pytest.mark.parametrize("make", [make_tensor_dataset, Squares], ids=["fast", "per-sample"])
def test_seeded_shuffle_repeats_and_epochs_differ(make):
    ds = make(50)
    dp.manual_seed(3)
    a = ids_of(DataLoader(ds, batch_size=8, shuffle=True))
    loader = DataLoader(ds, batch_size=8, shuffle=True)
    dp.manual_seed(3)
    b = ids_of(loader)
    assert a == b
    assert ids_of(loader) != b  # the next epoch is reshuffled
    g1, g2 = dp.Generator(7), dp.Generator(7)
    l1 = DataLoader(ds, batch_size=8, shuffle=True, generator=g1)
    l2 = DataLoader(ds, batch_size=8, shuffle=True, generator=g2)
    dp.manual_seed(123)  # a private generator ignores the global seed
    assert [ids_of(l1) for _ in range(3)] == [ids_of(l2) for _ in range(3)]


def test_fast_and_per_sample_paths_agree():
    ds = make_tensor_dataset(23)
    fast = DataLoader(ds, batch_size=5, shuffle=True, generator=dp.Generator(1))
    slow = DataLoader(ds, batch_size=5, shuffle=True, generator=dp.Generator(1), collate_fn=default_collate)
    assert fast._source is not None and slow._source is None
    for (xf, yf), (xs, ys) in zip(fast, slow):
        np.testing.assert_array_equal(xf.numpy(), xs.numpy())
        np.testing.assert_array_equal(yf.numpy(), ys.numpy())
        assert xf.dtype == xs.dtype and yf.dtype == ys.dtype


def test_numpy_in_tensors_out_dtypes_kept():
    X = np.random.default_rng(0).random((10, 3)).astype(np.float32)
    y = np.arange(10)
    xb, yb = next(iter(DataLoader((X, y), batch_size=4)))
    assert isinstance(xb, dp.Tensor) and isinstance(yb, dp.Tensor)
    assert xb.shape == (4, 3) and xb.dtype == np.float32 and yb.dtype == np.int64
    np.testing.assert_array_equal(xb.numpy(), X[:4])
    # tensors in, tensors out
    xb2, yb2 = next(iter(DataLoader(TensorDataset(dp.tensor(X), dp.tensor(y)), batch_size=4)))
    np.testing.assert_array_equal(xb2.numpy(), X[:4])
    assert yb2.dtype == np.int64


def test_single_array_and_dict_batches():
    X = np.arange(12, dtype=np.float32).reshape(6, 2)
    batches = list(DataLoader(X, batch_size=4))
    assert all(isinstance(b, dp.Tensor) for b in batches)
    assert [b.shape[0] for b in batches] == [4, 2]
    d = next(iter(DataLoader({"image": X, "label": np.arange(6)}, batch_size=3)))
    assert set(d) == {"image", "label"} and d["image"].shape == (3, 2)
    named = TensorDataset(image=X, label=np.arange(6))
    assert set(named[0]) == {"image", "label"}
    d2 = next(iter(DataLoader(named, batch_size=3, shuffle=True)))
    np.testing.assert_array_equal(d2["image"].numpy()[:, 0] / 2, d2["label"].numpy())


def test_batches_are_copies():
    X = np.zeros((6, 2), dtype=np.float32)
    for shuffle in (False, True):
        for (xb,) in DataLoader(TensorDataset(X), batch_size=3, shuffle=shuffle):
            xb += 1.0
    assert not X.any()


def test_subset_keeps_fast_path_and_indices():
    ds = make_tensor_dataset(20)
    sub = Subset(Subset(ds, np.arange(10, 20)), [9, 0, 4])
    loader = DataLoader(sub, batch_size=2)
    assert loader._source is not None
    assert [i for b in ids_of(loader) for i in b] == [19, 10, 14]
    assert sorted(i for b in ids_of(DataLoader(sub, batch_size=2, shuffle=True)) for i in b) == [10, 14, 19]


def test_overridden_getitem_uses_per_sample_path():
    class Doubled(TensorDataset):
        def __getitem__(self, i):
            x, y = super().__getitem__(i)
            return x * 2, y

    loader = DataLoader(Doubled(np.ones((4, 1), dtype=np.float32), np.arange(4)), batch_size=4)
    assert loader._source is None
    xb, _ = next(iter(loader))
    np.testing.assert_array_equal(xb.numpy(), 2 * np.ones((4, 1)))


def test_default_collate_structures():
    Pair = namedtuple("Pair", "x y")
    batch = [Pair(np.ones(2), 1.5), Pair(np.zeros(2), 2.5)]
    out = default_collate(batch)
    assert isinstance(out, Pair) and out.x.shape == (2, 2) and out.y.dtype == np.float32
    out = default_collate([{"a": 1, "b": "s", "c": [dp.ones(3), 0]}, {"a": 2, "b": "t", "c": [dp.zeros(3), 1]}])
    assert out["a"].dtype == np.int64 and out["b"] == ["s", "t"]
    assert isinstance(out["c"], list) and out["c"][0].shape == (2, 3) and out["c"][1].tolist() == [0, 1]
    assert default_collate([True, False]).dtype == np.bool_


def test_default_collate_errors():
    with pytest.raises(ValueError, match=r"one shape.*collate_fn"):
        default_collate([np.ones(2), np.ones(3)])
    with pytest.raises(TypeError, match="object"):
        default_collate([object(), object()])


def test_custom_collate_and_list_dataset():
    samples = [(np.full(2, i, dtype=np.float32), i) for i in range(5)]
    loader = DataLoader(samples, batch_size=2, collate_fn=lambda batch: len(batch))
    assert list(loader) == [2, 2, 1]
    xb, yb = next(iter(DataLoader(samples, batch_size=5)))
    assert xb.shape == (5, 2) and yb.tolist() == [0, 1, 2, 3, 4]


def test_concat_dataset():
    cat = ConcatDataset([Squares(3), Squares(2)])
    assert len(cat) == 5 and cat[3][1] == 0 and cat[-1][1] == 1
    assert len(Squares(3) + Squares(4)) == 7
    with pytest.raises(IndexError):
        cat[5]


def test_bad_arguments():
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(make_tensor_dataset(3), batch_size=0)
    with pytest.raises(TypeError, match="Dataset"):
        DataLoader(42)
    with pytest.raises(TypeError, match=r"dp.Generator"):
        DataLoader(make_tensor_dataset(3), shuffle=True, generator=5)
