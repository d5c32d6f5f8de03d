"""The primer's activation functions and their derivatives, computed by the engine.

Each curve is evaluated with deepprimer ops and each derivative is obtained by
``backward()``, so the figure shows what the library really computes.
"""
import numpy as np

from .style import BACKWARD_RED, FORWARD_BLUE, new_figure


def _curve(fn, x):
    import deepprimer as dp

    t = dp.tensor(x, requires_grad=True)
    y = fn(t)
    y.sum().backward()  # elementwise: d(sum y)/dx_i = f'(x_i)
    return y.detach().numpy(), t.grad.numpy()


def plot_activation_functions(x_range=(-5.0, 5.0), points=401):
    """sigmoid, tanh, ReLU, leaky ReLU and softmax, each with its derivative."""
    import deepprimer as dp
    from deepprimer.nn import functional as F

    x = np.linspace(*x_range, points)
    panels = [
        ("sigmoid", dp.sigmoid, r"$\sigma(x) = 1 / (1 + e^{-x})$"),
        ("tanh", dp.tanh, r"$\tanh(x)$"),
        ("ReLU", dp.relu, r"$\max(0, x)$"),
        ("leaky ReLU", lambda t: F.leaky_relu(t, 0.1), r"$x$ if $x > 0$ else $0.1x$"),
    ]
    fig, axes = new_figure(ncols=5, width=3.4, height=3.2)
    for ax, (name, fn, formula) in zip(axes[0], panels):
        y, dy = _curve(fn, x)
        ax.plot(x, y, color=FORWARD_BLUE, label="f(x)")
        ax.plot(x, dy, color=BACKWARD_RED, linestyle="--", label="f'(x)")
        ax.set_title(f"{name}\n{formula}", fontsize=10)
    # softmax over three logits (x, 1, 0): how the first probability responds to its logit
    logits = np.stack([x, np.ones_like(x), np.zeros_like(x)], axis=1)
    t = dp.tensor(logits, requires_grad=True)
    p = F.softmax(t, dim=1)
    p[:, 0].sum().backward()
    ax = axes[0][4]
    ax.plot(x, p.detach().numpy()[:, 0], color=FORWARD_BLUE, label="softmax$_1$")
    ax.plot(x, p.detach().numpy()[:, 1], color=FORWARD_BLUE, alpha=0.4, label="softmax$_2$")
    ax.plot(x, t.grad.numpy()[:, 0], color=BACKWARD_RED, linestyle="--", label=r"$\partial$ softmax$_1 / \partial x$")
    ax.set_title("softmax of logits (x, 1, 0)\n" + r"$e^{x_i} / \sum_j e^{x_j}$", fontsize=10)
    for ax in axes[0]:
        ax.axhline(0, color="#999999", linewidth=0.5)
        ax.axvline(0, color="#999999", linewidth=0.5)
        ax.set_xlabel("x")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    fig.suptitle("Activation functions (blue) and their derivatives (red), computed by deepprimer")
    fig.tight_layout()
    return fig
