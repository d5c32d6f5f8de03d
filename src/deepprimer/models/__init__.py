"""Ready architectures, from the primer's MLP upwards."""
from .autoencoder import VAE, Autoencoder, gaussian_kl
from .gpt import MiniGPT
from .mlp import MLP

__all__ = ["MLP", "MiniGPT", "Autoencoder", "VAE", "gaussian_kl"]
