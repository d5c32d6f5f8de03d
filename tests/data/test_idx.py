"""MNIST-style IDX files, built tiny here: the tests never download anything."""
import gzip
import hashlib
import io
import struct
import urllib.request

import numpy as np
import pytest

from deepprimer.data import datasets
from deepprimer.data.datasets import idx as idx_module


def idx_bytes(array, type_code=0x08):
    array = np.asarray(array)
    header = bytes([0, 0, type_code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    dtype = {0x08: "u1", 0x0B: ">i2", 0x0D: ">f4"}[type_code]
    return header + array.astype(dtype).tobytes()


def write_split(folder, prefix, n, gz, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    for name, array in ((f"{prefix}-images-idx3-ubyte", images), (f"{prefix}-labels-idx1-ubyte", labels)):
        data = idx_bytes(array)
        (folder / (name + ".gz" if gz else name)).write_bytes(gzip.compress(data) if gz else data)
    return images, labels


@pytest.mark.parametrize("gz", [True, False])
def test_mnist_from_local_idx_files(tmp_path, gz):
    images, labels = write_split(tmp_path, "train", 5, gz)
    test_images, test_labels = write_split(tmp_path, "t10k", 3, gz, seed=1)
    b = datasets.mnist(root=tmp_path)
    assert b.X.shape == (5, 1, 28, 28) and b.X.dtype == np.float32 and b.y.dtype == np.int64
    np.testing.assert_allclose(b.X[:, 0] * 255, images, atol=1e-3)
    np.testing.assert_array_equal(b.y, labels)
    assert b.n_classes == 10 and "training" in b.description
    t = datasets.load("mnist", root=tmp_path, train=False, flatten=True)
    assert t.X.shape == (3, 784) and t.y.tolist() == test_labels.tolist()
    f = datasets.fashion_mnist(root=tmp_path)
    assert f.class_names[9] == "Ankle boot" and f.X.shape == (5, 1, 28, 28)


def test_torchvision_layout_and_data_home(tmp_path, monkeypatch):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    write_split(raw, "train", 2, gz=False)
    assert len(datasets.mnist(root=tmp_path)) == 2
    monkeypatch.setenv("DEEPPRIMER_DATA", str(tmp_path))
    assert datasets.data_home() == tmp_path
    (tmp_path / "fashion_mnist").mkdir()
    write_split(tmp_path / "fashion_mnist", "train", 4, gz=True)
    assert len(datasets.fashion_mnist()) == 4


def test_missing_files_say_where_and_offer_download(tmp_path):
    with pytest.raises(FileNotFoundError) as error:
        datasets.mnist(root=tmp_path / "nowhere")
    message = str(error.value)
    assert str(tmp_path / "nowhere") in message and "download=True" in message
    assert "train-images-idx3-ubyte.gz" in message and "DEEPPRIMER_DATA" in message


def test_read_idx_types_and_corrupt_files(tmp_path):
    path = tmp_path / "a.idx"
    values = np.arange(-6, 6).reshape(3, 4)
    path.write_bytes(idx_bytes(values, 0x0B))
    out = datasets.read_idx(path)
    assert out.dtype == np.int16 and out.dtype.isnative
    np.testing.assert_array_equal(out, values)
    path.write_bytes(idx_bytes(np.ones((2, 2)) / 4, 0x0D))
    np.testing.assert_array_equal(datasets.read_idx(path), np.full((2, 2), 0.25, dtype=np.float32))
    path.write_bytes(idx_bytes(np.zeros((2, 3, 3), dtype=np.uint8))[:-1])
    with pytest.raises(ValueError, match="truncated"):
        datasets.read_idx(path)
    path.write_bytes(b"PK\x03\x04 not idx")
    with pytest.raises(ValueError, match="not an IDX file"):
        datasets.read_idx(path)
    path.write_bytes(idx_bytes(np.zeros(3, dtype=np.uint8)))
    with pytest.raises(ValueError, match="magic number 2049, expected 2051"):
        datasets.read_idx(path, expect_magic=2051)


def test_download_verifies_checksums_and_writes_atomically(tmp_path, monkeypatch):
    """urlopen is replaced by a local fake: no network is touched."""
    payloads = {}
    for prefix in ("train", "t10k"):
        for kind, array in (("images-idx3", np.zeros((2, 28, 28), np.uint8)), ("labels-idx1", np.arange(2))):
            payloads[f"{prefix}-{kind}-ubyte.gz"] = gzip.compress(idx_bytes(array))
    served = []

    def fake_urlopen(url, timeout=None):
        served.append(url)
        return io.BytesIO(payloads[url.rsplit("/", 1)[1]])

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    good = {name: hashlib.md5(data).hexdigest() for name, data in payloads.items()}
    spec = dict(idx_module.SOURCES["mnist"], mirrors=["https://mirror.invalid/"], md5=good)
    monkeypatch.setitem(idx_module.SOURCES, "mnist", spec)
    b = datasets.mnist(root=tmp_path, download=True)
    assert len(b) == 2 and len(served) == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(payloads)
    datasets.download_idx_files("mnist", tmp_path)  # all present and verified: nothing fetched
    assert len(served) == 4

    bad = dict(good, **{"t10k-labels-idx1-ubyte.gz": "0" * 32})
    monkeypatch.setitem(idx_module.SOURCES, "mnist", dict(spec, md5=bad))
    fresh = tmp_path / "fresh"
    with pytest.raises(RuntimeError, match="checksum mismatch"):
        datasets.download_idx_files("mnist", fresh)
    assert "t10k-labels-idx1-ubyte.gz" not in {p.name for p in fresh.iterdir()}
    assert not any(".part" in p.name for p in fresh.iterdir())  # no half-written file left
