"""A whole training run: the digits MLP (64-128-64-10) for 30 epochs, against scikit-learn.

Both sides get the same standardized split (deepprimer's stratified split, seed 0, a
quarter held out for test) and the same recipe, scikit-learn's defaults: Adam lr 1e-3,
mini-batches of 200, reshuffled every epoch, 30 epochs (sklearn's early stopping is disabled with
``n_iter_no_change=30, tol=0`` so it runs them all). sklearn keeps its default L2 penalty
``alpha=1e-4``; deepprimer has none. Timed: building the model and training it; not the
data loading, nor the test prediction. Each seed changes initialization and shuffling only.
"""
import time
import warnings

from .common import Unavailable

SIZES, EPOCHS, BATCH, LR = [64, 128, 64, 10], 30, 200, 1e-3


def split():
    """Standardized digits: X_train, X_test, y_train, y_test (scaler fit on train only)."""
    from deepprimer.data import StandardScaler, datasets, train_val_test_split

    bundle = datasets.digits(flatten=True)
    X_tr, _, X_te, y_tr, _, y_te = train_val_test_split(bundle.X, bundle.y, val_size=0, test_size=0.25, seed=0)
    scaler = StandardScaler().fit(X_tr)
    return scaler.transform(X_tr), scaler.transform(X_te), y_tr, y_te


def build(name):
    """``run(seed) -> {'wall_s', 'test_acc'}`` for 'deepprimer' or 'sklearn'."""
    data = split()
    return _deepprimer(*data) if name == "deepprimer" else _sklearn(*data)


def _deepprimer(X_tr, X_te, y_tr, y_te):
    import deepprimer as dp
    from deepprimer import nn
    from deepprimer.data import DataLoader
    from deepprimer.models import MLP
    from deepprimer.train import fit, predict

    def run(seed):
        dp.manual_seed(seed)
        start = time.perf_counter()
        model = MLP(SIZES)
        loader = DataLoader((X_tr, y_tr), batch_size=BATCH, shuffle=True)
        fit(model, nn.CrossEntropyLoss(), dp.optim.Adam(model.parameters(), lr=LR), loader,
            epochs=EPOCHS, verbose=0)
        wall = time.perf_counter() - start
        acc = float((predict(model, X_te).argmax(axis=1) == y_te).mean())
        return {"wall_s": wall, "test_acc": acc}

    return run


def _sklearn(X_tr, X_te, y_tr, y_te):
    try:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier
    except ImportError as exc:
        raise Unavailable("n/a (scikit-learn not installed)") from exc

    def run(seed):
        start = time.perf_counter()
        clf = MLPClassifier(tuple(SIZES[1:-1]), solver="adam", batch_size=BATCH, max_iter=EPOCHS,
                            learning_rate_init=LR, n_iter_no_change=EPOCHS, tol=0, random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter reached: intended
            clf.fit(X_tr, y_tr)
        wall = time.perf_counter() - start
        return {"wall_s": wall, "test_acc": float((clf.predict(X_te) == y_te).mean()), "epochs": clf.n_iter_}

    return run
