"""Data augmentation for image batches: random shifts, rotations, flips, noise, erasing.

Each transform takes a whole batch, a NumPy array (or a tensor) of images shaped
``(N, H, W)`` or ``(N, C, H, W)``, and returns a new batch of the same shape and dtype
(a tensor if given a tensor): every image gets its own random draw, and the work is
vectorised over the batch. Randomness comes from ``generator`` (a ``dp.Generator`` or an
int seed) or, by default, from the library's generator, so ``dp.manual_seed`` makes
augmentation repeatable. Apply them to the training batches only::

    augment = Compose([RandomShift(2), RandomRotation(10)])
    for xb, yb in train_loader:
        xb = augment(xb)
"""
import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .. import backend
from ..random import Generator, get_rng
from ..tensor import Tensor


class Transform:
    """Base class: subclasses define ``_apply(x, rng)`` on a (N, C, H, W) batch."""

    images_only = True

    def __init__(self, generator=None):
        if isinstance(generator, (int, np.integer)) and not isinstance(generator, bool):
            generator = Generator(int(generator))
        elif generator is not None and not isinstance(generator, Generator):
            raise TypeError(
                f"{type(self).__name__}: generator must be a dp.Generator, an int seed or None, "
                f"got {type(generator).__name__}"
            )
        self.generator = generator

    def __call__(self, x):
        is_tensor = isinstance(x, Tensor)
        x = x.data if is_tensor else np.asarray(x)
        rng = get_rng(self.generator)
        if not self.images_only:
            out = self._apply(x, rng)
        elif x.ndim == 4:
            out = self._apply(x, rng)
        elif x.ndim == 3:
            out = self._apply(x[:, None], rng)[:, 0]
        else:
            raise ValueError(
                f"{type(self).__name__}: expected a batch of images shaped (N, H, W) or "
                f"(N, C, H, W), got shape {x.shape}; reshape flat features first, e.g. "
                f"x.reshape(-1, 1, 8, 8) for the digits"
            )
        return Tensor._make(out) if is_tensor else out

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if k != "generator")
        return f"{type(self).__name__}({args})"


