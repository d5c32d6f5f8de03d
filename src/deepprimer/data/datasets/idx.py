"""MNIST and Fashion-MNIST from the standard IDX files in a local folder.

Put the four files of the standard distribution (gzipped or not) in one folder::

    train-images-idx3-ubyte.gz  train-labels-idx1-ubyte.gz
    t10k-images-idx3-ubyte.gz   t10k-labels-idx1-ubyte.gz

By default that folder is ``$DEEPPRIMER_DATA/mnist`` (``$DEEPPRIMER_DATA`` defaults to
``~/.deepprimer/data``; Fashion-MNIST uses ``fashion_mnist``); a torchvision download
(``<root>/MNIST/raw``) is found too. ``download=True`` fetches the files from the mirror
below and checks each one against its published MD5 before keeping it. Nothing here
touches the network except :func:`download_idx_files`.
"""
import gzip
import hashlib
import os
import shutil
import struct
import urllib.request
from pathlib import Path

import numpy as np

from ...atomic import atomic_path
from .registry import DatasetBundle, register

FILES = {
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049

SOURCES = {
    "mnist": {
        "title": "MNIST handwritten digits",
        "torchvision_folder": "MNIST",
        "mirrors": ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"],
        "md5": {
            "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
            "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
            "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
        },
        "classes": [str(d) for d in range(10)],
    },
    "fashion_mnist": {
        "title": "Fashion-MNIST clothing images (Zalando)",
        "torchvision_folder": "FashionMNIST",
        "mirrors": ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
        "md5": {
            "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
            "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
            "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
        },
        "classes": [
            "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
        ],
    },
}

# IDX type codes (third byte of the magic number) and their big-endian dtypes
_IDX_DTYPES = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def data_home():
    """Where datasets live: ``$DEEPPRIMER_DATA``, or ``~/.deepprimer/data``."""
    return Path(os.environ.get("DEEPPRIMER_DATA") or Path.home() / ".deepprimer" / "data")


def read_idx(path, expect_magic=None):
    """An IDX file (gzipped or not, told by its first bytes) as a NumPy array.

    The header is a big-endian magic number (two zero bytes, a type code, the number of
    dimensions), then one big-endian uint32 per dimension, then the data.
    """
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if len(raw) < 4 or raw[:2] != b"\0\0" or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"{path.name}: not an IDX file (its first bytes are {raw[:4].hex()})")
    magic = int.from_bytes(raw[:4], "big")
    if expect_magic is not None and magic != expect_magic:
        raise ValueError(
            f"{path.name}: IDX magic number {magic}, expected {expect_magic} "
            f"({IMAGES_MAGIC} for images, {LABELS_MAGIC} for labels): is it the right file?"
        )
    ndim, dtype = raw[3], np.dtype(_IDX_DTYPES[raw[2]])
    header = 4 + 4 * ndim
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    expected = int(np.prod(dims)) * dtype.itemsize
    if len(raw) - header != expected:
        raise ValueError(
            f"{path.name}: header says {dims} of {dtype} ({expected} bytes of data) but the file "
            f"holds {len(raw) - header}: truncated or corrupt"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


def _find(folder, base, torchvision_folder):
    for place in (folder, folder / "raw", folder / torchvision_folder / "raw"):
        for name in (base, base + ".gz"):
            if (place / name).is_file():
                return place / name
    return None


def _load(name, root, train, download, flatten):
    spec = SOURCES[name]
    folder = Path(root).expanduser() if root is not None else data_home() / name
    bases = FILES[bool(train)]
    paths = [_find(folder, b, spec["torchvision_folder"]) for b in bases]
    if None in paths and download:
        download_idx_files(name, folder)
        paths = [_find(folder, b, spec["torchvision_folder"]) for b in bases]
    if None in paths:
        missing = [b for b, p in zip(bases, paths) if p is None]
        raise FileNotFoundError(
            f"{name}: {', '.join(missing)} (.gz or not) not found in {folder}.\n"
            f"Put the four standard IDX files ({', '.join(spec['md5'])}) in that folder, "
            f"or pass root=<folder>, or set DEEPPRIMER_DATA; or call {name}(download=True) "
            f"to fetch them from {spec['mirrors'][0]} (MD5-checked)."
        )
    images = read_idx(paths[0], IMAGES_MAGIC)
    labels = read_idx(paths[1], LABELS_MAGIC)
    if len(images) != len(labels):
        raise ValueError(f"{name}: {len(images)} images but {len(labels)} labels in {folder}")
    X = (images.reshape(len(images), -1) if flatten else images[:, None]).astype(np.float32)
    X /= 255.0
    split = "training" if train else "test"
    return DatasetBundle(
        X=X,
        y=labels.astype(np.int64),
        name=name,
        task="classification",
        description=f"{spec['title']}, {split} split, {images.shape[1]}x{images.shape[2]}, pixels in [0, 1]",
        class_names=list(spec["classes"]),
    )


@register(
    "mnist", task="classification", n_classes=10, shape=(60000, 1, 28, 28),
    source="local IDX files (download=True)",
    description="MNIST handwritten digits, 28x28, 60k train / 10k test",
)
def mnist(root=None, train=True, download=False, flatten=False):
    """MNIST: 28x28 grey handwritten digits; X (N, 1, 28, 28) float32 in [0, 1] (or
    (N, 784) with ``flatten=True``), y int64. ``train=False`` gives the 10,000 test images."""
    return _load("mnist", root, train, download, flatten)


@register(
    "fashion_mnist", task="classification", n_classes=10, shape=(60000, 1, 28, 28),
    source="local IDX files (download=True)",
    description="Fashion-MNIST clothing images, 28x28, 10 classes, 60k train / 10k test",
)
def fashion_mnist(root=None, train=True, download=False, flatten=False):
    """Fashion-MNIST: MNIST's format with 10 kinds of clothing (Zalando) instead of digits."""
    return _load("fashion_mnist", root, train, download, flatten)


def download_idx_files(name="mnist", root=None):
    """Download the four IDX files of ``name`` ("mnist" or "fashion_mnist") into ``root``.

    Files already there with the right checksum are kept. Each file is written under a
    temporary name, checked against its published MD5, and only then renamed into place,
    so an interrupted or corrupt download never leaves a file that looks complete.
    """
    spec = SOURCES[name]
    folder = Path(root).expanduser() if root is not None else data_home() / name
    folder.mkdir(parents=True, exist_ok=True)
    for filename, md5 in spec["md5"].items():
        target = folder / filename
        if target.is_file() and _md5(target) == md5:
            continue
        errors = []
        for mirror in spec["mirrors"]:
            try:
                _download_file(mirror + filename, target, md5)
                break
            except (OSError, ValueError) as error:
                errors.append(f"{mirror}: {error}")
        else:
            raise RuntimeError(f"{name}: could not download {filename}:\n  " + "\n  ".join(errors))
    return folder


def _download_file(download_url, target, md5):
    with atomic_path(target, suffix=".part") as partial:  # kept only if the checksum matches
        with urllib.request.urlopen(download_url, timeout=60) as download, open(partial, "wb") as out:
            shutil.copyfileobj(download, out)
        digest = _md5(partial)
        if digest != md5:
            raise ValueError(f"checksum mismatch: MD5 {digest}, published {md5}")


def _md5(path):
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
