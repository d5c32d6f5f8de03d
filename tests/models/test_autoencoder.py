import numpy as np

import deepprimer as dp
from deepprimer.data import datasets
from deepprimer.models import VAE, Autoencoder, gaussian_kl


def test_gaussian_kl_matches_the_closed_form_and_is_zero_at_the_prior():
    mu = dp.tensor([[0.5, -1.0]], dtype=dp.float64)
    logvar = dp.tensor([[0.2, -0.3]], dtype=dp.float64)
    expected = 0.5 * np.sum(np.exp([0.2, -0.3]) + np.array([0.5, -1.0]) ** 2 - 1 - np.array([0.2, -0.3]))
    assert np.isclose(gaussian_kl(mu, logvar).item(), expected)
    assert gaussian_kl(dp.zeros(3, 2), dp.zeros(3, 2)).item() == 0.0


def test_vae_gradcheck_through_the_reparameterisation():
    dp.manual_seed(0)
    vae = VAE(6, hidden=(5,), latent_dim=2).double()
    x = dp.tensor(np.random.default_rng(0).uniform(size=(3, 6)))

    def neg_elbo(*params):
        dp.manual_seed(1)  # the same eps in every evaluation
        return vae.loss(x)[0]

    assert dp.autograd.gradcheck(neg_elbo, list(vae.parameters()))


def test_vae_elbo_falls_and_samples_and_interpolations_have_image_shape():
    X = datasets.digits(flatten=True).X[:256]
    dp.manual_seed(0)
    vae = VAE(64, hidden=(64,), latent_dim=4)
    opt = dp.optim.Adam(vae.parameters(), lr=3e-3)
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss, _, _ = vae.loss(dp.tensor(X))
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.8 * losses[0]
    samples = vae.sample(5).numpy()
    assert samples.shape == (5, 64) and samples.min() >= 0 and samples.max() <= 1
    path = vae.interpolate(dp.tensor(X[0]), dp.tensor(X[1]), steps=6)
    assert tuple(path.shape) == (6, 64)


def test_autoencoder_reconstructs_better_after_training():
    X = dp.tensor(datasets.digits(flatten=True).X[:128])
    dp.manual_seed(0)
    ae = Autoencoder(64, hidden=(32,), latent_dim=8)
    opt = dp.optim.Adam(ae.parameters(), lr=3e-3)
    before = ae.loss(X).item()
    for _ in range(30):
        opt.zero_grad()
        loss = ae.loss(X)
        loss.backward()
        opt.step()
    assert loss.item() < 0.8 * before
