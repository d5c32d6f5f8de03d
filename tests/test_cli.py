"""The deepprimer command, end to end in a temporary folder."""
import json
import subprocess
import sys

import numpy as np
import pytest

from deepprimer.cli import main

SMALL = ["--dataset", "iris", "--hidden", "16", "--epochs", "3", "--batch-size", "16", "--quiet"]


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "deepprimer", *args], capture_output=True, text=True)


def test_train_writes_the_run_folder_and_reproduces_from_config(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", *SMALL, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "test_accuracy:" in printed and "confusion matrix" in printed
    for name in ("model.npz", "scaler.npz", "config.json", "history.csv", "metrics.json", "learning_curves.png"):
        assert (out / name).stat().st_size > 0, name
    config = json.loads((out / "config.json").read_text())
    assert config["dataset"] == "iris" and config["hidden"] == [16] and config["epochs"] == 3

    again = tmp_path / "again"
    assert main(["train", "--config", str(out / "config.json"), "--out", str(again), "--quiet"]) == 0
    assert (out / "history.csv").read_text().split("\n")[0] == (again / "history.csv").read_text().split("\n")[0]
    first = np.genfromtxt(out / "history.csv", delimiter=",", names=True)
    second = np.genfromtxt(again / "history.csv", delimiter=",", names=True)
    for column in ("loss", "accuracy", "val_loss", "val_accuracy"):
        np.testing.assert_array_equal(first[column], second[column])


def test_evaluate_and_predict_reuse_a_saved_run(tmp_path, capsys):
    out = tmp_path / "run"
    main(["train", *SMALL, "--out", str(out)])
    saved = json.loads((out / "metrics.json").read_text())
    capsys.readouterr()
    assert main(["evaluate", "--run", str(out)]) == 0
    assert f"test_accuracy: {saved['test_accuracy']:.4f}" in capsys.readouterr().out
    from deepprimer.data import datasets

    np.save(tmp_path / "x.npy", datasets.iris().X[:4])
    assert main(["predict", "--run", str(out), "--input", str(tmp_path / "x.npy"), "--output", str(tmp_path / "p.npy")]) == 0
    predictions = np.load(tmp_path / "p.npy")
    assert predictions.shape == (4,) and set(predictions) <= {0, 1, 2}


@pytest.mark.parametrize("args, message", [
    (["train", "--dataset", "nope"], "unknown dataset 'nope'"),
    (["train", "--lr", "-0.1"], "lr must be > 0"),
    (["train", "--hidden", "0"], "hidden sizes must be integers >= 1"),
    (["train", "--hidden", "a,b"], "comma-separated integers"),
    (["train", "--epochs", "0"], "epochs must be >= 1"),
    (["train", "--optimizer", "adamax"], "unknown optimizer 'adamax'"),
    (["train", "--config", "missing.json"], "config file missing.json does not exist"),
    (["train", "--dataset", "text"], "train takes a classification or regression dataset"),
    (["train", "--dataset", "iris", "--model", "lenet"], "needs an image dataset"),
    (["evaluate", "--run", "no/such/run"], "is not a run folder"),
    (["predict", "--run", "no/such/run", "--input", "x.npy"], "is not a run folder"),
    (["bogus"], "invalid choice: 'bogus'"),
])
def test_bad_arguments_print_one_line_and_exit_2(args, message, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_console_entry_point_exits_2_without_traceback():
    proc = run_cli("train", "--lr", "0")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_datasets_lists_the_builtin_sets(capsys):
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    for name in ("digits", "moons", "spiral", "mnist", "text"):
        assert name in out


def test_help_everywhere():
    for args in (["--help"], ["train", "--help"], ["evaluate", "--help"], ["predict", "--help"]):
        proc = run_cli(*args)
        assert proc.returncode == 0 and "usage:" in proc.stdout


def test_a_cnn_trains_and_its_run_is_reused(tmp_path, capsys):
    out = tmp_path / "lenet"
    assert main(["train", "--dataset", "digits", "--model", "lenet", "--epochs", "1", "--quiet", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["evaluate", "--run", str(out)]) == 0
    assert "test_accuracy" in capsys.readouterr().out
