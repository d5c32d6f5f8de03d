"""save/load: checkpoints in a safe format, written atomically.

``save(obj, path)`` stores a nested structure (dicts with str or int keys, lists, tuples,
Tensors, NumPy arrays, Python numbers, bools, strings and None: model and optimizer
state dicts, a training step counter, a config) as a ``.npz`` archive: one ``.npy``
member per array, plus ``__manifest__``, a JSON description of the structure stored as
a uint8 array. ``load(path)`` rebuilds the structure: Tensors come back as Tensors with
their dtype, tuples as tuples, int keys as ints.

Why not pickle, as ``torch.save`` does: unpickling a file runs whatever code the file
names, so loading a checkpoint from someone else could run theirs. Here nothing is ever
unpickled (``numpy.load(..., allow_pickle=False)``); a file holding a pickle is refused.

The file is written to a temporary name in the same directory and renamed over the
target (``os.replace``), so a crash mid-write leaves the previous file intact, never a
half-written one. A truncated or corrupted file fails with a ``ValueError`` naming it.

The archive is a plain NumPy ``.npz``: ``numpy.load(path)`` opens it without deepprimer,
its arrays named after their place in the structure (``state/0/exp_avg``).
"""
import io
import json
import os
import re
import struct
import zipfile
import zlib

import numpy as np

from .atomic import atomic_path
from .tensor import Tensor

__all__ = ["save", "load"]

_FORMAT = "deepprimer"
_VERSION = 1
_MANIFEST = "__manifest__"
_ARRAY_KINDS = "biufc"  # bool, integers, floats, complex: what .npy stores without pickle


# ---- save ------------------------------------------------------------------------------
def save(obj, f):
    """Save ``obj`` (a state dict, a Tensor, nested containers of them) to ``f``.

    ``f`` is a path (str or ``pathlib.Path``; written exactly there, whatever its suffix)
    or a binary file object opened for writing.
    """
    arrays = {}
    root = _Encoder(arrays).encode(obj)
    manifest = json.dumps({"format": _FORMAT, "version": _VERSION, "root": root},
                          ensure_ascii=False, allow_nan=True).encode("utf-8")
    members = {_MANIFEST: np.frombuffer(manifest, dtype=np.uint8)}
    members.update(arrays)

    if hasattr(f, "write"):
        np.savez(f, **members)
        return
    with atomic_path(f, make_dirs=False, durable=True) as tmp, open(tmp, "wb") as out:  # as torch.save: no new folders
        np.savez(out, **members)


class _Encoder:
    """Turns a structure into JSON-ready nodes, putting each array aside under a name.

    Nodes: JSON null/bool/int/float/str stand for themselves; containers and arrays are
    objects with a type tag ``"t"``: ``dict`` (``"k"`` keys, ``"v"`` values), ``list``,
    ``tuple``, ``tensor``, ``ndarray``, ``scalar`` (a NumPy scalar), each array as ``"a"``,
    the name of its member in the archive. The same Tensor or array object met twice is
    stored once and comes back as one object (tied weights stay tied).
    """

    def __init__(self, arrays):
        self.arrays = arrays
        self.names = {_MANIFEST}
        self.memo = {}  # id(obj) -> array name
        self.keep = []  # keeps memoized objects alive, so their ids stay theirs
        self.active = set()  # ids of the containers being encoded (to catch cycles)

    def encode(self, obj, path=()):
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            return float(obj)
        if isinstance(obj, Tensor):
            return {"t": "tensor", "a": self._array(obj, obj.data, path),
                    "requires_grad": bool(obj.requires_grad)}
        if isinstance(obj, np.ndarray):
            return {"t": "ndarray", "a": self._array(obj, obj, path)}
        if isinstance(obj, np.generic):
            return {"t": "scalar", "a": self._array(None, np.asarray(obj), path)}
        if isinstance(obj, (dict, list, tuple)):
            if id(obj) in self.active:
                raise ValueError(f"save: {_where(path)} contains itself; a cycle cannot be saved")
            self.active.add(id(obj))
            try:
                if isinstance(obj, dict):
                    keys, values = [], []
                    for key, value in obj.items():
                        keys.append(self._key(key, path))
                        values.append(self.encode(value, path + (key,)))
                    return {"t": "dict", "k": keys, "v": values}
                tag = "tuple" if isinstance(obj, tuple) else "list"
                return {"t": tag, "v": [self.encode(v, path + (i,)) for i, v in enumerate(obj)]}
            finally:
                self.active.discard(id(obj))
        raise TypeError(
            f"save: cannot store {_where(path)} of type {type(obj).__module__}."
            f"{type(obj).__qualname__}: a checkpoint holds dicts (str or int keys), lists, "
            f"tuples, Tensors, NumPy arrays, numbers, bools, strings and None. Save the "
            f"object's state_dict() rather than the object itself"
        )

    def _key(self, key, path):
        if isinstance(key, str):
            return key
        if isinstance(key, (int, np.integer)) and not isinstance(key, (bool, np.bool_)):
            return int(key)
        raise TypeError(
            f"save: dict keys must be str or int; {_where(path)} has a key {key!r} of type "
            f"{type(key).__name__}"
        )

    def _array(self, owner, array, path):
        if owner is not None and id(owner) in self.memo:
            return self.memo[id(owner)]
        if array.dtype.kind not in _ARRAY_KINDS or array.dtype.fields is not None:
            raise TypeError(
                f"save: cannot store {_where(path)}: arrays of dtype {array.dtype} would need "
                f"pickle; use a numeric or bool dtype"
            )
        name = _member_name(path)
        if name in self.names:
            base, i = name, 1
            while f"{base}~{i}" in self.names:
                i += 1
            name = f"{base}~{i}"
        self.names.add(name)
        self.arrays[name] = array
        if owner is not None:
            self.memo[id(owner)] = name
            self.keep.append(owner)
        return name