class Compose:
    """Apply several transforms one after the other."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x

    def __repr__(self):
        inner = "".join(f"\n    {t!r}," for t in self.transforms)
        return f"Compose([{inner}\n])"


class RandomShift(Transform):
    """Translate each image by a random whole number of pixels in [-max_shift, max_shift]
    along each axis; pixels shifted in are ``fill``."""

    def __init__(self, max_shift, fill=0.0, generator=None):
        super().__init__(generator)
        if isinstance(max_shift, bool) or not isinstance(max_shift, (int, np.integer)) or max_shift < 0:
            raise ValueError(f"RandomShift: max_shift must be a non-negative int, got {max_shift!r}")
        self.max_shift = int(max_shift)
        self.fill = fill

    def _apply(self, x, rng):
        n, _, h, w = x.shape
        s = self.max_shift
        dy = rng.integers(-s, s + 1, size=n)
        dx = rng.integers(-s, s + 1, size=n)
        padded = np.pad(x, ((0, 0), (0, 0), (s, s), (s, s)), constant_values=self.fill)
        windows = sliding_window_view(padded, (h, w), axis=(2, 3))  # (N, C, 2s+1, 2s+1, H, W)
        # image i's window starts at (s - dy, s - dx): its content moves by (dy, dx)
        return windows[np.arange(n), :, s - dy, s - dx]


class RandomRotation(Transform):
    """Rotate each image about its centre by an angle drawn uniformly from
    [-degrees, degrees] (or from ``degrees=(low, high)``); positive is counter-clockwise,
    as in torchvision. Resampling is bilinear (or ``interpolation="nearest"``); pixels
    from outside the image are ``fill``."""

    def __init__(self, degrees, interpolation="bilinear", fill=0.0, generator=None):
        super().__init__(generator)
        low, high = (-degrees, degrees) if np.isscalar(degrees) else degrees
        if low > high:
            raise ValueError(f"RandomRotation: degrees range ({low}, {high}) is empty")
        if interpolation not in ("bilinear", "nearest"):
            raise ValueError(f"RandomRotation: interpolation must be 'bilinear' or 'nearest', got {interpolation!r}")
        self.degrees = (float(low), float(high))
        self.interpolation = interpolation
        self.fill = fill

    def _apply(self, x, rng):
        n, _, h, w = x.shape
        theta = np.deg2rad(rng.uniform(*self.degrees, size=n))[:, None, None]
        work = x.dtype if x.dtype.kind == "f" else backend.get_default_dtype()
        cos, sin = np.cos(theta).astype(work), np.sin(theta).astype(work)
        yc = np.arange(h, dtype=work)[:, None] - (h - 1) / 2
        xc = np.arange(w, dtype=work)[None, :] - (w - 1) / 2
        # each output pixel reads the input at its position rotated back by theta
        # (+1: coordinates in the image padded by one ring of `fill`)
        src_x = cos * xc - sin * yc + ((w - 1) / 2 + 1)
        src_y = sin * xc + cos * yc + ((h - 1) / 2 + 1)
        padded = np.pad(x.astype(work, copy=False), ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=self.fill)
        out = _resample(padded, src_y, src_x, self.interpolation)
        return out if x.dtype == work else np.rint(out).astype(x.dtype)


def _resample(padded, src_y, src_x, interpolation):
    """Sample each padded image (N, C, H+2, W+2) at per-image coordinates (N, H, W)."""
    n, c, hp, wp = padded.shape
    flat = padded.reshape(n, c, hp * wp)
    src_y = np.clip(src_y, 0, hp - 1)  # beyond the border: the fill ring
    src_x = np.clip(src_x, 0, wp - 1)

    def gather(iy, ix):
        index = (iy * wp + ix).reshape(n, 1, -1)
        return np.take_along_axis(flat, index, axis=2)

    if interpolation == "nearest":
        out = gather(np.rint(src_y).astype(np.intp), np.rint(src_x).astype(np.intp))
    else:
        y0 = np.minimum(np.floor(src_y), hp - 2)  # same float dtype as the coordinates
        x0 = np.minimum(np.floor(src_x), wp - 2)
        wy = (src_y - y0).reshape(n, 1, -1)
        wx = (src_x - x0).reshape(n, 1, -1)
        y0, x0 = y0.astype(np.intp), x0.astype(np.intp)
        top = gather(y0, x0) * (1 - wx) + gather(y0, x0 + 1) * wx
        bottom = gather(y0 + 1, x0) * (1 - wx) + gather(y0 + 1, x0 + 1) * wx
        out = top * (1 - wy) + bottom * wy
    return out.reshape(n, c, hp - 2, wp - 2)


class RandomHorizontalFlip(Transform):
    """Mirror each image left-right with probability ``p``."""

    def __init__(self, p=0.5, generator=None):
        super().__init__(generator)
        self.p = p

    def _apply(self, x, rng):
        flip = rng.random(x.shape[0]) < self.p
        out = x.copy()
        out[flip] = x[flip][..., ::-1]
        return out


class GaussianNoise(Transform):
    """Add noise drawn from N(mean, std^2) to every value; ``clip=(low, high)`` bounds the
    result. Works on any shape (images or flat features)."""

    images_only = False

    def __init__(self, std=0.1, mean=0.0, clip=None, generator=None):
        super().__init__(generator)
        if std < 0:
            raise ValueError(f"GaussianNoise: std must be non-negative, got {std}")
        self.std, self.mean, self.clip = std, mean, clip

    def _apply(self, x, rng):
        dtype = x.dtype if x.dtype.kind == "f" else backend.get_default_dtype()
        noise = rng.standard_normal(x.shape, dtype=np.float64 if dtype == np.float64 else np.float32)
        out = x + (noise * self.std + self.mean).astype(dtype, copy=False)
        if self.clip is not None:
            np.clip(out, *self.clip, out=out)
        return out


class RandomErasing(Transform):
    """With probability ``p``, set a random rectangle of each image to ``value``
    (Zhong et al. 2017, as torchvision's): its area is a fraction drawn from ``scale`` of
    the image, its aspect ratio (height/width) log-uniform in ``ratio``; all channels."""

    def __init__(self, p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0.0, generator=None):
        super().__init__(generator)
        if not 0 <= scale[0] <= scale[1] <= 1:
            raise ValueError(f"RandomErasing: scale must be (low, high) within [0, 1], got {scale}")
        if not 0 < ratio[0] <= ratio[1]:
            raise ValueError(f"RandomErasing: ratio must be (low, high) with 0 < low <= high, got {ratio}")
        self.p, self.scale, self.ratio, self.value = p, tuple(scale), tuple(ratio), value

    def _apply(self, x, rng):
        n, _, h, w = x.shape
        apply = rng.random(n) < self.p
        area = rng.uniform(*self.scale, size=n) * (h * w)
        aspect = np.exp(rng.uniform(math.log(self.ratio[0]), math.log(self.ratio[1]), size=n))
        eh = np.clip(np.rint(np.sqrt(area * aspect)), 1, h).astype(np.int64)
        ew = np.clip(np.rint(np.sqrt(area / aspect)), 1, w).astype(np.int64)
        top = (rng.random(n) * (h - eh + 1)).astype(np.int64)
        left = (rng.random(n) * (w - ew + 1)).astype(np.int64)
        return _erase(x, apply, top, left, eh, ew, self.value)


class Cutout(Transform):
    """With probability ``p``, set a ``size`` x ``size`` square of each image to ``value``,
    centred anywhere in the image, so it may hang over the edge (DeVries & Taylor 2017)."""

    def __init__(self, size, p=1.0, value=0.0, generator=None):
        super().__init__(generator)
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
            raise ValueError(f"Cutout: size must be a positive int, got {size!r}")
        self.size, self.p, self.value = int(size), p, value

    def _apply(self, x, rng):
        n, _, h, w = x.shape
        apply = rng.random(n) < self.p
        top = rng.integers(0, h, size=n) - self.size // 2
        left = rng.integers(0, w, size=n) - self.size // 2
        side = np.full(n, self.size)
        return _erase(x, apply, top, left, side, side, self.value)


def _erase(x, apply, top, left, height, width, value):
    """Set the box [top, top+height) x [left, left+width) of image i to value where apply[i]."""
    _, _, h, w = x.shape
    rows = np.arange(h)[None, :]
    cols = np.arange(w)[None, :]
    in_rows = (rows >= top[:, None]) & (rows < (top + height)[:, None]) & apply[:, None]
    in_cols = (cols >= left[:, None]) & (cols < (left + width)[:, None])
    box = in_rows[:, :, None] & in_cols[:, None, :]  # (N, H, W)
    return np.where(box[:, None], np.asarray(value, dtype=x.dtype), x)
