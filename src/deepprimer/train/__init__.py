"""The training workflow: ``fit``, ``evaluate``, callbacks, metrics and progress."""
from .callbacks import (
    Callback, CSVLogger, EarlyStopping, LRSchedulerCallback, ModelCheckpoint, TerminateOnNaN,
)
from .health import LayerHealth, NetworkHealth, network_health
from .history import History
from .lr_finder import LRRangeTest, lr_range_test
from .metrics import (
    accuracy, confusion_matrix, mae, mse, precision_recall_f1, r2, top_k_accuracy,
)
from .trainer import evaluate, fit, predict

__all__ = [
    "fit", "evaluate", "predict", "History", "Callback", "EarlyStopping", "ModelCheckpoint",
    "LRSchedulerCallback", "CSVLogger", "TerminateOnNaN", "accuracy", "top_k_accuracy",
    "confusion_matrix", "precision_recall_f1", "mse", "mae", "r2", "network_health",
    "NetworkHealth", "LayerHealth", "lr_range_test", "LRRangeTest",
]
