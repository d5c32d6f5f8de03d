"""fit/evaluate and the issue's measured acceptance on the synthetic sets."""
import numpy as np
import pytest

import deepprimer as dp
from deepprimer import nn
from deepprimer.data import DataLoader, StandardScaler, TensorDataset, datasets, train_val_test_split
from deepprimer.models import MLP
from deepprimer.train import evaluate, fit, predict


def loaders(X, y, batch_size=32, seed=0, test_size=0.25):
    X_tr, _, X_te, y_tr, _, y_te = train_val_test_split(X, y, val_size=0, test_size=test_size, seed=seed)
    train = DataLoader(TensorDataset(X_tr, y_tr), batch_size=batch_size, shuffle=True)
    test = DataLoader(TensorDataset(X_te, y_te), batch_size=256)
    return train, test


def train_mlp(X, y, hidden, activation="relu", epochs=100, lr=0.01, seed=0, test_size=0.25):
    dp.manual_seed(seed)
    train, test = loaders(X, y, seed=seed, test_size=test_size)
    model = MLP([X.shape[1], *hidden, int(y.max()) + 1], activation=activation)
    opt = dp.optim.Adam(model.parameters(), lr=lr)
    history = fit(model, nn.CrossEntropyLoss(), opt, train, test, epochs=epochs, verbose=0)
    return model, history, train, test


def test_spiral_train_accuracy_at_least_099():
    X, y = datasets.spiral(n=500, k=2, noise=0.1, seed=0)
    model, _, _, _ = train_mlp(X, y, (64, 64), "tanh", epochs=150, lr=0.01, test_size=1)
    assert (predict(model, X).argmax(1) == y).mean() >= 0.99


@pytest.mark.parametrize("name", ["xor", "circles"])
def test_xor_and_circles_at_least_099(name):
    X, y = datasets.load(name, n=500, noise=0.03, seed=0)
    _, history, _, _ = train_mlp(X, y, (32, 32), "relu", epochs=60, lr=0.01)
    assert history["val_accuracy"][-1] >= 0.99


def test_moons_test_accuracy_at_least_096():
    X, y = datasets.moons(n=500, noise=0.2, seed=0)
    _, history, _, _ = train_mlp(X, y, (32, 32), "relu", epochs=60, lr=0.01)
    assert history["val_accuracy"][-1] >= 0.96


def test_history_records_every_epoch_and_metric():
    X, y = datasets.moons(n=200, noise=0.2, seed=0)
    _, history, _, _ = train_mlp(X, y, (8,), epochs=3)
    assert len(history) == 3
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "lr", "time"):
        assert len(history[key]) == 3
    assert history["loss"][-1] < history["loss"][0]


def test_same_seed_gives_identical_histories_bit_for_bit():
    X, y = datasets.moons(n=200, noise=0.2, seed=0)
    runs = []
    for _ in range(2):
        _, history, _, _ = train_mlp(X, y, (16,), epochs=5)
        runs.append({k: v for k, v in history.history.items() if k != "time"})
    assert runs[0] == runs[1]


def test_fit_then_save_load_gives_identical_predictions(tmp_path):
    X, y = datasets.moons(n=200, noise=0.2, seed=0)
    model, _, _, _ = train_mlp(X, y, (16,), epochs=3)
    dp.save(model.state_dict(), tmp_path / "model.npz")
    fresh = MLP([2, 16, 2])
    fresh.load_state_dict(dp.load(tmp_path / "model.npz"))
    np.testing.assert_array_equal(predict(model, X), predict(fresh, X))


def test_evaluate_restores_training_mode_and_records_no_graph():
    X, y = datasets.moons(n=100, noise=0.2, seed=0)
    model, _, _, test = train_mlp(X, y, (8,), epochs=1)
    model.train()
    logs = evaluate(model, test, nn.CrossEntropyLoss())
    assert model.training and set(logs) == {"loss", "accuracy"}