def _where(path):
    return "the object" if not path else "obj" + "".join(f"[{k!r}]" for k in path)


def _member_name(path):
    name = "/".join(re.sub(r"[^A-Za-z0-9_.\-]", "_", str(k)) for k in path) or "obj"
    return name.strip("/.") or "obj"


# ---- load ------------------------------------------------------------------------------
def load(f, map_location=None, *, weights_only=True):
    """Load what :func:`save` wrote from a path or a binary file object.

    Never unpickles: a file holding a pickle (``torch.save``'s format, ``np.save`` of
    objects) is refused with a ``ValueError``. ``map_location`` and ``weights_only`` are
    accepted for torch compatibility; everything loads onto the CPU, and loading is
    always as safe as torch's ``weights_only=True``.

    A ``.npz`` written by ``numpy.savez`` (without deepprimer's manifest) loads as a dict
    of Tensors, one per array.
    """
    if hasattr(f, "read"):
        name = getattr(f, "name", None) or "<file object>"
        return _load_from(f, str(name))
    path = os.fspath(f)
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if not os.path.exists(path):
        raise FileNotFoundError(2, f"load: no such file: {path!r}", path)
    if os.path.isdir(path):
        raise IsADirectoryError(21, f"load: {path!r} is a directory, not a checkpoint file", path)
    with open(path, "rb") as fh:
        return _load_from(fh, path)


def _damaged(name, detail):
    return ValueError(
        f"load: {name!r} is damaged or truncated ({detail}); it is not a complete deepprimer "
        f"checkpoint. Save it again, or restore it from a good copy"
    )


def _pickle_refused(name, detail):
    return ValueError(
        f"load: refusing to load {name!r}: it holds pickled data ({detail}). Unpickling runs "
        f"code named by the file, so deepprimer never does it. If it is a torch.save "
        f"checkpoint you trust, convert it once with torch: load it, turn its tensors into "
        f"NumPy arrays, and save those with deepprimer.save"
    )


_PICKLE_HEADS = (b"\x80",)  # protocol 2+ pickles start with the PROTO opcode


