import numpy as np
import pytest
from sklearn import metrics as skm

from deepprimer.train import metrics


@pytest.fixture
def predictions():
    rng = np.random.default_rng(0)
    outputs = rng.standard_normal((200, 4)).astype(np.float32)
    targets = rng.integers(0, 4, 200)
    return outputs, targets


def test_accuracy_and_confusion_match_sklearn(predictions):
    outputs, targets = predictions
    predicted = outputs.argmax(1)
    assert metrics.accuracy(outputs, targets) == pytest.approx(skm.accuracy_score(targets, predicted))
    np.testing.assert_array_equal(metrics.confusion_matrix(outputs, targets, 4), skm.confusion_matrix(targets, predicted))


def test_precision_recall_f1_match_sklearn(predictions):
    outputs, targets = predictions
    p, r, f = metrics.precision_recall_f1(outputs, targets, 4)
    sp, sr, sf, _ = skm.precision_recall_fscore_support(targets, outputs.argmax(1), zero_division=0)
    np.testing.assert_allclose(p, sp)
    np.testing.assert_allclose(r, sr)
    np.testing.assert_allclose(f, sf)


def test_top_k_accuracy_matches_sklearn(predictions):
    outputs, targets = predictions
    assert metrics.top_k_accuracy(outputs, targets, k=2) == pytest.approx(
        skm.top_k_accuracy_score(targets, outputs, k=2, labels=range(4)))


def test_binary_logits_threshold_at_zero():
    assert metrics.accuracy(np.array([[-1.0], [2.0], [0.5]]), np.array([0, 1, 0])) == pytest.approx(2 / 3)


def test_regression_metrics_match_sklearn():
    rng = np.random.default_rng(1)
    y = rng.standard_normal((50, 1))
    pred = y + 0.3 * rng.standard_normal((50, 1))
    assert metrics.mse(pred, y) == pytest.approx(skm.mean_squared_error(y, pred))
    assert metrics.mae(pred, y) == pytest.approx(skm.mean_absolute_error(y, pred))
    assert metrics.r2(pred, y) == pytest.approx(skm.r2_score(y, pred))


def test_unknown_metric_names_the_choices():
    with pytest.raises(ValueError, match="unknown metric 'acc'.*accuracy"):
        metrics.get_metric("acc")
