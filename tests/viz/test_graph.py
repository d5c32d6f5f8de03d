"""plot_computation_graph: a Value's graph laid out in Python, values in blue, gradients in red."""
import itertools

import matplotlib.image as mpimg
import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from deepprimer.scalar import Value
from deepprimer.viz.graph import plot_computation_graph
from deepprimer.viz.style import BACKWARD_RED, FORWARD_BLUE, save_figure


def neuron():
    x, w, b = Value(2.0, label="x"), Value(-0.5, label="w"), Value(0.3, label="b")
    z = w * x + b
    z.label = "z"
    out = z.tanh()
    out.label = "out"
    out.backward()
    return out, (x, w, b, z)


def boxes(fig):
    return [p for p in fig.axes[0].patches if isinstance(p, FancyBboxPatch)]


def test_one_box_per_node_none_overlapping():
    out, _ = neuron()
    fig = plot_computation_graph(out, title="a neuron")
    assert isinstance(fig, Figure)
    found = boxes(fig)
    assert len(found) == 6  # x, w, w*x, b, z, out
    for a, b in itertools.combinations(found, 2):
        separate_x = a.get_x() + a.get_width() <= b.get_x() or b.get_x() + b.get_width() <= a.get_x()
        separate_y = a.get_y() + a.get_height() <= b.get_y() or b.get_y() + b.get_height() <= a.get_y()
        assert separate_x or separate_y


def test_values_in_blue_and_gradients_in_red():
    out, (x, w, b, z) = neuron()
    texts = {t.get_text(): t.get_color() for t in plot_computation_graph(out).axes[0].texts}
    for node in (x, w, b, z, out):
        assert texts[f"data {node.data:.4g}"] == FORWARD_BLUE
        assert texts[f"grad {node.grad:.4g}"] == BACKWARD_RED
    assert {"x", "w", "b", "z", "out", "tanh", "×", "+"} <= set(texts)  # names and operations


def test_columns_from_the_inputs_to_the_root_and_one_arrow_per_edge():
    out, _ = neuron()
    fig = plot_computation_graph(out)
    columns = {round(p.get_x() + p.get_width() / 2, 6) for p in boxes(fig)}
    assert len(columns) == 4  # x and w; w*x and b; z; out
    arrows = [p for p in fig.axes[0].patches if isinstance(p, FancyArrowPatch)]
    assert len(arrows) == 5  # x, w -> w*x; w*x, b -> z; z -> out


def test_arrows_that_skip_columns_go_around_the_boxes():
    a, b = Value(1.5, label="a"), Value(-2.0, label="b")
    d = (a * b + a).exp()  # a feeds a*b and, skipping a column, the sum
    e = d / (d + 1.0)  # d feeds the root directly, skipping two columns
    e.backward()
    fig = plot_computation_graph(e)
    def inside_a_box(x, y):
        return any(p.get_x() + 0.01 < x < p.get_x() + p.get_width() - 0.01
                   and p.get_y() < y < p.get_y() + p.get_height() for p in boxes(fig))

    for arrow in (p for p in fig.axes[0].patches if isinstance(p, FancyArrowPatch)):
        route = arrow._path_original.vertices  # in data coordinates (inches)
        for start, end in zip(route, route[1:]):
            assert not any(inside_a_box(*(start + t * (end - start))) for t in np.linspace(0.02, 0.98, 50))


def test_legend_names_the_colours():
    out, _ = neuron()
    legend = plot_computation_graph(out).axes[0].get_legend()
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels[0].startswith("forward value (blue)") and labels[1].startswith("gradient (red)")


def test_a_value_used_twice_and_a_constant(tmp_path):
    x = Value(3.0, label="x")
    y = x * x - 1.0
    y.backward()
    fig = plot_computation_graph(y)
    assert len(boxes(fig)) == 6  # x, x*x, the constants 1.0 and -1.0, their product, the sum
    assert "const" in [t.get_text() for t in fig.axes[0].texts]
    assert mpimg.imread(save_figure(fig, str(tmp_path / "g.png"))).std() > 0.05


def test_too_big_a_graph_is_refused():
    total = Value(0.0)
    for i in range(40):
        total = total + Value(float(i))
    with pytest.raises(ValueError, match="too many"):
        plot_computation_graph(total)
