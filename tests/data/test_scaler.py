import numpy as np
import pytest
from sklearn.preprocessing import StandardScaler as SkStandardScaler

import deepprimer as dp
from deepprimer.data import StandardScaler, datasets, train_val_test_split


def test_matches_sklearn_fitted_on_training_split_only():
    X, y = datasets.wine()
    X_tr, X_va, X_te, *_ = train_val_test_split(X, y, seed=0)
    ours, theirs = StandardScaler().fit(X_tr), SkStandardScaler().fit(X_tr.astype(np.float64))
    np.testing.assert_allclose(ours.mean_, theirs.mean_, rtol=1e-6)
    np.testing.assert_allclose(ours.scale_, theirs.scale_, rtol=1e-6)
    for part in (X_tr, X_va, X_te):
        out = ours.transform(part)
        assert out.dtype == np.float32 and out.shape == part.shape
        np.testing.assert_allclose(out, theirs.transform(part), rtol=1e-4, atol=1e-5)
    Z = ours.transform(X_tr)
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(Z.std(axis=0), 1, atol=1e-5)
    assert np.abs(ours.transform(X_va).mean(axis=0)).max() > 1e-3  # val stats were not used
    np.testing.assert_allclose(ours.inverse_transform(ours.transform(X_te)), X_te, rtol=1e-4)


def test_constant_feature_gets_scale_one():
    X = np.array([[1.0, 5.0], [3.0, 5.0], [5.0, 5.0]])
    s = StandardScaler().fit(X)
    np.testing.assert_array_equal(s.scale_, [np.sqrt(8 / 3), 1.0])
    np.testing.assert_allclose(s.transform(X)[:, 1], 0.0)
    np.testing.assert_allclose(SkStandardScaler().fit(X).scale_, s.scale_)
    np.testing.assert_allclose(StandardScaler().fit(np.full((4, 1), 0.1)).scale_, [1.0])


def test_tensors_ints_options_and_errors():
    s = StandardScaler()
    out = s.fit_transform(dp.tensor([[1.0], [3.0]]))
    assert isinstance(out, dp.Tensor) and out.tolist() == [[-1.0], [1.0]]
    assert StandardScaler().fit_transform(np.array([[0], [2]])).dtype == np.float32
    assert StandardScaler().fit_transform(np.array([[0.0], [2.0]])).dtype == np.float64
    np.testing.assert_allclose(StandardScaler(with_std=False).fit_transform(np.array([[1.0], [3.0]])), [[-1], [1]])
    np.testing.assert_allclose(StandardScaler(with_mean=False).fit_transform(np.array([[1.0], [3.0]])), [[1], [3]])
    with pytest.raises(RuntimeError, match="not fitted"):
        StandardScaler().transform(np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"\(3,\).*\(2, 4\)"):
        StandardScaler().fit(np.zeros((5, 3))).transform(np.zeros((2, 4)))
