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
    files = ("model.npz", "config.json", "history.csv", "metrics.json", "learning_curves.png", "scaler.npz")
    for name in files:
        assert (out / name).stat().st_size > 0, name
    assert f"run saved to {out}/ ({', '.join(files)})" in printed  # every file it wrote, and no other
    assert sorted(p.name for p in out.iterdir()) == sorted(files)
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
    (["train", "--dataset", "text"], "model mlp needs a classification or regression dataset"),
    (["train", "--dataset", "iris", "--model", "lenet"], "needs an image dataset"),
    (["train", "--dataset", "iris", "--model", "minigpt"],
     "model minigpt needs a text dataset (--dataset text or --text-file PATH)"),
    (["train", "--dataset", "digits", "--model", "char_rnn"], "model char_rnn needs a text dataset"),
    (["train", "--dataset", "text", "--model", "vae"], "model vae needs an image dataset: digits, mnist, fashion_mnist"),
    (["train", "--dataset", "wine", "--model", "conv_vae"], "model conv_vae needs an image dataset"),
    (["train", "--model", "autoencoder", "--text-file", "a.txt"], "model autoencoder needs an image dataset"),
    (["train", "--model", "minigpt", "--text-file", "no/such.txt"], "no/such.txt does not exist"),
    (["train", "--model", "char_rnn", "--cell", "tcn"], "unknown cell 'tcn'"),
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


TINY_TEXT = ["--model", "minigpt", "--d-model", "16", "--layers", "1", "--heads", "2", "--block-size", "16",
             "--batch-size", "8", "--steps-per-epoch", "4", "--epochs", "2", "--quiet"]
TINY_VAE = ["--model", "vae", "--dataset", "digits", "--hidden", "32", "--latent-dim", "4", "--epochs", "2", "--quiet"]
RUN_FILES = ("model.npz", "config.json", "history.csv", "metrics.json", "learning_curves.png")


def assert_reproduced(first, second, columns, samples):
    """Two run folders hold the same history, weights and samples, bit for bit."""
    a = np.genfromtxt(first / "history.csv", delimiter=",", names=True)
    b = np.genfromtxt(second / "history.csv", delimiter=",", names=True)
    for column in columns:
        np.testing.assert_array_equal(a[column], b[column])
    weights_a, weights_b = np.load(first / "model.npz"), np.load(second / "model.npz")
    assert sorted(weights_a.files) == sorted(weights_b.files)
    for name in weights_a.files:
        np.testing.assert_array_equal(weights_a[name], weights_b[name])
    assert (first / samples).read_bytes() == (second / samples).read_bytes()


def assert_predict_refuses(out, capsys):
    assert main(["predict", "--run", str(out), "--input", "unread.npy"]) == 2
    err = capsys.readouterr().err.strip()
    assert "predict is for classifiers and regressors" in err and len(err.splitlines()) == 1


