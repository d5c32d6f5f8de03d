"""Networks drawn as the primer draws them: columns of neurons joined by weighted edges.

``plot_network`` takes the weight matrices (one (out, in) array per layer, as in
``nn.Linear``) and draws every neuron and every connection. Edges can be coloured by
their weights (the trained network) or labelled with their gradients (backpropagation);
neurons can carry their activation values.
"""
import numpy as np
import matplotlib
from matplotlib import cm, colors

from .style import BACKWARD_RED, FORWARD_BLUE, new_figure


def linear_weights(model):
    """The weight matrices of a model's Linear layers, in order (e.g. an MLP's)."""
    return [m.weight.data for m in model.modules() if type(m).__name__ == "Linear"]


def _positions(sizes, height=1.0):
    """x = layer index; neurons of a layer spread evenly around y = 0, the first on top."""
    span = max(sizes) - 1 or 1
    spacing = height / span
    return [
        [(i, ((n - 1) / 2 - j) * spacing) for j in range(n)]
        for i, n in enumerate(sizes)
    ]


def plot_network(weights, node_values=None, edge_values=None, layer_names=None, title=None,
                 node_format="{:.2f}", edge_format="{:.2f}", width=8.0, height=5.0):
    """Draw a fully connected network.

    weights      list of (n_out, n_in) arrays, one per layer
    node_values  optional list of 1-D arrays (inputs first): written on the neurons, in blue
    edge_values  optional list of arrays shaped like ``weights``: written on the edges, in
                 red (e.g. the gradients of the loss w.r.t. each weight); without them,
                 edges are coloured by weight (blue positive, red negative) and their width
                 grows with |w|
    """
    weights = [np.asarray(w) for w in weights]
    sizes = [weights[0].shape[1]] + [w.shape[0] for w in weights]
    pos = _positions(sizes)
    fig, axes = new_figure(width=width, height=height)
    ax = axes[0][0]
    biggest = max(float(np.abs(w).max()) for w in weights) or 1.0
    norm = colors.TwoSlopeNorm(vmin=-biggest, vcenter=0.0, vmax=biggest)
    cmap = matplotlib.colormaps["RdBu"]
    for layer, w in enumerate(weights):
        for j in range(w.shape[0]):
            for i in range(w.shape[1]):
                (x0, y0), (x1, y1) = pos[layer][i], pos[layer + 1][j]
                if edge_values is None:
                    ax.plot([x0, x1], [y0, y1], color=cmap(norm(w[j, i])), zorder=1,
                            linewidth=0.3 + 3.0 * abs(w[j, i]) / biggest, alpha=0.85)
                else:
                    ax.plot([x0, x1], [y0, y1], color="#bbbbbb", linewidth=1.0, zorder=1)
                    t = 0.3 + 0.4 * (i % 2)  # stagger labels so crossing edges stay readable
                    ax.annotate(edge_format.format(edge_values[layer][j, i]),
                                (x0 + t * (x1 - x0), y0 + t * (y1 - y0)), color=BACKWARD_RED,
                                fontsize=8, ha="center", va="center", zorder=3,
                                bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none", alpha=0.8))
    for layer, column in enumerate(pos):
        for j, (x, y) in enumerate(column):
            ax.scatter([x], [y], s=700 if node_values is not None else 250, color="white",
                       edgecolor=FORWARD_BLUE, linewidth=2, zorder=2)
            if node_values is not None:
                ax.text(x, y, node_format.format(node_values[layer][j]), color=FORWARD_BLUE,
                        fontsize=8, ha="center", va="center", zorder=4, fontweight="bold")
    names = layer_names or (["input"] + [f"hidden {k}" for k in range(1, len(sizes) - 1)] + ["output"])
    for layer, name in enumerate(names):
        ax.text(layer, 0.62, f"{name}\n({sizes[layer]})", ha="center", va="bottom", fontsize=9)
    if edge_values is None:
        fig.colorbar(cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, fraction=0.03, pad=0.02, label="weight")
    ax.set_xlim(-0.4, len(sizes) - 0.6)
    ax.set_ylim(-0.65, 0.85)
    ax.axis("off")
    if title:
        ax.set_title(title)
    return fig
