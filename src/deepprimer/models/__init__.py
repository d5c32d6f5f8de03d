"""Ready architectures, from the primer's MLP upwards."""
from .autoencoder import VAE, Autoencoder, gaussian_kl
from .char_rnn import CharRNN
from .cnn import LeNet5
from .conv_autoencoder import ConvAutoencoder, ConvVAE
from .gpt import MiniGPT
from .mlp import MLP
from .resnet import BasicBlock, ResNet

__all__ = [
    "MLP", "LeNet5", "ResNet", "BasicBlock", "MiniGPT", "CharRNN",
    "Autoencoder", "VAE", "ConvAutoencoder", "ConvVAE", "gaussian_kl",
]
