"""The run folder every kind of ``deepprimer train`` run writes, and reading one back.

    config.json           the exact config (``deepprimer train --config`` reproduces the run)
    model.npz             the trained weights (safe format, no pickle)
    history.csv           per-epoch loss (and metrics), learning rate and time
    metrics.json          the final numbers: test metrics, or validation loss and baseline
    learning_curves.png   loss (and metric) curves, train beside validation

plus what the kind of run adds: scaler.npz (classifiers), samples.txt (text models),
samples.png (generative models).
"""
import json
import os

from ..atomic import write_text
from ..serialization import save
from ..viz import save_figure
from .callbacks import CSVLogger, EarlyStopping
from .config import TrainConfig

COMMON_FILES = ("model.npz", "config.json", "history.csv", "metrics.json", "learning_curves.png")


def run_callbacks(config, out):
    """Early stopping (if the config asks) and, when there is a run folder, the history CSV."""
    callbacks = []
    if config.early_stopping:
        callbacks.append(EarlyStopping("val_loss", patience=config.early_stopping, restore_best_weights=True))
    if out is not None:
        os.makedirs(out, exist_ok=True)
        callbacks.append(CSVLogger(os.path.join(out, "history.csv")))
    return callbacks


def write_common(out, config, state_dict, results, curves):
    """model.npz, config.json, metrics.json and learning_curves.png (``curves``, a Figure)."""
    save(state_dict, os.path.join(out, "model.npz"))
    write_text(os.path.join(out, "config.json"), config.to_json() + "\n")
    write_text(os.path.join(out, "metrics.json"), json.dumps(results, indent=2) + "\n")
    save_figure(curves, os.path.join(out, "learning_curves.png"))


def require_run_dir(run_dir):
    """The path of a run folder's config.json, or a FileNotFoundError saying what a run folder is."""
    config_path = os.path.join(run_dir, "config.json")
    if not os.path.isdir(run_dir) or not os.path.exists(config_path):
        raise FileNotFoundError(f"{run_dir} is not a run folder (no config.json); make one with deepprimer train --out")
    return config_path


def read_config(run_dir):
    return TrainConfig.from_json_file(require_run_dir(run_dir))
