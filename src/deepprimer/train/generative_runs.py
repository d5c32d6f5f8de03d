"""``deepprimer train --model autoencoder|vae|conv_autoencoder|conv_vae`` on an image dataset.

The images are split as for a classifier (stratified, by the seed) but not standardised:
the models read pixels in [0, 1] as probabilities. The loss is the model's own ``loss(x)``:
the reconstruction's binary cross-entropy, plus the KL term for a VAE (its negative ELBO),
in nats per image. Validation and test losses are measured in eval mode, where a VAE
decodes the mean code instead of a random one, so they are the same every time. The run
folder adds ``samples.png``: new images from random codes (VAEs) or test images beside
their reconstructions (autoencoders).
"""
import os
import time

import numpy as np

from .. import nn
from ..autograd import no_grad
from ..data import DataLoader, TensorDataset
from ..data.datasets import info as dataset_info
from ..models import VAE, Autoencoder, ConvAutoencoder, ConvVAE
from ..ops.elementwise import sigmoid
from ..random import manual_seed
from ..serialization import load
from ..tensor import Tensor
from ..viz import plot_history, plot_image_grid, save_figure
from .config import build_optimizer
from .run_folder import COMMON_FILES, read_config, run_callbacks, write_common
from .splits import prepare_data
from .trainer import evaluate, fit

SAMPLES, RECONSTRUCTIONS = 32, 8


class OwnLoss(nn.Module):
    """Lets ``fit`` train a model that scores itself: ``forward(x)`` is ``model.loss(x)`` (the
    negative ELBO of a VAE's (total, reconstruction, KL)), and :func:`passed_on` hands it to
    fit as the loss. Batches are (x, x): for an autoencoder the input is its own target."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        loss = self.model.loss(x)
        return loss[0] if isinstance(loss, tuple) else loss


def passed_on(loss, targets):
    """The loss function for an :class:`OwnLoss` model: the model already compared x with itself."""
    return loss


def build_generative_model(config):
    channels, height, _ = dataset_info(config.dataset).shape[1:]
    if config.model in ("conv_autoencoder", "conv_vae"):
        kind = ConvAutoencoder if config.model == "conv_autoencoder" else ConvVAE
        return kind(in_channels=channels, image_size=height, latent_dim=config.latent_dim, channels=config.hidden)
    kind = Autoencoder if config.model == "autoencoder" else VAE
    return kind(channels * height * height, hidden=config.hidden, latent_dim=config.latent_dim,
                activation=config.activation)


def self_loader(X, batch_size, shuffle=False):
    return DataLoader(TensorDataset(X, X), batch_size=batch_size, shuffle=shuffle)


def train_generative_run(config, out=None, verbose=1):
    """Train as ``config`` says; write the run folder ``out`` (if given); return a summary dict."""
    manual_seed(config.seed)
    data = prepare_data(config)
    model = build_generative_model(config)
    scored = OwnLoss(model)
    optimizer = build_optimizer(config, model.parameters())
    val_loader = self_loader(data.X_val, 512) if len(data.X_val) else None
    start = time.perf_counter()
    history = fit(scored, passed_on, optimizer, self_loader(data.X_train, config.batch_size, shuffle=True),
                  val_loader, epochs=config.epochs, metrics=(), callbacks=run_callbacks(config, out), verbose=verbose)
    seconds = time.perf_counter() - start
    results = generative_results(scored, data)
    summary = {"history": history, "test": results, "seconds": seconds, "model": model, "class_names": None,
               "files": COMMON_FILES + ("samples.png",)}
    if out is not None:
        curves = plot_history(history, title=f"{config.model} on {config.dataset} (nats per image)")
        write_common(out, config, model.state_dict(), results, curves)
        save_figure(samples_figure(model, config, data.X_test), os.path.join(out, "samples.png"))
    return summary


def generative_results(scored, data):
    """Validation (if there is a split) and test loss, each in nats per image."""
    results = {}
    for name, X in (("val", data.X_val), ("test", data.X_test)):
        if len(X):
            results.update(evaluate(scored, self_loader(X, 512), passed_on, metrics=(), prefix=f"{name}_"))
    return results


def samples_figure(model, config, X_test):
    """New images from codes drawn from the prior (VAEs, seeded by the config), or test images
    above their reconstructions (autoencoders)."""
    shape = (-1, *dataset_info(config.dataset).shape[1:])
    model.eval()
    if config.model.endswith("vae"):
        manual_seed(config.seed)
        images = model.sample(SAMPLES).numpy().reshape(shape)
        return plot_image_grid(images, ncols=8, cell_size=1.2,
                               suptitle=f"{SAMPLES} images decoded from random codes z ~ N(0, I) "
                                        f"({config.latent_dim}-D), by {config.model}")
    shown = X_test[:RECONSTRUCTIONS]
    with no_grad():
        rebuilt = sigmoid(model(Tensor._make(shown))).numpy()
    return plot_image_grid(np.concatenate([shown, rebuilt]).reshape(shape), ncols=RECONSTRUCTIONS, cell_size=1.2,
                           titles=["original"] * len(shown) + ["rebuilt"] * len(shown),
                           suptitle=f"Test images (top) and their reconstructions by {config.model} (bottom)")


def evaluate_generative_run(run_dir):
    """(validation and test loss, None) of a saved run, on the same splits it was trained with."""
    config = read_config(run_dir)
    model = build_generative_model(config)
    model.load_state_dict(load(os.path.join(run_dir, "model.npz")))
    return generative_results(OwnLoss(model), prepare_data(config)), None