def test_digits_mlp_matches_or_beats_sklearn_mlpclassifier():
    """The issue's acceptance: standardised, stratified 75/25 split, seed 0, (128, 64), Adam;
    scikit-learn with the same hidden sizes, solver and epochs, and its defaults otherwise
    (lr 1e-3, batches of 200). We train with exactly those settings: both reach 0.9756 at
    seed 0 (over seeds 0-4: ours 0.9742, scikit-learn's 0.9729), and ours takes about 0.6x
    its wall time (benchmarks/, digits-fit). These predictions come out bit-identical with
    1 or 2 BLAS threads, so the tie is not luck of the thread count."""
    import warnings

    from sklearn.neural_network import MLPClassifier

    X, y = datasets.digits(flatten=True)
    X_tr, _, X_te, y_tr, _, y_te = train_val_test_split(X, y, val_size=0, test_size=0.25, seed=0)
    scaler = StandardScaler().fit(X_tr)
    X_tr, X_te = scaler.transform(X_tr), scaler.transform(X_te)
    dp.manual_seed(0)
    model = MLP([64, 128, 64, 10])
    loader = DataLoader(TensorDataset(X_tr, y_tr), batch_size=200, shuffle=True)
    fit(model, nn.CrossEntropyLoss(), dp.optim.Adam(model.parameters(), lr=1e-3), loader, epochs=30, verbose=0)
    ours = (predict(model, X_te).argmax(1) == y_te).mean()
    sk = MLPClassifier((128, 64), solver="adam", max_iter=30, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # it warns that 30 epochs did not converge
        sk.fit(X_tr, y_tr)
    theirs = sk.score(X_te, y_te)
    assert ours >= 0.975
    assert ours >= theirs - 1e-9, f"deepprimer {ours:.4f} < scikit-learn {theirs:.4f}"


def test_fit_rejects_bad_batches_and_epochs():
    model = MLP([2, 2])
    opt = dp.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="epochs must be >= 1"):
        fit(model, nn.CrossEntropyLoss(), opt, [], epochs=0)
    with pytest.raises(ValueError, match=r"\(inputs, targets\)"):
        fit(model, nn.CrossEntropyLoss(), opt, [(dp.zeros(1, 2),)], epochs=1, verbose=0)


def test_dict_batches_are_accepted():
    x, y = dp.randn(8, 2), dp.tensor([0, 1] * 4)
    model = MLP([2, 2])
    history = fit(model, nn.CrossEntropyLoss(), dp.optim.SGD(model.parameters(), lr=0.1),
                  [{"x": x, "y": y}], epochs=2, verbose=0)
    assert len(history) == 2


def test_scheduler_is_stepped_each_epoch():
    x, y = dp.randn(8, 2), dp.tensor([0, 1] * 4)
    model = MLP([2, 2])
    opt = dp.optim.SGD(model.parameters(), lr=1.0)
    sched = dp.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    history = fit(model, nn.CrossEntropyLoss(), opt, [(x, y)], epochs=3, scheduler=sched, verbose=0)
    assert history["lr"] == [1.0, 0.5, 0.25]


def test_line_per_epoch_progress_when_not_a_terminal(capsys):
    x, y = dp.randn(8, 2), dp.tensor([0, 1] * 4)
    model = MLP([2, 2])
    fit(model, nn.CrossEntropyLoss(), dp.optim.SGD(model.parameters(), lr=0.1), [(x, y)], epochs=2, verbose=1)
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2 and lines[1].startswith("epoch 2/2 1/1 loss ") and " acc " in lines[1]


def test_quiet_mode_prints_nothing(capsys):
    x, y = dp.randn(8, 2), dp.tensor([0, 1] * 4)
    model = MLP([2, 2])
    fit(model, nn.CrossEntropyLoss(), dp.optim.SGD(model.parameters(), lr=0.1), [(x, y)], epochs=2, verbose=0)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""
