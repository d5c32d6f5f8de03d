"""save/load: exact round trips, a safe format, atomic writes, clear errors."""
import io
import os
import pathlib
import pickle
import zipfile

import numpy as np
import pytest

import deepprimer as dp
from deepprimer.serialization import load, save


def checkpoint():
    rng = np.random.default_rng(0)
    return {
        "model": {
            "fc.weight": dp.tensor(rng.standard_normal((4, 3)).astype(np.float32)),
            "fc.bias": dp.tensor(rng.standard_normal(4).astype(np.float32)),
            "bn.num_batches_tracked": dp.tensor(7, dtype=dp.int64),
            "double": dp.tensor(rng.standard_normal(2), dtype=dp.float64),
            "half": dp.tensor([1.5, -2.25], dtype=dp.float16),
            "mask": dp.tensor([True, False]),
            "empty": dp.zeros(0, 3),
            "scalar": dp.tensor(3.25),
        },
        "optim": {
            "state": {0: {"step": 3, "exp_avg": dp.ones(4, 3)}, 1: {"step": 3, "exp_avg": dp.zeros(4)}},
            "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "amsgrad": False,
                              "name": "body", "params": [0, 1], "foreach": None}],
        },
        "epoch": 12,
        "best": float("inf"),
        "worst": float("-inf"),
        "nan": float("nan"),
        "big": 2 ** 70,
        "text": "héllo / wörld",
        "history": [0.5, 0.25, [1, 2, (3, 4)]],
        "numpy": np.arange(6, dtype=np.int32).reshape(2, 3),
        "npscalar": np.float32(0.1),
        "nothing": None,
        "nested": {"": {"a/b": 1, "a": {"b": 2}}},
    }


def assert_same(a, b, path="obj"):
    assert type(a) is type(b), (path, type(a), type(b))
    if isinstance(a, dict):
        assert list(a) == list(b), path
        for k in a:
            assert type(k) is type([kk for kk in b if kk == k][0])
            assert_same(a[k], b[k], f"{path}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, dp.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape, path
        np.testing.assert_array_equal(a.data, b.data)
        assert a.requires_grad == b.requires_grad
    elif isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype, path
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, float) and a != a:
        assert b != b, path
    else:
        assert a == b, path


def test_round_trip_is_exact(tmp_path):
    obj = checkpoint()
    save(obj, tmp_path / "ckpt.npz")
    back = load(tmp_path / "ckpt.npz")
    assert_same(obj, back)
    assert 0 in back["optim"]["state"]  # int keys stay ints
    assert isinstance(back["optim"]["param_groups"][0]["betas"], tuple)


def test_round_trip_with_str_path_and_any_suffix(tmp_path):
    path = str(tmp_path / "model.pt")
    save({"w": dp.ones(2)}, path)
    assert os.listdir(tmp_path) == ["model.pt"]  # written exactly there, no .npz appended
    assert_same(load(path), {"w": dp.ones(2)})


def test_round_trip_through_a_file_object():
    buffer = io.BytesIO()
    save(checkpoint(), buffer)
    buffer.seek(0)
    assert_same(load(buffer), checkpoint())


def test_a_tensor_alone_and_requires_grad(tmp_path):
    w = dp.randn(3, 2, requires_grad=True)
    save(w, tmp_path / "w.npz")
    back = load(tmp_path / "w.npz")
    assert isinstance(back, dp.Tensor) and back.requires_grad and back.is_leaf
    np.testing.assert_array_equal(back.data, w.data)


def test_shared_tensors_stay_shared(tmp_path):
    w = dp.randn(3)
    save({"a": w, "b": w, "c": [w]}, tmp_path / "t.npz")
    back = load(tmp_path / "t.npz")
    assert back["a"] is back["b"] is back["c"][0]
    assert len(np.load(tmp_path / "t.npz").files) == 2  # manifest + one array


def test_loaded_arrays_are_writable(tmp_path):
    save({"w": dp.ones(3)}, tmp_path / "t.npz")
    back = load(tmp_path / "t.npz")
    back["w"].data += 1
    assert back["w"].data.tolist() == [2, 2, 2]


def test_the_file_is_a_plain_npz_without_pickle(tmp_path):
    save(checkpoint(), tmp_path / "ckpt.npz")
    with np.load(tmp_path / "ckpt.npz", allow_pickle=False) as archive:
        assert "__manifest__" in archive.files
        assert "model/fc.weight" in archive.files
        np.testing.assert_array_equal(archive["model/fc.weight"], checkpoint()["model"]["fc.weight"].data)
        for name in archive.files:
            assert archive[name].dtype != object
    names = zipfile.ZipFile(tmp_path / "ckpt.npz").namelist()
    assert not any(n.endswith(".pkl") for n in names)


def test_a_plain_numpy_npz_loads_as_tensors(tmp_path):
    np.savez(tmp_path / "plain.npz", w=np.ones((2, 2), np.float32), b=np.zeros(2))
    back = load(tmp_path / "plain.npz")
    assert set(back) == {"w", "b"} and isinstance(back["w"], dp.Tensor) and back["b"].dtype == np.float64


