"""Autoencoders: networks that squeeze an input through a small code and rebuild it.

``Autoencoder`` learns a deterministic code. ``VAE`` (variational autoencoder) learns a
distribution over codes, so that decoding random codes makes new samples: the step from
a model that recognises to a model that generates.

VAE training maximises the evidence lower bound (ELBO); we minimise its negative:

    loss = reconstruction error  +  KL( q(z | x) || N(0, I) )

where the encoder outputs the mean mu and log-variance log s^2 of q(z | x), and for
Gaussians the KL divergence has the closed form

    KL = -1/2 * sum(1 + log s^2 - mu^2 - s^2).

The training logic lives in ``AutoencoderBase`` and ``VAEBase``; a subclass only builds
``self.encoder`` and ``self.decoder``. Here they are MLPs; conv_autoencoder.py builds
convolutional ones.
"""
from .. import nn
from ..autograd import no_grad
from ..creation import randn
from ..nn import functional as F
from ..ops.elementwise import sigmoid
from ..ops.shape import cat
from .mlp import MLP


def gaussian_kl(mu, logvar):
    """KL( N(mu, exp(logvar)) || N(0, I) ), summed over latent dims, averaged over the batch."""
    return (-0.5 * (1 + logvar - mu * mu - logvar.exp())).sum(dim=1).mean()


def reconstruction_bce(logits, x):
    """Binary cross-entropy of the reconstruction, summed over pixels, averaged over images
    (inputs in [0, 1]): the same number whether x is flat rows or images."""
    return F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / x.shape[0]


def _decode_like(decoder, code, x):
    """Decoder output in the layout of x: a conv decoder makes images, but flat input rows
    (what a DataLoader over flattened images yields) get flat logits back."""
    logits = decoder(code)
    return logits if tuple(logits.shape) == tuple(x.shape) else logits.reshape(tuple(x.shape))


class AutoencoderBase(nn.Module):
    """x -> encoder -> code -> decoder -> reconstruction logits; subclasses build the two halves."""

    def forward(self, x):
        return _decode_like(self.decoder, self.encoder(x), x)

    def loss(self, x):
        """Binary cross-entropy of the reconstruction, per image (inputs in [0, 1])."""
        return reconstruction_bce(self(x), x)


class VAEBase(nn.Module):
    """The VAE's training and sampling; subclasses build ``encoder`` (input -> 2 * latent_dim:
    mean then log-variance) and ``decoder`` (latent_dim -> reconstruction logits)."""

    def __init__(self, latent_dim):
        super().__init__()
        self.latent_dim = latent_dim

    def encode(self, x):
        """The mean and log-variance of q(z | x)."""
        h = self.encoder(x)
        return h[:, : self.latent_dim], h[:, self.latent_dim :]

    def reparameterize(self, mu, logvar):
        """z = mu + s * eps with eps ~ N(0, I): the randomness sits in eps, so gradients flow
        through mu and s (the reparameterisation trick). In eval mode z = mu."""
        if not self.training:
            return mu
        return mu + (0.5 * logvar).exp() * randn(*mu.shape, dtype=mu.dtype)

    def forward(self, x):
        """(reconstruction logits in the layout of x, mu, logvar)."""
        mu, logvar = self.encode(x)
        return _decode_like(self.decoder, self.reparameterize(mu, logvar), x), mu, logvar

    def loss(self, x):
        """(negative ELBO, reconstruction term, KL term), each per image."""
        logits, mu, logvar = self(x)
        reconstruction = reconstruction_bce(logits, x)
        kl = gaussian_kl(mu, logvar)
        return reconstruction + kl, reconstruction, kl

    @no_grad()
    def sample(self, n):
        """n new inputs decoded from codes drawn from the prior N(0, I), as values in [0, 1]."""
        return sigmoid(self.decoder(randn(n, self.latent_dim)))

    @no_grad()
    def interpolate(self, x_from, x_to, steps=8):
        """Decode evenly spaced points on the line between the codes (means) of two inputs."""
        mu_from, _ = self.encode(x_from.reshape(1, -1))
        mu_to, _ = self.encode(x_to.reshape(1, -1))
        weights = [i / (steps - 1) for i in range(steps)]
        codes = cat([mu_from * (1 - w) + mu_to * w for w in weights])
        return sigmoid(self.decoder(codes))


class Autoencoder(AutoencoderBase):
    """x -> encoder MLP -> code (latent_dim) -> decoder MLP -> reconstruction logits."""

    def __init__(self, in_features, hidden=(256,), latent_dim=16, activation="relu"):
        super().__init__()
        self.encoder = MLP([in_features, *hidden, latent_dim], activation=activation)
        self.decoder = MLP([latent_dim, *reversed(hidden), in_features], activation=activation)


class VAE(VAEBase):
    """Variational autoencoder with MLP encoder and decoder, for inputs scaled to [0, 1]."""

    def __init__(self, in_features, hidden=(256,), latent_dim=8, activation="relu"):
        super().__init__(latent_dim)
        self.encoder = MLP([in_features, *hidden, 2 * latent_dim], activation=activation)
        self.decoder = MLP([latent_dim, *reversed(hidden), in_features], activation=activation)


__all__ = ["AutoencoderBase", "VAEBase", "Autoencoder", "VAE", "gaussian_kl", "reconstruction_bce"]