def _load_from(fh, name):
    head = fh.read(6)
    try:
        fh.seek(-len(head), io.SEEK_CUR)
    except (OSError, ValueError):
        data = head + fh.read()
        fh = io.BytesIO(data)
    if not head:
        raise _damaged(name, "the file is empty")
    if head.startswith(_PICKLE_HEADS):
        raise _pickle_refused(name, "it starts with a pickle header")
    if not head.startswith(b"PK"):
        if head.startswith(b"\x93NUMPY"):
            if _npy_holds_objects(fh):
                raise _pickle_refused(name, "a .npy array of Python objects")
            raise ValueError(
                f"load: {name!r} is a single .npy array, not a deepprimer checkpoint; "
                f"read it with numpy.load({name!r}, allow_pickle=False)"
            )
        raise ValueError(
            f"load: {name!r} is not a deepprimer checkpoint (a .npz archive written by "
            f"deepprimer.save); its first bytes are {head!r}"
        )
    try:
        with np.load(fh, allow_pickle=False) as archive:
            return _rebuild(archive, name)
    except ValueError as exc:
        message = str(exc)
        if message.startswith("load:"):
            raise
        if "pickle" in message.lower() or "object arrays" in message.lower():
            raise _pickle_refused(name, "an array of Python objects") from exc
        raise _damaged(name, message) from exc
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, struct.error, KeyError,
            UnicodeDecodeError, NotImplementedError) as exc:
        raise _damaged(name, f"{type(exc).__name__}: {exc}") from exc


def _npy_holds_objects(fh):
    try:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            dtype = np.lib.format.read_array_header_1_0(fh)[2]
        else:
            dtype = np.lib.format.read_array_header_2_0(fh)[2]
        return dtype.hasobject
    except Exception:  # an unreadable header: the caller's message is right either way
        return False


def _rebuild(archive, name):
    members = set(archive.files)
    if _MANIFEST not in members:
        pickled = [m for m in archive.zip.namelist() if m.endswith(".pkl") or "pickle" in m]
        if pickled:
            raise _pickle_refused(name, f"a zip archive with {pickled[0]!r}, as torch.save writes")
        return {key: Tensor._make(_read(archive, key)) for key in archive.files}

    raw = _read(archive, _MANIFEST)
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise _damaged(name, "the manifest is not a byte string")
    try:
        manifest = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _damaged(name, f"the manifest is not valid JSON: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT or "root" not in manifest:
        raise _damaged(name, "the manifest is not deepprimer's")
    version = manifest.get("version")
    if not isinstance(version, int) or version > _VERSION:
        raise ValueError(
            f"load: {name!r} was written by a newer deepprimer (format version {version}; "
            f"this one reads up to {_VERSION}); upgrade deepprimer to read it"
        )
    return _Decoder(archive, name, members).decode(manifest["root"])


def _read(archive, key):
    array = archive[key]
    if not array.flags.writeable:
        array = array.copy()
    return array


class _Decoder:
    def __init__(self, archive, name, members):
        self.archive = archive
        self.name = name
        self.members = members
        self.memo = {}  # array name -> the object rebuilt for it

    def decode(self, node):
        if node is None or isinstance(node, (bool, int, str)):
            return node
        if isinstance(node, float):
            return node
        if not isinstance(node, dict) or "t" not in node:
            raise _damaged(self.name, f"unexpected manifest entry {str(node)[:80]}")
        tag = node["t"]
        if tag == "dict":
            keys, values = node.get("k"), node.get("v")
            if not isinstance(keys, list) or not isinstance(values, list) or len(keys) != len(values):
                raise _damaged(self.name, "a dict entry of the manifest is malformed")
            if not all(isinstance(k, (str, int)) and not isinstance(k, bool) for k in keys):
                raise _damaged(self.name, "a dict key in the manifest is neither str nor int")
            return {k: self.decode(v) for k, v in zip(keys, values)}
        if tag in ("list", "tuple"):
            values = node.get("v")
            if not isinstance(values, list):
                raise _damaged(self.name, f"a {tag} entry of the manifest is malformed")
            items = [self.decode(v) for v in values]
            return tuple(items) if tag == "tuple" else items
        if tag in ("tensor", "ndarray", "scalar"):
            key = node.get("a")
            if key in self.memo:
                return self.memo[key]
            if key not in self.members:
                raise _damaged(self.name, f"the array {key!r} named in the manifest is missing")
            array = _read(self.archive, key)
            if tag == "tensor":
                obj = Tensor._make(array)
                if node.get("requires_grad") and array.dtype.kind in "fc":
                    obj.requires_grad = True
            elif tag == "ndarray":
                obj = array
            else:
                obj = array.reshape(()).dtype.type(array.reshape(()))
            self.memo[key] = obj
            return obj
        raise _damaged(self.name, f"unknown manifest entry type {tag!r}")