def test_atomic_write_keeps_the_old_file_when_saving_fails(tmp_path):
    path = tmp_path / "ckpt.npz"
    save({"epoch": 1, "w": dp.ones(2)}, path)
    with pytest.raises(TypeError):
        save({"epoch": 2, "w": dp.ones(2), "bad": object()}, path)
    assert load(path)["epoch"] == 1
    assert os.listdir(tmp_path) == ["ckpt.npz"]  # no temporary left behind


def test_atomic_write_survives_a_crash_mid_write(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    save({"epoch": 1}, path)

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", crash)  # the crash comes after the bytes are written
    with pytest.raises(KeyboardInterrupt):
        save({"epoch": 2, "w": dp.ones(1000)}, path)
    monkeypatch.undo()
    assert load(path)["epoch"] == 1
    assert os.listdir(tmp_path) == ["ckpt.npz"]


def test_overwrite_replaces(tmp_path):
    path = tmp_path / "ckpt.npz"
    save({"epoch": 1}, path)
    save({"epoch": 2}, path)
    assert load(path) == {"epoch": 2}


def test_missing_file_names_it(tmp_path):
    path = tmp_path / "nope.npz"
    with pytest.raises(FileNotFoundError, match="nope.npz"):
        load(path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save({}, tmp_path / "no_dir" / "x.npz")


@pytest.mark.parametrize("keep", [0.0, 0.1, 0.5, 0.9, 0.99])
def test_truncated_file_is_a_clear_error(tmp_path, keep):
    path = tmp_path / "ckpt.npz"
    save(checkpoint(), path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ValueError, match=r"ckpt\.npz.*(damaged or truncated|empty)"):
        load(path)


def test_corrupted_array_bytes_are_caught(tmp_path):
    path = tmp_path / "ckpt.npz"
    save({"w": dp.tensor(np.arange(1000, dtype=np.float32))}, path)
    data = bytearray(path.read_bytes())
    i = data.find(b"\x00\x00\x80\x3f")  # the float32 1.0 inside the array
    data[i + 3] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"ckpt\.npz.*damaged"):
        load(path)


def test_garbage_file_is_refused(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(ValueError, match="notes.txt.*not a deepprimer checkpoint"):
        load(path)


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_pickle_file_is_refused(tmp_path):
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"w": Evil()}))
    with pytest.raises(ValueError, match=r"refusing to load .*evil\.pkl.*pickle"):
        load(path)


def test_npz_holding_a_pickled_object_array_is_refused(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, w=np.array([Evil()], dtype=object))
    with pytest.raises(ValueError, match=r"refusing to load .*evil\.npz.*pickle"):
        load(path)


def test_npy_holding_objects_is_refused(tmp_path):
    path = tmp_path / "evil.npy"
    np.save(path, np.array([Evil()], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match=r"refusing to load .*evil\.npy.*pickle"):
        load(path)


def test_torch_save_file_is_refused(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "model.pt"
    torch.save({"w": torch.ones(2)}, path)
    with pytest.raises(ValueError, match=r"refusing to load .*model\.pt.*torch\.save"):
        load(path)


def test_a_pickle_hidden_under_our_manifest_name_is_refused(tmp_path):
    path = tmp_path / "sneaky.npz"
    np.savez(path, __manifest__=np.array([Evil()], dtype=object))
    with pytest.raises(ValueError, match="refusing to load .*sneaky.npz"):
        load(path)


@pytest.mark.parametrize("obj, where", [
    ({"model": {"layer": object()}}, r"obj\['model'\]\['layer'\].*object"),
    ({"f": lambda x: x}, r"obj\['f'\].*function"),
    ({(1, 2): 3}, r"keys must be str or int"),
    ({"a": np.array(["x", "y"])}, r"obj\['a'\].*dtype <U1"),
    ({"a": np.array([None], dtype=object)}, r"obj\['a'\].*dtype object"),
    ({"s": {1, 2}}, r"obj\['s'\].*set"),
])
def test_unsupported_objects_name_where_they_are(tmp_path, obj, where):
    with pytest.raises(TypeError, match=where):
        save(obj, tmp_path / "x.npz")
    assert not os.listdir(tmp_path)


def test_a_cycle_is_a_clear_error(tmp_path):
    a = {"x": 1}
    a["self"] = a
    with pytest.raises(ValueError, match="contains itself"):
        save(a, tmp_path / "x.npz")


def test_pathlib_and_bytes_paths(tmp_path):
    save({"a": 1}, pathlib.Path(tmp_path) / "a.npz")
    save({"b": 2}, os.fsencode(str(tmp_path / "b.npz")))
    assert load(str(tmp_path / "a.npz")) == {"a": 1}
    assert load(os.fsencode(str(tmp_path / "b.npz"))) == {"b": 2}
