import numpy as np
import pytest

import deepprimer as dp
from deepprimer.data import transforms as T


def images(shape=(6, 1, 9, 9), dtype=np.float32):
    return np.random.default_rng(0).random(shape).astype(dtype)


ALL = [
    lambda g: T.RandomShift(2, generator=g),
    lambda g: T.RandomRotation(25, generator=g),
    lambda g: T.RandomRotation(25, interpolation="nearest", generator=g),
    lambda g: T.RandomHorizontalFlip(generator=g),
    lambda g: T.GaussianNoise(0.1, generator=g),
    lambda g: T.RandomErasing(p=0.7, generator=g),
    lambda g: T.Cutout(3, p=0.8, generator=g),
    lambda g: T.Compose([T.RandomShift(1, generator=g), T.RandomRotation(10, generator=g)]),
]


@pytest.mark.parametrize("make", ALL)
@pytest.mark.parametrize("shape", [(6, 9, 9), (6, 1, 9, 9), (5, 3, 7, 8)])
def test_shape_dtype_kept_and_seeded(make, shape):
    x = images(shape)
    before = x.copy()
    out = make(11)(x)
    assert out.shape == x.shape and out.dtype == x.dtype
    np.testing.assert_array_equal(x, before)  # the input is not changed
    np.testing.assert_array_equal(make(11)(x), out)  # same seed, same result
    t = make(dp.Generator(11))
    assert not all(np.array_equal(t(x), t(x)) for _ in range(3))  # a fresh draw each call
    dp.manual_seed(4)  # default: the library's generator
    a = make(None)(x)
    dp.manual_seed(4)
    np.testing.assert_array_equal(make(None)(x), a)


def test_tensor_in_tensor_out_and_bad_shape():
    x = dp.tensor(images())
    out = T.RandomShift(1, generator=0)(x)
    assert isinstance(out, dp.Tensor) and out.shape == x.shape
    with pytest.raises(ValueError, match=r"\(N, H, W\).*reshape"):
        T.RandomRotation(10)(np.zeros((4, 64)))
    assert T.GaussianNoise(0.1, generator=0)(np.zeros((4, 64))).shape == (4, 64)  # any shape


def test_random_shift_is_a_zero_filled_translation():
    x = images((20, 2, 6, 7)) + 1  # no zeros in the images
    out = T.RandomShift(2, generator=3)(x)
    for img, res in zip(x, out):
        matches = []
        for dy in range(-2, 3):
            for dx in range(-2, 3):
                shifted = np.zeros_like(img)
                dst = np.s_[:, max(dy, 0):6 + min(dy, 0), max(dx, 0):7 + min(dx, 0)]
                src = np.s_[:, max(-dy, 0):6 + min(-dy, 0), max(-dx, 0):7 + min(-dx, 0)]
                shifted[dst] = img[src]
                matches.append(np.array_equal(shifted, res))
        assert sum(matches) == 1
    np.testing.assert_array_equal(T.RandomShift(0)(x), x)


def test_rotation_exact_cases():
    x = images((4, 2, 8, 8))
    np.testing.assert_allclose(T.RandomRotation((90, 90))(x), np.rot90(x, 1, axes=(2, 3)), atol=1e-5)
    np.testing.assert_allclose(T.RandomRotation((-90, -90))(x), np.rot90(x, -1, axes=(2, 3)), atol=1e-5)
    np.testing.assert_allclose(T.RandomRotation((180, 180), "nearest")(x), x[:, :, ::-1, ::-1], atol=1e-6)
    np.testing.assert_allclose(T.RandomRotation(0)(x), x, atol=1e-6)
    ints = (images((2, 5, 5)) * 255).astype(np.uint8)
    np.testing.assert_array_equal(T.RandomRotation((90, 90))(ints), np.rot90(ints, 1, axes=(1, 2)))


def test_rotation_fills_corners_and_keeps_centre():
    x = np.ones((3, 1, 9, 9), dtype=np.float32)
    out = T.RandomRotation((45, 45), fill=0.0)(x)
    assert out[:, 0, 0, 0].max() == 0.0  # a corner comes from outside the image
    np.testing.assert_allclose(out[:, 0, 4, 4], 1.0)  # the centre stays
    assert out.min() >= 0.0 and out.max() <= 1.0 + 1e-6


def test_flip_probabilities():
    x = images((5, 3, 4, 4))
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(x), x[..., ::-1])
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=0.0)(x), x)
    out = T.RandomHorizontalFlip(p=0.5, generator=0)(images((200, 1, 3, 3)))
    flipped = [np.array_equal(o, i[..., ::-1]) for o, i in zip(out, images((200, 1, 3, 3)))]
    assert 70 < sum(flipped) < 130


def test_gaussian_noise_statistics_and_clip():
    x = np.zeros((100, 1, 20, 20), dtype=np.float32)
    out = T.GaussianNoise(0.5, generator=0)(x)
    assert abs(out.std() - 0.5) < 0.01 and abs(out.mean()) < 0.01
    clipped = T.GaussianNoise(0.5, clip=(0.0, 1.0), generator=0)(x)
    assert clipped.min() == 0.0 and clipped.max() <= 1.0
    assert T.GaussianNoise(0.1, generator=0)(np.zeros((2, 3, 3), dtype=np.float64)).dtype == np.float64


def test_random_erasing_area_and_value():
    x = np.ones((300, 2, 20, 20), dtype=np.float32)
    out = T.RandomErasing(p=1.0, scale=(0.1, 0.2), value=0.0, generator=0)(x)
    erased = (out == 0).mean(axis=(2, 3))
    np.testing.assert_array_equal(erased[:, 0], erased[:, 1])  # all channels
    assert erased.min() > 0.05 and erased.max() < 0.3
    kept = T.RandomErasing(p=0.5, generator=0)(x)
    n_erased = (kept == 0).any(axis=(1, 2, 3)).sum()
    assert 110 < n_erased < 190
    np.testing.assert_array_equal(T.RandomErasing(p=0.0)(x), x)


def test_cutout_square_size():
    x = np.ones((200, 1, 12, 12), dtype=np.float32)
    out = T.Cutout(4, generator=0)(x)
    zeros = (out == 0).sum(axis=(1, 2, 3))
    assert zeros.max() == 16 and zeros.min() >= 4  # whole square, or clipped at an edge
    rows = (out[:, 0] == 0).any(axis=2).sum(axis=1)
    assert rows.max() == 4


def test_bad_arguments():
    with pytest.raises(ValueError, match="max_shift"):
        T.RandomShift(-1)
    with pytest.raises(ValueError, match="interpolation"):
        T.RandomRotation(10, interpolation="cubic")
    with pytest.raises(TypeError, match="generator"):
        T.RandomShift(1, generator="seed")
    with pytest.raises(ValueError, match="size"):
        T.Cutout(0)
