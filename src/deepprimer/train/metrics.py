"""Metrics: numbers that say how good predictions are, computed on NumPy arrays.

Classification metrics take ``outputs`` of shape (N, C) (logits or probabilities: the
predicted class is the argmax), or (N,) / (N, 1) scores for binary tasks (class 1 where
the score is > 0, i.e. a logit), and integer ``targets`` of shape (N,).
Regression metrics take outputs and targets of the same shape.
"""
import numpy as np


def predicted_classes(outputs):
    outputs = np.asarray(outputs)
    if outputs.ndim == 1 or outputs.shape[-1] == 1:
        return (outputs.reshape(len(outputs)) > 0).astype(np.int64)
    return outputs.argmax(axis=-1)


def accuracy(outputs, targets):
    """Share of samples whose predicted class is the target class."""
    targets = np.asarray(targets).reshape(-1)
    if len(targets) == 0:
        return float("nan")
    return float((predicted_classes(outputs).reshape(-1) == targets).mean())


def top_k_accuracy(outputs, targets, k=5):
    """Share of samples whose target is among the k highest-scored classes."""
    outputs, targets = np.asarray(outputs), np.asarray(targets).reshape(-1)
    k = min(k, outputs.shape[-1])
    top = np.argpartition(-outputs, k - 1, axis=-1)[:, :k]
    return float((top == targets[:, None]).any(axis=1).mean())


def confusion_matrix(outputs, targets, num_classes=None):
    """counts[i, j] = number of samples of true class i predicted as class j."""
    predicted = predicted_classes(outputs).reshape(-1)
    targets = np.asarray(targets).reshape(-1).astype(np.int64)
    if num_classes is None:
        num_classes = int(max(predicted.max(initial=0), targets.max(initial=0))) + 1
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (targets, predicted), 1)
    return counts


def precision_recall_f1(outputs, targets, num_classes=None):
    """Per-class precision, recall and F1 (arrays of length C), from the confusion matrix.

    precision_c = TP / (TP + FP), recall_c = TP / (TP + FN), F1 = their harmonic mean;
    a class never predicted (or never present) gets 0 rather than NaN, as scikit-learn does.
    """
    counts = confusion_matrix(outputs, targets, num_classes)
    tp = np.diag(counts).astype(np.float64)
    predicted, actual = counts.sum(axis=0), counts.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros_like(tp), where=actual > 0)
    total = precision + recall
    f1 = np.divide(2 * precision * recall, total, out=np.zeros_like(tp), where=total > 0)
    return precision, recall, f1


def mse(outputs, targets):
    return float(np.mean((np.asarray(outputs) - np.asarray(targets).reshape(np.shape(outputs))) ** 2))


def mae(outputs, targets):
    return float(np.mean(np.abs(np.asarray(outputs) - np.asarray(targets).reshape(np.shape(outputs)))))


def r2(outputs, targets):
    """Coefficient of determination: 1 - SS_residual / SS_total (1 is perfect, 0 = the mean)."""
    outputs = np.asarray(outputs, dtype=np.float64)
    targets = np.asarray(targets, dtype=np.float64).reshape(outputs.shape)
    total = ((targets - targets.mean(axis=0)) ** 2).sum()
    return float(1 - ((targets - outputs) ** 2).sum() / total) if total > 0 else float("nan")


METRICS = {
    "accuracy": accuracy,
    "top5_accuracy": top_k_accuracy,
    "mse": mse,
    "mae": mae,
    "r2": r2,
}


def get_metric(name_or_fn):
    """A metric by name (see METRICS) or a callable ``fn(outputs, targets) -> float``."""
    if callable(name_or_fn):
        return getattr(name_or_fn, "__name__", "metric"), name_or_fn
    if name_or_fn not in METRICS:
        raise ValueError(f"unknown metric {name_or_fn!r}; choose from {sorted(METRICS)} or pass a function")
    return name_or_fn, METRICS[name_or_fn]
