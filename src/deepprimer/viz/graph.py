"""Computational graphs of scalar expressions: each node's value (blue) and gradient (red).

A :class:`deepprimer.scalar.Value` remembers the Values it was computed from; after
``root.backward()`` each node's ``grad`` holds d(root)/d(node). ``plot_computation_graph``
draws that record left to right: the inputs on the left, the root on the right, every
node a box with its name, its forward value ``data`` and its gradient ``grad``, and the
operation that made it in a small badge where its incoming arrows arrive.

The layout is computed here, in Python (no graphviz): a node's column is set by its
longest path to the root, so every input sits just before the first operation that needs
it; an arrow that skips columns is routed through an empty row slot of each column it
crosses; and the nodes of a column are ordered to keep arrows short (the barycentre
heuristic: place each node at the average height of its neighbours, sweeping back and forth).
"""
import numpy as np
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch
from matplotlib.path import Path

from ..scalar import topological_order
from .style import BACKWARD_RED, FORWARD_BLUE, new_figure

COLUMN_SPACING, ROW_SPACING = 2.2, 1.15  # inches between node centres
BOX_WIDTH, BOX_HEIGHT = 1.55, 0.82  # inches
OP_SYMBOLS = {"*": "×", "+": "+", "**2": "x²", "**-1": "1/x", "**0.5": "√x"}


def plot_computation_graph(root, title=None, value_format="{:.4g}", max_nodes=60):
    """Draw the graph that computed ``root`` (a scalar Value); returns the Figure.

    Call ``root.backward()`` first to show the gradients; before that they are all 0.
    Nodes are named by their ``label`` (set ``v.label = "z"``), or by their operation;
    a leaf with no label is a constant the expression used (the -1 of ``a - b = a + (-1) b``).
    """
    nodes = topological_order(root)
    if len(nodes) > max_nodes:
        raise ValueError(f"plot_computation_graph: {len(nodes)} nodes is too many to draw legibly "
                         f"(max_nodes={max_nodes}); draw a smaller expression")
    rows, routes = _layout(root, nodes)
    half_height = (max(len(row) for row in rows) - 1) / 2 * ROW_SPACING + BOX_HEIGHT / 2 + 0.1
    left, right = -BOX_WIDTH / 2 - 0.45, (len(rows) - 1) * COLUMN_SPACING + BOX_WIDTH / 2 + 0.05
    fig, axes = new_figure(width=right - left, height=2 * half_height)  # one data unit = one inch
    ax = axes[0][0]
    fig.subplots_adjust(left=0, right=1, bottom=0, top=1)
    ax.set_xlim(left, right)
    ax.set_ylim(-half_height, half_height)
    position = {key: (c * COLUMN_SPACING, ((len(row) - 1) / 2 - r) * ROW_SPACING)
                for c, row in enumerate(rows) for r, key in enumerate(row)}
    for node in nodes:
        for k, parent in enumerate(node.parents):
            _arrow(ax, position[id(parent)], [position[w] for w in routes[id(node), k]], position[id(node)])
    for node in nodes:
        _box(ax, node, position[id(node)], value_format)
    ax.axis("off")
    output = _name(root) if len(_name(root)) <= 8 else "output"
    ax.legend(handles=[Patch(color=FORWARD_BLUE, label="forward value (blue): data"),
                       Patch(color=BACKWARD_RED, label=f"gradient (red): d {output} / d node")],
              loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2, frameon=False, fontsize=10)
    if title:
        ax.set_title(title, fontsize=11)
    return fig


