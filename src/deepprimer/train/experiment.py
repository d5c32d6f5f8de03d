"""A training run from a config: data, model, optimizer, fit, and a folder with everything.

This is what ``deepprimer train`` does, as a library function. A run folder holds:

    config.json           the exact config (``deepprimer train --config`` reproduces the run)
    model.npz             the trained weights (safe format, no pickle)
    scaler.npz            the standardisation fitted on the training split
    history.csv           per-epoch loss, metrics, learning rate and time
    metrics.json          test loss, metrics and confusion matrix
    learning_curves.png   loss and metric curves, train beside validation
"""
import dataclasses
import json
import os
import time

import numpy as np

from .. import nn, optim
from ..data import DataLoader, StandardScaler, TensorDataset, train_val_test_split
from ..data.datasets import info as dataset_info
from ..data.datasets import load as load_dataset
from ..models import MLP, LeNet5, ResNet
from ..models.mlp import ACTIVATIONS
from ..random import manual_seed
from ..serialization import load, save
from ..viz import plot_history, save_figure
from .callbacks import CSVLogger, EarlyStopping
from .metrics import confusion_matrix
from .trainer import evaluate, fit, predict

OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw", "adagrad")
MODELS = ("mlp", "lenet", "resnet")  # lenet and resnet need an image dataset


@dataclasses.dataclass
class TrainConfig:
    """Everything that decides a run; two runs with equal configs are equal, bit for bit."""

    dataset: str = "digits"
    model: str = "mlp"
    hidden: tuple = (128, 64)
    activation: str = "relu"
    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.9
    batch_size: int = 64
    epochs: int = 30
    weight_decay: float = 0.0
    dropout: float = 0.0
    batchnorm: bool = False
    early_stopping: int = 0
    val_size: float = 0.1
    test_size: float = 0.25
    standardize: bool = True
    seed: int = 0

    def __post_init__(self):
        self.hidden = tuple(int(h) for h in self.hidden)
        self.validate()

    def validate(self):
        """Raise ValueError naming the first setting that cannot work, and what would."""
        info = dataset_info(self.dataset)  # unknown names raise with the list of datasets
        task = info.task
        checks = [
            (self.model == "mlp" or (info.shape is not None and len(info.shape) == 4),
             f"model {self.model!r} needs an image dataset (digits, mnist, fashion_mnist); "
             f"{self.dataset!r} is not one: use --model mlp"),
            (task in ("classification", "regression"),
             f"dataset {self.dataset!r} is a {task} corpus; train takes a classification or regression dataset"),
            (self.model in MODELS, f"unknown model {self.model!r}; choose from {', '.join(MODELS)}"),
            (self.activation in ACTIVATIONS, f"unknown activation {self.activation!r}; choose from {', '.join(sorted(ACTIVATIONS))}"),
            (self.optimizer in OPTIMIZERS, f"unknown optimizer {self.optimizer!r}; choose from {', '.join(OPTIMIZERS)}"),
            (all(h >= 1 for h in self.hidden), f"hidden sizes must be >= 1, got {list(self.hidden)}"),
            (self.lr > 0, f"lr must be > 0, got {self.lr}"),
            (0 <= self.momentum < 1, f"momentum must be in [0, 1), got {self.momentum}"),
            (self.batch_size >= 1, f"batch size must be >= 1, got {self.batch_size}"),
            (self.epochs >= 1, f"epochs must be >= 1, got {self.epochs}"),
            (self.weight_decay >= 0, f"weight decay must be >= 0, got {self.weight_decay}"),
            (0 <= self.dropout < 1, f"dropout must be in [0, 1), got {self.dropout}"),
            (self.early_stopping >= 0, f"early stopping patience must be >= 0, got {self.early_stopping}"),
            (0 <= self.val_size < 1 and 0 < self.test_size < 1 and self.val_size + self.test_size < 1,
             f"val size {self.val_size} and test size {self.test_size} must be fractions leaving training data"),
            (not self.early_stopping or self.val_size > 0, "early stopping needs a validation split: set val size > 0"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)

    def to_json(self):
        return json.dumps(dataclasses.asdict(self), indent=2)

    @classmethod
    def from_json_file(cls, path, **overrides):
        try:
            with open(path) as handle:
                values = json.load(handle)
        except FileNotFoundError:
            raise FileNotFoundError(f"config file {path} does not exist") from None
        except json.JSONDecodeError as err:
            raise ValueError(f"config file {path} is not valid JSON: {err}") from None
        unknown = set(values) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"config file {path} has unknown settings: {', '.join(sorted(unknown))}")
        values.update(overrides)
        return cls(**values)


@dataclasses.dataclass
class Splits:
    """The data of a run, standardised with statistics of the training split only."""

    X_train: np.ndarray
    X_val: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_val: np.ndarray
    y_test: np.ndarray
    task: str
    n_outputs: int
    class_names: list
    scaler: StandardScaler = None