def test_a_text_run_writes_its_folder_reproduces_and_evaluates(tmp_path, capsys):
    out = tmp_path / "gpt"
    assert main(["train", *TINY_TEXT, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "training minigpt (d_model 16, layers 1, heads 2, block 16) on text" in printed
    for name in (*RUN_FILES, "samples.txt", "corpus.json"):
        assert (out / name).stat().st_size > 0, name
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics) == {"val_loss", "unigram_baseline"} and 2.5 < metrics["unigram_baseline"] < 4.6
    corpus = json.loads((out / "corpus.json").read_text())
    assert set(corpus) == {"sha256", "length", "characters"} and len(corpus["sha256"]) == 64
    assert f"val_loss: {metrics['val_loss']:.4f}" in printed
    header, sample = (out / "samples.txt").read_text(encoding="utf-8").split("\n", 1)
    assert header.startswith("# minigpt: 500 characters") and header.endswith("after the prompt 'The '")
    assert sample.startswith("The ") and len(sample) == len("The ") + 500 + 1  # prompt, sample, final newline
    assert len(np.genfromtxt(out / "history.csv", delimiter=",", names=True)) == 2

    again = tmp_path / "again"
    assert main(["train", "--config", str(out / "config.json"), "--out", str(again), "--quiet"]) == 0
    assert_reproduced(out, again, ("loss", "val_loss"), "samples.txt")

    capsys.readouterr()
    assert main(["evaluate", "--run", str(out)]) == 0
    shown = capsys.readouterr().out
    assert f"val_loss: {metrics['val_loss']:.4f}" in shown and f"unigram_baseline: {metrics['unigram_baseline']:.4f}" in shown
    assert_predict_refuses(out, capsys)


def test_a_char_rnn_learns_any_text_file(tmp_path, capsys):
    text = tmp_path / "poem.txt"
    text.write_text("row, row, row your boat\ngently down the stream\n" * 40, encoding="utf-8")
    out = tmp_path / "rnn"
    args = ["train", "--model", "char_rnn", "--cell", "gru", "--hidden", "16", "--d-model", "8", "--layers", "1",
            "--block-size", "16", "--batch-size", "8", "--steps-per-epoch", "25", "--epochs", "2", "--lr", "0.02",
            "--text-file", str(text), "--out", str(out), "--quiet"]
    assert main(args) == 0
    assert "char_rnn (gru, hidden 16, layers 1, embedding 8, block 16) on " + str(text) in capsys.readouterr().out
    config = json.loads((out / "config.json").read_text())
    assert config["text_file"] == str(text) and config["cell"] == "gru"
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["val_loss"] < metrics["unigram_baseline"]  # it has learned something about context
    assert main(["evaluate", "--run", str(out)]) == 0
    assert f"val_loss: {metrics['val_loss']:.4f}" in capsys.readouterr().out

    text.write_text("merrily, merrily, merrily, merrily\nlife is but a dream\n" * 40, encoding="utf-8")
    assert main(["evaluate", "--run", str(out)]) == 2  # scoring a different text would mislead
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert f"the text has changed since this run was trained: {text} now has 2,200 characters and 16 distinct, the run's had 1,880 and 19" in err


def test_a_vae_run_writes_its_folder_reproduces_and_evaluates(tmp_path, capsys):
    import matplotlib.image as mpimg

    out = tmp_path / "vae"
    assert main(["train", *TINY_VAE, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "training vae (hidden [32], latent 4) on digits" in printed
    for name in (*RUN_FILES, "samples.png"):
        assert (out / name).stat().st_size > 0, name
    assert not (out / "scaler.npz").exists() and json.loads((out / "config.json").read_text())["standardize"] is False
    assert mpimg.imread(out / "samples.png").std() > 0.05  # a grid of images, not a blank page
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics) == {"val_loss", "test_loss"} and 0 < metrics["test_loss"] < 64 * np.log(2)

    again = tmp_path / "again"
    assert main(["train", "--config", str(out / "config.json"), "--out", str(again), "--quiet"]) == 0
    assert_reproduced(out, again, ("loss", "val_loss"), "samples.png")

    capsys.readouterr()
    assert main(["evaluate", "--run", str(out)]) == 0
    shown = capsys.readouterr().out
    assert f"val_loss: {metrics['val_loss']:.4f}" in shown and f"test_loss: {metrics['test_loss']:.4f}" in shown
    assert_predict_refuses(out, capsys)


@pytest.mark.parametrize("model", ["autoencoder", "conv_autoencoder", "conv_vae"])
def test_every_generative_model_trains_on_digits(model, tmp_path, capsys):
    out = tmp_path / model
    assert main(["train", "--model", model, "--epochs", "3", "--out", str(out), "--quiet"]) == 0
    history = np.genfromtxt(out / "history.csv", delimiter=",", names=True)
    assert history["loss"][-1] < history["loss"][0]
    assert (out / "samples.png").stat().st_size > 0