def _layout(root, nodes):
    """The nodes by column, each column ordered top to bottom, and the route of every arrow.

    An arrow that skips columns passes through a waypoint in each column it crosses; a
    waypoint takes a row slot as a node does, so no arrow runs behind a box. Returns
    ``rows`` (per column: a Value's id, or a waypoint key) and ``routes``
    ((id(child), k) -> the waypoints of the arrow from the child's k-th parent).
    """
    column = _columns(root, nodes)
    rows = [[] for _ in range(max(column.values()) + 1)]
    up, down = {}, {}  # each key's neighbours in the column before and in the column after
    for node in nodes:
        rows[column[id(node)]].append(id(node))
        up[id(node)], down[id(node)] = [], []
    routes = {}
    for node in nodes:
        for k, parent in enumerate(node.parents):
            waypoints = [("via", id(node), k, c) for c in range(column[id(parent)] + 1, column[id(node)])]
            for waypoint in waypoints:
                rows[waypoint[3]].append(waypoint)
                up[waypoint], down[waypoint] = [], []
            chain = [id(parent), *waypoints, id(node)]
            for a, b in zip(chain, chain[1:]):
                down[a].append(b)
                up[b].append(a)
            routes[id(node), k] = waypoints
    _order_rows(rows, up, down)
    return rows, routes


def _columns(root, nodes):
    """Column = (longest path from any node to the root) counted from the left."""
    distance = {id(root): 0}
    for node in reversed(nodes):  # the root first, every node before the Values it was made from
        for parent in node.parents:
            distance[id(parent)] = max(distance.get(id(parent), 0), distance[id(node)] + 1)
    deepest = max(distance.values())
    return {id(node): deepest - distance[id(node)] for node in nodes}


def _order_rows(rows, up, down, sweeps=4):
    """Order each column in place: left to right, each key moves to the mean height of its
    neighbours in the column before; then right to left, of those in the column after."""
    for _ in range(sweeps):
        for order, neighbours in ((rows, up), (rows[::-1], down)):
            for row in order:
                height = _heights(rows)
                row.sort(key=lambda key: -np.mean([height[n] for n in neighbours[key]] or [height[key]]))


def _heights(rows):
    """Each key's height in its column, centred so that columns of any size compare."""
    return {key: (len(row) - 1) / 2 - r for row in rows for r, key in enumerate(row)}


def _name(node):
    if node.label:
        return node.label
    return "const" if not node.parents else OP_SYMBOLS.get(node.op, node.op)


def _box(ax, node, xy, value_format):
    x, y = xy
    ax.add_patch(FancyBboxPatch((x - BOX_WIDTH / 2, y - BOX_HEIGHT / 2), BOX_WIDTH, BOX_HEIGHT,
                                boxstyle="round,pad=0.02,rounding_size=0.08", facecolor="white",
                                edgecolor="#555555", linewidth=1.2, zorder=3))
    name = _name(node)
    ax.text(x, y + 0.22, name, ha="center", va="center", fontsize=min(10.0, 160.0 / max(len(name), 1)),
            fontweight="bold", zorder=4)  # a long label gets a smaller font, to stay inside its box
    ax.text(x, y, "data " + value_format.format(node.data), ha="center", va="center",
            fontsize=9.5, color=FORWARD_BLUE, zorder=4)
    ax.text(x, y - 0.22, "grad " + value_format.format(node.grad), ha="center", va="center",
            fontsize=9.5, color=BACKWARD_RED, zorder=4)
    if node.parents:  # the operation, where the incoming arrows arrive
        badge = {"boxstyle": "round,pad=0.25", "facecolor": "#eeeeee", "edgecolor": "#555555"}
        ax.text(x - BOX_WIDTH / 2, y, OP_SYMBOLS.get(node.op, node.op), ha="center", va="center",
                fontsize=9, zorder=5, bbox=badge)


def _arrow(ax, start, waypoints, end):
    """From the right edge of the parent's box, level through each waypoint's row slot, to
    the child's operation badge."""
    points = [(start[0] + BOX_WIDTH / 2, start[1])]
    for x, y in waypoints:
        points += [(x - BOX_WIDTH / 2, y), (x + BOX_WIDTH / 2, y)]
    points.append((end[0] - BOX_WIDTH / 2 - 0.2, end[1]))
    ax.add_patch(FancyArrowPatch(path=Path(points), arrowstyle="-|>", mutation_scale=12, color="#777777",
                                 linewidth=1.1, zorder=2))