def prepare_data(config, scaler=None):
    """Load, flatten (for an MLP), split (stratified, by the config's seed) and standardise."""
    bundle = load_dataset(config.dataset)
    X = bundle.X.reshape(len(bundle.X), -1).astype(np.float32)
    classification = bundle.task == "classification"
    parts = train_val_test_split(
        X, bundle.y, val_size=config.val_size, test_size=config.test_size,
        stratify=classification, seed=config.seed,
    )
    splits = Splits(*parts, task=bundle.task, n_outputs=bundle.n_classes if classification else bundle.y.shape[1],
                    class_names=bundle.class_names)
    if config.standardize:
        if scaler is None:
            scaler = StandardScaler().fit(splits.X_train)
        splits.X_train, splits.X_val, splits.X_test = (
            scaler.transform(a) if len(a) else a for a in (splits.X_train, splits.X_val, splits.X_test)
        )
        splits.scaler = scaler
    return splits


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


def build_optimizer(config, parameters):
    name, lr, wd = config.optimizer, config.lr, config.weight_decay
    if name in ("sgd", "momentum", "nesterov"):
        momentum = 0.0 if name == "sgd" else config.momentum
        return optim.SGD(parameters, lr=lr, momentum=momentum, nesterov=name == "nesterov", weight_decay=wd)
    kinds = {"rmsprop": optim.RMSprop, "adam": optim.Adam, "adamw": optim.AdamW, "adagrad": optim.Adagrad}
    return kinds[name](parameters, lr=lr, weight_decay=wd)


def task_setup(task):
    """Loss and metrics for the task: cross-entropy and accuracy, or MSE and R^2."""
    if task == "classification":
        return nn.CrossEntropyLoss(), ("accuracy",)
    return nn.MSELoss(), ("mae", "r2")


def train_run(config, out=None, verbose=1):
    """Train as ``config`` says; write the run folder ``out`` (if given); return a summary dict."""
    manual_seed(config.seed)
    data = prepare_data(config)
    model = build_model(config, data.X_train.shape[1], data.n_outputs)
    optimizer = build_optimizer(config, model.parameters())
    loss_fn, metrics = task_setup(data.task)
    train_loader = DataLoader(TensorDataset(data.X_train, data.y_train), batch_size=config.batch_size, shuffle=True)
    val_loader = (DataLoader(TensorDataset(data.X_val, data.y_val), batch_size=512)
                  if len(data.X_val) else None)
    callbacks = []
    if config.early_stopping:
        callbacks.append(EarlyStopping("val_loss", patience=config.early_stopping, restore_best_weights=True))
    if out is not None:
        os.makedirs(out, exist_ok=True)
        callbacks.append(CSVLogger(os.path.join(out, "history.csv")))
    start = time.perf_counter()
    history = fit(model, loss_fn, optimizer, train_loader, val_loader, epochs=config.epochs,
                  metrics=metrics, callbacks=callbacks, verbose=verbose)
    seconds = time.perf_counter() - start
    test = test_metrics(model, data, loss_fn, metrics)
    summary = {"history": history, "test": test, "seconds": seconds, "model": model,
               "class_names": data.class_names}
    if out is not None:
        write_run(out, config, model, data, history, test)
    return summary


def test_metrics(model, data, loss_fn, metrics):
    loader = DataLoader(TensorDataset(data.X_test, data.y_test), batch_size=512)
    result = evaluate(model, loader, loss_fn, metrics, prefix="test_")
    if data.task == "classification":
        outputs = predict(model, data.X_test)
        result["confusion_matrix"] = confusion_matrix(outputs, data.y_test, data.n_outputs).tolist()
    return result


def write_run(out, config, model, data, history, test):
    save(model.state_dict(), os.path.join(out, "model.npz"))
    if data.scaler is not None:
        save({"mean": data.scaler.mean_, "scale": data.scaler.scale_}, os.path.join(out, "scaler.npz"))
    write_text(os.path.join(out, "config.json"), config.to_json() + "\n")
    write_text(os.path.join(out, "metrics.json"), json.dumps(test, indent=2) + "\n")
    fig = plot_history(history, title=f"{config.model} on {config.dataset}")
    save_figure(fig, os.path.join(out, "learning_curves.png"))


def write_text(path, text):
    tmp = f"{path}.tmp"
    with open(tmp, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


def require_run_dir(run_dir):
    """The path of a run folder's config.json, or a FileNotFoundError saying what a run folder is."""
    config_path = os.path.join(run_dir, "config.json")
    if not os.path.isdir(run_dir) or not os.path.exists(config_path):
        raise FileNotFoundError(f"{run_dir} is not a run folder (no config.json); make one with deepprimer train --out")
    return config_path


def load_run(run_dir):
    """(config, model with its trained weights, scaler or None) of a saved run folder."""
    config = TrainConfig.from_json_file(require_run_dir(run_dir))
    scaler = None
    if config.standardize:
        stats = load(os.path.join(run_dir, "scaler.npz"))
        scaler = StandardScaler()
        scaler.mean_, scaler.scale_ = np.asarray(stats["mean"]), np.asarray(stats["scale"])
    model = build_model(config, *dataset_dims(config.dataset))
    model.load_state_dict(load(os.path.join(run_dir, "model.npz")))
    model.eval()
    return config, model, scaler


def evaluate_run(run_dir):
    """Test metrics of a saved run, on the same test split it was trained with."""
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
