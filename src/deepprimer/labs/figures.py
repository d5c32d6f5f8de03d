"""``deepprimer figures``: the primer's figures, drawn from live computation.

The primer refers to figures it does not contain; each one here is computed by the
library at the moment it is drawn: a trained network, optimizer paths, one backward pass
with its numbers, an overfit model, and the activation functions with their derivatives.
"""
import os

import numpy as np

import deepprimer as dp
from deepprimer import nn
from deepprimer.data import DataLoader, TensorDataset, datasets
from deepprimer.models import MLP
from deepprimer.train import fit, predict
from deepprimer.viz import save_figure
from deepprimer.viz.activations import plot_activation_functions
from deepprimer.viz.network import linear_weights, plot_network
from deepprimer.viz.style import TRAIN_COLOR, VAL_COLOR, new_figure
from deepprimer.viz.trajectories import plot_trajectories

from .descent import OPTIMIZERS, RATES, descend
from .surfaces import QUADRATIC, ROSENBROCK


def neural_network_figure(seed=0):
    """A small MLP trained on moons, drawn with each edge's colour and width from its weight."""
    dp.manual_seed(seed)
    X, y = datasets.moons(n=400, noise=0.15, seed=seed)
    model = MLP([2, 6, 6, 2], activation="tanh")
    fit(model, nn.CrossEntropyLoss(), dp.optim.Adam(model.parameters(), lr=0.03),
        DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True), epochs=40, metrics=(), verbose=0)
    accuracy = float((predict(model, X).argmax(1) == y).mean())
    return plot_network(linear_weights(model),
                        title=f"A trained MLP (2-6-6-2, tanh) on moons, training accuracy {accuracy:.3f}\n"
                              "edge colour and width: the learned weight")


def gradient_descent_figure(seed=0, steps=300):
    """SGD, momentum, RMSprop and Adam from dp.optim on an ill-conditioned bowl and on
    Rosenbrock's curved valley (rates as in the descent lab)."""
    fig, axes = new_figure(ncols=2, width=5.5, height=4.6)
    for ax, surface in zip(axes[0], (QUADRATIC, ROSENBROCK)):
        paths = {name: descend(surface, make, RATES[surface.name][name], steps)[0]
                 for name, make in OPTIMIZERS.items()}
        plot_trajectories(surface, paths, ax=ax, title=f"{surface.name}: {steps} steps of each optimizer")
    fig.suptitle("Gradient descent: each optimizer's path over the loss surface's contour lines")
    fig.tight_layout()
    return fig


def backpropagation_figure(seed=0):
    """One example through a 2-3-2 network: activations forward (blue), gradients back (red).

    The loss is the cross-entropy of the output logits against class 1; the red number on
    each edge is d(loss)/d(weight), exactly what ``loss.backward()`` leaves in ``.grad``.
    """
    dp.manual_seed(seed)
    hidden, out = nn.Linear(2, 3), nn.Linear(3, 2)
    x = dp.tensor([[1.0, -0.5]])
    h = dp.tanh(hidden(x))
    logits = out(h)
    loss = nn.functional.cross_entropy(logits, dp.tensor([1]))
    loss.backward()
    values = [x.numpy()[0], h.detach().numpy()[0], logits.detach().numpy()[0]]
    grads = [hidden.weight.grad.numpy(), out.weight.grad.numpy()]
    fig = plot_network([hidden.weight.data, out.weight.data], node_values=values, edge_values=grads,
                       layer_names=["input x", "hidden tanh(W1 x + b1)", "output logits"],
                       title=f"Backpropagation on one example (target class 1): forward activations (blue),\n"
                             f"d loss / d weight from loss.backward() (red); cross-entropy loss = {loss.item():.4f}")
    return fig


def overfitting_figure(seed=0):
    """Left: train vs validation loss of a too-big model on too little data.
    Right: a wide MLP threading every noisy point of a 1-D function."""
    dp.manual_seed(seed)
    X, y = datasets.moons(n=60, noise=0.35, seed=seed)
    X_val, y_val = datasets.moons(n=500, noise=0.35, seed=seed + 1)
    model = MLP([2, 128, 128, 2])
    history = fit(model, nn.CrossEntropyLoss(), dp.optim.Adam(model.parameters(), lr=0.01),
                  DataLoader(TensorDataset(X, y), batch_size=60), DataLoader(TensorDataset(X_val, y_val), batch_size=500),
                  epochs=300, metrics=(), verbose=0)
    fig, axes = new_figure(ncols=2, width=5.5, height=4.0)
    ax = axes[0][0]
    epochs = np.arange(1, len(history["loss"]) + 1)
    ax.plot(epochs, history["loss"], color=TRAIN_COLOR, label="training loss")
    ax.plot(epochs, history["val_loss"], color=VAL_COLOR, label="validation loss")
    best = int(np.argmin(history["val_loss"]))
    ax.axvline(best + 1, color="#777777", linestyle=":", label=f"best validation (epoch {best + 1})")
    ax.set_yscale("log")
    ax.set(xlabel="epoch", ylabel="cross-entropy (log scale)",
           title="A 2-128-128-2 MLP on 60 noisy moons:\ntraining loss falls, validation loss turns up")
    ax.legend()
    ax.grid(alpha=0.3)

    points = datasets.sine(n=15, noise=0.25, seed=seed)
    wiggly = MLP([1, 200, 200, 1], activation="tanh")
    fit(wiggly, nn.MSELoss(), dp.optim.Adam(wiggly.parameters(), lr=0.005),
        DataLoader(TensorDataset(points.X, points.y), batch_size=15), epochs=1500, metrics=(), verbose=0)
    grid = np.linspace(0, 1, 400, dtype=np.float32)[:, None]
    ax = axes[0][1]
    ax.plot(grid, np.sin(2 * np.pi * grid), color="#2ca02c", label="true function sin(2 pi x)")
    ax.plot(grid, predict(wiggly, grid), color=VAL_COLOR, label="overfit MLP (1-200-200-1)")
    ax.scatter(points.X, points.y, color=TRAIN_COLOR, zorder=3, label="15 noisy training points")
    ax.set(xlabel="x", ylabel="y", title="Overfitting noisy 1-D data:\nthe fit chases the noise")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


FIGURES = {
    "neural_network.png": neural_network_figure,
    "gradient_descent.png": gradient_descent_figure,
    "backpropagation.png": backpropagation_figure,
    "overfitting.png": overfitting_figure,
    "activation_functions.png": lambda seed=0: plot_activation_functions(),
}


def write_figures(out_dir, seed=0):
    """Draw every figure into ``out_dir``; return the paths written."""
    os.makedirs(out_dir, exist_ok=True)
    return [save_figure(make(seed=seed), os.path.join(out_dir, name)) for name, make in FIGURES.items()]
