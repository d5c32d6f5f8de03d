import numpy as np
import pytest
from sklearn.datasets import make_circles, make_moons

import deepprimer as dp
from deepprimer.data import DataLoader, datasets

OFFLINE = ["digits", "iris", "wine", "breast_cancer", "moons", "circles", "spiral", "xor", "gaussians", "plane", "sine"]
CLASS_COUNTS = {
    "digits": [178, 182, 177, 183, 181, 182, 181, 179, 174, 180],
    "iris": [50, 50, 50],
    "wine": [59, 71, 48],
    "breast_cancer": [212, 357],
    "moons": [100, 100],
    "circles": [100, 100],
    "spiral": [150, 150],
    "xor": None,  # depends on the draws
    "gaussians": [100, 100],
}


@pytest.mark.parametrize("name", OFFLINE)
def test_registry_matches_what_loads(name):
    info = datasets.info(name)
    bundle = datasets.load(name)
    assert bundle.X.shape == info.shape and len(bundle) == info.shape[0]
    assert bundle.X.dtype == np.float32 and np.isfinite(bundle.X).all()
    assert bundle.task == info.task and bundle.description and bundle.name == name
    X, y = bundle  # unpacks like a pair
    assert X is bundle.X and y is bundle.y
    if info.task == "classification":
        assert y.dtype == np.int64 and y.shape == (len(X),)
        assert bundle.n_classes == info.n_classes == len(bundle.class_names)
        counts = np.bincount(y, minlength=info.n_classes)
        assert len(counts) == info.n_classes and counts.min() > 0
        if CLASS_COUNTS[name] is not None:
            assert counts.tolist() == CLASS_COUNTS[name]
    else:
        assert y.dtype == np.float32 and y.shape == (len(X), 1) and bundle.n_classes is None


def test_listing_and_unknown_names():
    names = [i.name for i in datasets.list_datasets()]
    assert set(OFFLINE + ["mnist", "fashion_mnist", "text"]) <= set(names)
    table = datasets.format_table()
    assert all(n in table for n in names) and "classification" in table and "60000x1x28x28" in table
    with pytest.raises(ValueError, match="Did you mean 'moons'"):
        datasets.load("moon")


def test_digits_images_and_flat():
    b = datasets.digits()
    assert b.X.shape == (1797, 1, 8, 8) and b.X.min() == 0.0 and b.X.max() == 1.0
    flat = datasets.digits(flatten=True).X
    assert flat.shape == (1797, 64)
    np.testing.assert_array_equal(flat, b.X.reshape(1797, 64))
    xb, yb = next(iter(DataLoader(b.to_dataset(), batch_size=32)))
    assert xb.shape == (32, 1, 8, 8) and yb.dtype == np.int64


@pytest.mark.parametrize("name", ["moons", "circles", "spiral", "xor", "gaussians", "plane", "sine"])
def test_synthetic_deterministic_given_seed_and_independent_of_global_seed(name):
    dp.manual_seed(1)
    a = datasets.load(name, n=50, seed=7)
    dp.randn(10)
    dp.manual_seed(2)
    b = datasets.load(name, n=50, seed=7)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    c = datasets.load(name, n=50, seed=8)
    assert not np.array_equal(a.X, c.X)
    assert len(datasets.load(name, n=7).X) == 7


def sorted_rows(X):
    return X[np.lexsort(X.T[::-1])]


def test_moons_and_circles_match_sklearn_without_noise():
    for ours, theirs in ((datasets.moons, make_moons), (datasets.circles, make_circles)):
        kwargs = {"factor": 0.5} if ours is datasets.circles else {}
        X, y = ours(n=101, noise=0.0, **kwargs)
        Xs, ys = theirs(n_samples=101, noise=None, shuffle=False, **kwargs)
        for label in (0, 1):
            np.testing.assert_allclose(sorted_rows(X[y == label]), sorted_rows(Xs[ys == label].astype(np.float32)), atol=1e-6)


def test_spiral_arms_and_gaussian_blobs():
    X, y = datasets.spiral(n=301, k=3, noise=0.0)
    assert np.bincount(y).tolist() == [101, 100, 100]
    r = np.hypot(X[:, 0], X[:, 1])
    assert r.max() <= 5.0 + 1e-5 and r.min() > 0  # TF Playground radius
    X, y = datasets.gaussians(n=400, k=4, noise=0.1)
    centres = np.array([X[y == j].mean(axis=0) for j in range(4)])
    np.testing.assert_allclose(np.hypot(centres[:, 0], centres[:, 1]), 1.0, atol=0.05)


def test_xor_labels_and_regression_targets():
    X, y = datasets.xor(n=500, noise=0.0)
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] > 0))
    assert np.abs(X).min() >= 0.05 and np.abs(X).max() <= 1.0
    X, y = datasets.plane(n=100, noise=0.0)
    np.testing.assert_allclose(y[:, 0], X.sum(axis=1) / 2, atol=1e-6)
    X, y = datasets.sine(n=15, noise=0.0)
    assert np.all(np.diff(X[:, 0]) >= 0)
    np.testing.assert_allclose(y[:, 0], np.sin(2 * np.pi * X[:, 0]), atol=1e-5)
    _, noisy = datasets.sine(n=15, noise=0.3)
    assert np.abs(noisy - y).max() > 0.05


def test_generator_argument_errors():
    with pytest.raises(ValueError, match="n must be a positive int"):
        datasets.moons(n=0)
    with pytest.raises(ValueError, match="noise"):
        datasets.circles(noise=-1)
    with pytest.raises(ValueError, match="k"):
        datasets.spiral(k=1)


def test_text_corpus_and_char_vocab(tmp_path):
    text = datasets.text_corpus()
    assert isinstance(text, str) and len(text) > 100_000 and "def" in text
    assert datasets.load("text") == text
    path = tmp_path / "t.txt"
    path.write_text("héllo\nwörld", encoding="utf-8")
    small = datasets.text_corpus(path)
    assert small == "héllo\nwörld"
    vocab = datasets.CharVocab(small)
    assert len(vocab) == 9 and vocab.chars == sorted(set(small))
    ids = vocab.encode(small)
    assert ids.dtype == np.int64 and ids.shape == (len(small),)
    assert vocab.decode(ids) == small and vocab.decode(dp.tensor(ids)) == small
    assert vocab.decode([vocab.stoi["w"]]) == "w"
    with pytest.raises(ValueError, match="'z'"):
        vocab.encode("zoo")
    with pytest.raises(ValueError, match=r"\[0, 9\)"):
        vocab.decode([9])
    big = datasets.CharVocab(text)
    assert big.decode(big.encode(text[:5000])) == text[:5000]


def test_sequence_dataset_next_character_pairs():
    ids = np.arange(10)
    ds = datasets.sequence_dataset(ids, seq_len=4, stride=2)
    assert len(ds) == 3
    x, y = ds[1]
    assert x.tolist() == [2, 3, 4, 5] and y.tolist() == [3, 4, 5, 6]
    xb, yb = next(iter(DataLoader(ds, batch_size=3, shuffle=True)))
    np.testing.assert_array_equal(xb.numpy() + 1, yb.numpy())
    with pytest.raises(ValueError, match="too few"):
        datasets.sequence_dataset(np.arange(3), seq_len=3)
