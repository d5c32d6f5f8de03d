"""A training run from a config: data, model, optimizer, fit, and a folder with everything.

This is what ``deepprimer train`` does, as a library function. ``train_run``,
``evaluate_run`` and ``predict_run`` take any config or run folder and hand text models to
text_runs.py and generative models to generative_runs.py; classifiers and regressors
(mlp, lenet, resnet) are trained here. Their run folder (see run_folder.py) adds
``scaler.npz``, the standardisation fitted on the training split, and metrics.json holds
the test loss, metrics and confusion matrix.
"""
import os
import time

import numpy as np

from .. import nn
from ..data import DataLoader, StandardScaler, TensorDataset
from ..data.datasets import info as dataset_info
from ..models import MLP, LeNet5, ResNet
from ..random import manual_seed
from ..serialization import load, save
from ..viz import plot_history
from .config import build_optimizer
from .generative_runs import evaluate_generative_run, train_generative_run
from .metrics import confusion_matrix
from .run_folder import COMMON_FILES, read_config, run_callbacks, write_common
from .splits import prepare_data
from .text_runs import evaluate_text_run, train_text_run
from .trainer import evaluate, fit, predict


def dataset_dims(name):
    """(input features, outputs) of a built-in dataset, from its registry entry."""
    info = dataset_info(name)
    return int(np.prod(info.shape[1:])), info.n_classes if info.task == "classification" else 1


def build_model(config, n_features, n_outputs):
    """The config's model. Inputs arrive as flat rows (split and standardised as such); a
    CNN first unflattens them back to (channels, height, width) images."""
    if config.model == "mlp":
        return MLP([n_features, *config.hidden, n_outputs], activation=config.activation,
                   dropout=config.dropout, batchnorm=config.batchnorm)
    channels, height, width = dataset_info(config.dataset).shape[1:]
    if config.model == "lenet":
        body = LeNet5(channels, n_outputs, image_size=height, dropout=config.dropout)
    else:
        body = ResNet(channels, n_outputs)
    return nn.Sequential(nn.Unflatten(1, (channels, height, width)), body)


def task_setup(task):
    """Loss and metrics for the task: cross-entropy and accuracy, or MSE and R^2."""
    if task == "classification":
        return nn.CrossEntropyLoss(), ("accuracy",)
    return nn.MSELoss(), ("mae", "r2")


def train_run(config, out=None, verbose=1):
    """Train as ``config`` says; write the run folder ``out`` (if given); return a summary dict
    (history, test results, seconds, model, class names, the files written)."""
    runner = {"text": train_text_run, "generative": train_generative_run}.get(config.kind, train_classifier_run)
    return runner(config, out=out, verbose=verbose)


def train_classifier_run(config, out=None, verbose=1):
    manual_seed(config.seed)
    data = prepare_data(config)
    model = build_model(config, data.X_train.shape[1], data.n_outputs)
    optimizer = build_optimizer(config, model.parameters())
    loss_fn, metrics = task_setup(data.task)
    train_loader = DataLoader(TensorDataset(data.X_train, data.y_train), batch_size=config.batch_size, shuffle=True)
    val_loader = (DataLoader(TensorDataset(data.X_val, data.y_val), batch_size=512)
                  if len(data.X_val) else None)
    start = time.perf_counter()
    history = fit(model, loss_fn, optimizer, train_loader, val_loader, epochs=config.epochs,
                  metrics=metrics, callbacks=run_callbacks(config, out), verbose=verbose)
    seconds = time.perf_counter() - start
    test = test_metrics(model, data, loss_fn, metrics)
    summary = {"history": history, "test": test, "seconds": seconds, "model": model,
               "class_names": data.class_names,
               "files": COMMON_FILES + (("scaler.npz",) if data.scaler is not None else ())}
    if out is not None:
        write_common(out, config, model.state_dict(), test,
                     plot_history(history, title=f"{config.model} on {config.dataset}"))
        if data.scaler is not None:
            save({"mean": data.scaler.mean_, "scale": data.scaler.scale_}, os.path.join(out, "scaler.npz"))
    return summary


def test_metrics(model, data, loss_fn, metrics):
    loader = DataLoader(TensorDataset(data.X_test, data.y_test), batch_size=512)
    result = evaluate(model, loader, loss_fn, metrics, prefix="test_")
    if data.task == "classification":
        outputs = predict(model, data.X_test)
        result["confusion_matrix"] = confusion_matrix(outputs, data.y_test, data.n_outputs).tolist()
    return result


def load_run(run_dir):
    """(config, model with its trained weights, scaler or None) of a saved classifier run."""
    config = require_predictable(run_dir)
    scaler = None
    if config.standardize:
        stats = load(os.path.join(run_dir, "scaler.npz"))
        scaler = StandardScaler()
        scaler.mean_, scaler.scale_ = np.asarray(stats["mean"]), np.asarray(stats["scale"])
    model = build_model(config, *dataset_dims(config.dataset))
    model.load_state_dict(load(os.path.join(run_dir, "model.npz")))
    model.eval()
    return config, model, scaler


def require_predictable(run_dir):
    """The config of a classifier or regressor run; ValueError for text and generative runs,
    whose models do not map an input to a class or value."""
    config = read_config(run_dir)
    if config.kind != "classifier":
        made = "samples.txt" if config.kind == "text" else "samples.png"
        raise ValueError(f"predict is for classifiers and regressors (mlp, lenet, resnet); {run_dir} is a "
                         f"{config.model} run: see its {made}, or deepprimer evaluate --run {run_dir}")
    return config


def evaluate_run(run_dir):
    """(results, class names) of a saved run: test metrics on the test split it was trained
    with; for text runs the validation loss and the unigram baseline."""
    kind = read_config(run_dir).kind
    if kind != "classifier":
        return {"text": evaluate_text_run, "generative": evaluate_generative_run}[kind](run_dir)
    config, model, scaler = load_run(run_dir)
    data = prepare_data(config, scaler=scaler)
    loss_fn, metrics = task_setup(data.task)
    return test_metrics(model, data, loss_fn, metrics), data.class_names


def predict_run(run_dir, X):
    """Outputs (class indices, or values for regression) of a saved run's model for ``X``."""
    config, model, scaler = load_run(run_dir)
    X = np.asarray(X, dtype=np.float32)
    n_features = scaler.mean_.shape[0] if scaler is not None else None
    X = X.reshape(1, -1) if X.ndim == 1 else X.reshape(len(X), -1)
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"predict: the run's model takes {n_features} features per sample, the input has {X.shape[1]}")
    if scaler is not None:
        X = scaler.transform(X)
    outputs = predict(model, X)
    task = dataset_info(config.dataset).task
    return outputs.argmax(axis=1) if task == "classification" else outputs

