"""Feature standardisation, as scikit-learn's ``StandardScaler``.

Fit it on the training split only, then transform every split with the training
statistics: statistics computed on validation or test data would leak them into training.
"""
import numpy as np

from .. import backend
from ..tensor import Tensor


class StandardScaler:
    """Scale each feature (column, or each position after the first axis) to mean 0, std 1.

    ``fit(X)`` learns ``mean_``, ``var_`` and ``scale_`` (the population std, ddof=0);
    features that are constant get ``scale_ = 1``, so they are centred but not divided by
    zero. ``transform`` keeps a floating input's dtype (integers become float32); tensors
    in give tensors out. Statistics are accumulated in float64.
    """

    def __init__(self, with_mean=True, with_std=True):
        self.with_mean = with_mean
        self.with_std = with_std

    def fit(self, X, y=None):
        X = _as_float(X)
        if X.ndim < 1 or X.shape[0] == 0:
            raise ValueError(f"StandardScaler.fit: need at least one sample, got shape {X.shape}")
        X64 = X.astype(np.float64, copy=False)
        self.mean_ = X64.mean(axis=0)
        self.var_ = X64.var(axis=0)
        # constant features (variance zero up to rounding) are left unscaled; scikit-learn's rule
        n, eps = X.shape[0], np.finfo(np.float64).eps
        constant = self.var_ <= n * eps * self.var_ + (n * self.mean_ * eps) ** 2
        scale = np.sqrt(self.var_)
        self.scale_ = np.where(constant | (scale < 10 * eps), 1.0, scale)
        self.n_samples_seen_ = X.shape[0]
        self.n_features_in_ = int(np.prod(X.shape[1:]))
        return self

    def transform(self, X):
        X, is_tensor = _as_float(X), isinstance(X, Tensor)
        mean, scale = self._stats(X, "transform")
        out = X - mean if self.with_mean else X.copy()
        if self.with_std:
            out /= scale
        return Tensor._make(out) if is_tensor else out

    def inverse_transform(self, X):
        X, is_tensor = _as_float(X), isinstance(X, Tensor)
        mean, scale = self._stats(X, "inverse_transform")
        out = X * scale if self.with_std else X.copy()
        if self.with_mean:
            out += mean
        return Tensor._make(out) if is_tensor else out

    def fit_transform(self, X, y=None):
        return self.fit(X).transform(X)

    def _stats(self, X, op):
        if not hasattr(self, "mean_"):
            raise RuntimeError(
                f"StandardScaler.{op}: this scaler is not fitted yet; call fit(X_train) first"
            )
        if X.shape[1:] != self.mean_.shape:
            raise ValueError(
                f"StandardScaler.{op}: fitted on samples of shape {self.mean_.shape}, "
                f"got an input of shape {X.shape} (samples of shape {X.shape[1:]})"
            )
        return self.mean_.astype(X.dtype), self.scale_.astype(X.dtype)

    def __repr__(self):
        fitted = f", fitted on {self.n_samples_seen_} samples" if hasattr(self, "mean_") else ""
        return f"StandardScaler(with_mean={self.with_mean}, with_std={self.with_std}{fitted})"


def _as_float(X):
    X = X.data if isinstance(X, Tensor) else np.asarray(X)
    return X if X.dtype.kind == "f" else X.astype(backend.get_default_dtype())
