"""Convolutional autoencoders: the same ideas as autoencoder.py, with conv halves for images.

    encoder: image (C, S, S) -> [3x3 conv, stride 2 -> ReLU] per entry of ``channels``
             -> flatten -> Linear -> code
    decoder: code -> Linear -> ReLU -> small map (channels[-1], S/2^k, S/2^k)
             -> [4x4 transposed conv, stride 2 (-> ReLU)] per block -> logits (C, S, S)

A stride-2 conv with padding 1 halves an even side exactly, and a 4x4 transposed conv with
stride 2 and padding 1 doubles it exactly, so the decoder retraces the encoder's sizes when
the side is divisible by 2**len(channels): 8 (digits) and 28 (MNIST) with two blocks.
Weight sharing makes these far smaller than an MLP on the same pixels, and the code is
built from local strokes rather than from every pixel at once.

Both accept images (N, C, S, S) or flat rows (N, C*S*S) and return logits in the layout
they were given, so the loss is the same number either way.
"""
from .. import nn
from .autoencoder import AutoencoderBase, VAEBase


class _AsImages(nn.Module):
    """Views flat rows (N, C*S*S) as images (N, C, S, S); lets images through; rejects the rest."""

    def __init__(self, owner, in_channels, image_size):
        super().__init__()
        self.owner = owner
        self.image_shape = (in_channels, image_size, image_size)

    def forward(self, x):
        shape = tuple(x.shape)
        c, h, w = self.image_shape
        if shape[1:] == self.image_shape:
            return x
        if len(shape) == 2 and shape[1] == c * h * w:
            return x.reshape(shape[0], c, h, w)
        raise ValueError(
            f"{self.owner}: expected images (N, {c}, {h}, {w}) or flat rows (N, {c * h * w}), got {shape}"
        )

    def extra_repr(self):
        return f"image_shape={self.image_shape}"


def _smallest_side(owner, image_size, channels):
    """The side of the encoder's last feature map; a ValueError names the sizes that work."""
    if not channels:
        raise ValueError(f"{owner}: channels must list at least one conv block, got {tuple(channels)}")
    factor = 2 ** len(channels)
    if image_size <= 0 or image_size % factor:
        fits = ", ".join(str(factor * k) for k in range(1, 9))
        raise ValueError(
            f"{owner}: image_size {image_size} does not work with channels={tuple(channels)}: each of the "
            f"{len(channels)} stride-2 blocks halves the side, so it must be a multiple of 2**{len(channels)} = "
            f"{factor}: {fits}, ..."
        )
    return image_size // factor


def conv_encoder(owner, in_channels, image_size, channels, out_features):
    """Images (or flat rows) -> stride-2 conv blocks with ReLU -> Linear to ``out_features``."""
    side = _smallest_side(owner, image_size, channels)
    layers = [_AsImages(owner, in_channels, image_size)]
    for c_in, c_out in zip((in_channels, *channels[:-1]), channels):
        layers += [nn.Conv2d(c_in, c_out, 3, stride=2, padding=1), nn.ReLU()]
    layers += [nn.Flatten(), nn.Linear(channels[-1] * side * side, out_features)]
    return nn.Sequential(*layers)


def conv_decoder(owner, latent_dim, in_channels, image_size, channels):
    """Code -> Linear -> small map -> stride-2 transposed convs -> image logits (N, C, S, S)."""
    side = _smallest_side(owner, image_size, channels)
    layers = [nn.Linear(latent_dim, channels[-1] * side * side), nn.ReLU(),
              nn.Unflatten(1, (channels[-1], side, side))]
    widths = (*reversed(channels), in_channels)
    for i, (c_in, c_out) in enumerate(zip(widths, widths[1:])):
        layers.append(nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1))
        if i < len(channels) - 1:  # the last block gives logits: no activation
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class ConvAutoencoder(AutoencoderBase):
    """Deterministic autoencoder with conv encoder and transposed-conv decoder, inputs in [0, 1]."""

    def __init__(self, in_channels=1, image_size=8, latent_dim=16, channels=(16, 32)):
        super().__init__()
        self.encoder = conv_encoder("ConvAutoencoder", in_channels, image_size, channels, latent_dim)
        self.decoder = conv_decoder("ConvAutoencoder", latent_dim, in_channels, image_size, channels)


class ConvVAE(VAEBase):
    """Variational autoencoder with conv encoder (-> mean and log-variance) and
    transposed-conv decoder; ``sample(n)`` gives (n, C, S, S) images in [0, 1]."""

    def __init__(self, in_channels=1, image_size=8, latent_dim=8, channels=(16, 32)):
        super().__init__(latent_dim)
        self.encoder = conv_encoder("ConvVAE", in_channels, image_size, channels, 2 * latent_dim)
        self.decoder = conv_decoder("ConvVAE", latent_dim, in_channels, image_size, channels)


__all__ = ["ConvAutoencoder", "ConvVAE", "conv_encoder", "conv_decoder"]
