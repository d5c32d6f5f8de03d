import numpy as np
import pytest

import deepprimer as dp
from deepprimer.data import datasets
from deepprimer.models import ConvAutoencoder, ConvVAE


def _images(n, size, seed=0):
    return dp.tensor(np.random.default_rng(seed).uniform(size=(n, 1, size, size)).astype(np.float32))


@pytest.mark.parametrize("size", [8, 28])
def test_conv_vae_shapes_for_images_and_flat_rows(size):
    dp.manual_seed(0)
    vae = ConvVAE(image_size=size, latent_dim=5)
    x = _images(3, size)
    logits, mu, logvar = vae(x)
    assert tuple(logits.shape) == (3, 1, size, size) and logits.dtype == dp.float32
    assert tuple(mu.shape) == tuple(logvar.shape) == (3, 5)
    flat_logits, _, _ = vae(x.reshape(3, -1))
    assert tuple(flat_logits.shape) == (3, size * size)
    vae.eval()  # z = mu: both layouts give the same numbers
    with dp.no_grad():
        assert np.allclose(vae(x.reshape(3, -1))[0].numpy(), vae(x)[0].numpy().reshape(3, -1))
        assert np.isclose(vae.loss(x)[0].item(), vae.loss(x.reshape(3, -1))[0].item(), rtol=1e-5)
    assert tuple(vae.sample(4).shape) == (4, 1, size, size)


@pytest.mark.parametrize("size", [8, 28])
def test_conv_autoencoder_shapes_for_images_and_flat_rows(size):
    dp.manual_seed(0)
    ae = ConvAutoencoder(image_size=size)
    x = _images(2, size)
    with dp.no_grad():
        images, rows = ae(x), ae(x.reshape(2, -1))
    assert tuple(images.shape) == (2, 1, size, size) and tuple(rows.shape) == (2, size * size)
    assert np.allclose(rows.numpy(), images.numpy().reshape(2, -1))
    assert ae.loss(x).shape == () and np.isfinite(ae.loss(x).item())


def test_more_channels_per_image_round_trip():
    dp.manual_seed(0)
    vae = ConvVAE(in_channels=3, image_size=8, channels=(4, 8, 8))
    x = dp.tensor(np.random.default_rng(0).uniform(size=(2, 3, 8, 8)).astype(np.float32))
    assert tuple(vae(x)[0].shape) == (2, 3, 8, 8)
    assert tuple(vae(x.reshape(2, -1))[0].shape) == (2, 192)


@pytest.mark.parametrize("model", [ConvAutoencoder, ConvVAE])
def test_image_size_that_cannot_halve_back_names_the_sizes_that_work(model):
    with pytest.raises(ValueError, match=r"image_size 10 .* multiple of 2\*\*2 = 4: 4, 8, 12, 16, 20, 24, 28"):
        model(image_size=10)
    with pytest.raises(ValueError, match=r"image_size 28 .* multiple of 2\*\*3 = 8: 8, 16, 24, 32"):
        model(image_size=28, channels=(8, 16, 32))
    with pytest.raises(ValueError, match="at least one conv block"):
        model(channels=())


@pytest.mark.parametrize("model", [ConvAutoencoder, ConvVAE])
def test_input_of_the_wrong_shape_names_the_shapes_that_fit(model):
    with pytest.raises(ValueError, match=r"\(N, 1, 8, 8\) or flat rows \(N, 64\), got \(2, 1, 7, 7\)"):
        model()(_images(2, 7))


@pytest.mark.parametrize("model", [ConvAutoencoder, ConvVAE])
def test_gradients_reach_every_parameter(model):
    dp.manual_seed(0)
    net = model()
    loss = net.loss(_images(4, 8))
    (loss[0] if isinstance(loss, tuple) else loss).backward()
    params = list(net.named_parameters())
    assert len(params) == 12  # 2 convs + linear in, linear + 2 transposed convs out: weight and bias each
    for name, p in params:
        assert p.grad is not None, name
        grad = p.grad.numpy()
        assert np.all(np.isfinite(grad)) and np.any(grad != 0), name


def test_conv_vae_gradcheck_through_convs_and_the_reparameterisation():
    dp.manual_seed(0)
    vae = ConvVAE(image_size=4, latent_dim=2, channels=(2,)).double()
    x = dp.tensor(np.random.default_rng(0).uniform(size=(2, 16)))

    def neg_elbo(*params):
        dp.manual_seed(1)  # the same eps in every evaluation
        return vae.loss(x)[0]

    assert dp.autograd.gradcheck(neg_elbo, list(vae.parameters()))


def _train(net, X, epochs, lr, loss_of):
    """Mean loss per image for each epoch of minibatch Adam (5 batches an epoch)."""
    opt = dp.optim.Adam(net.parameters(), lr=lr)
    order = np.random.default_rng(0)
    history = []
    for _ in range(epochs):
        total = 0.0
        for idx in np.array_split(order.permutation(len(X)), 5):
            opt.zero_grad()
            loss = loss_of(net, dp.tensor(X[idx]))
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        history.append(total / len(X))
    return history


def test_conv_vae_on_digits_elbo_falls_and_samples_are_digit_sized_probabilities():
    X = datasets.digits().X[:300]  # (300, 1, 8, 8), pixels / 16 in [0, 1]
    dp.manual_seed(0)
    vae = ConvVAE()
    history = _train(vae, X, epochs=8, lr=1e-2, loss_of=lambda net, x: net.loss(x)[0])
    assert history[-1] < 0.8 * history[0], history
    samples = vae.sample(16).numpy()
    assert samples.shape == (16, 1, 8, 8) and samples.min() >= 0 and samples.max() <= 1
    assert samples.std() > 0.05  # not one flat grey: the decoder draws something
    path = vae.interpolate(dp.tensor(X[0]), dp.tensor(X[1]), steps=5)
    assert tuple(path.shape) == (5, 1, 8, 8)


def test_conv_autoencoder_on_flat_digit_rows_reconstructs_better_after_training():
    X = datasets.digits(flatten=True).X[:300]  # flat rows, as `deepprimer train` feeds them
    dp.manual_seed(0)
    ae = ConvAutoencoder()
    history = _train(ae, X, epochs=6, lr=1e-2, loss_of=lambda net, x: net.loss(x))
    assert history[-1] < 0.8 * history[0], history


def test_same_seed_same_model_and_samples():
    def draw(seed):
        dp.manual_seed(seed)
        vae = ConvVAE()
        return vae.sample(6).numpy()

    assert np.array_equal(draw(3), draw(3))
    assert not np.allclose(draw(3), draw(4))


def test_eval_mode_decodes_the_mean_code():
    dp.manual_seed(0)
    vae = ConvVAE()
    x = _images(3, 8)
    with dp.no_grad():
        train_a, train_b = vae(x)[0].numpy(), vae(x)[0].numpy()
        assert not np.allclose(train_a, train_b)  # training: z is drawn afresh
        vae.eval()
        logits, mu, _ = vae(x)
        assert np.allclose(logits.numpy(), vae.decoder(mu).numpy())
