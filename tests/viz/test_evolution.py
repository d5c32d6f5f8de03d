"""Decision-boundary frames from weight snapshots: a grid figure and an animated GIF."""
import matplotlib.image as mpimg
import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

import deepprimer as dp
from deepprimer.models import MLP
from deepprimer.train.callbacks import snapshot
from deepprimer.viz.evolution import plot_boundary_frames, save_boundary_animation
from deepprimer.viz.style import save_figure

X = np.random.default_rng(0).normal(size=(40, 2)).astype(np.float32)
Y = (X[:, 0] > 0).astype(np.int64)


def snapshots(model, n=3):
    """n weight snapshots, each with the first layer scaled further (so the frames differ)."""
    frames = []
    for i in range(n):
        frames.append((f"frame {i}", snapshot(model)))
        model[0].weight.data *= 2.0
    return frames


def test_grid_of_frames_one_panel_each_and_model_restored(tmp_path):
    dp.manual_seed(0)
    model = MLP([2, 8, 2], activation="tanh")
    frames = snapshots(model)
    before = snapshot(model)
    fig = plot_boundary_frames(model, frames, X, Y, ncols=2, resolution=20, title="frames")
    assert isinstance(fig, Figure)
    titles = [ax.get_title() for ax in fig.axes if ax.axison]
    assert len(titles) == 3 and all(t.startswith(f"frame {i}\naccuracy") for i, t in enumerate(titles))
    assert all(np.array_equal(before[k], v) for k, v in snapshot(model).items())
    assert mpimg.imread(save_figure(fig, str(tmp_path / "frames.png"))).std() > 0.05


def test_gif_has_one_frame_per_snapshot(tmp_path):
    dp.manual_seed(0)
    model = MLP([2, 8, 2], activation="tanh")
    path = save_boundary_animation(model, snapshots(model, 4), X, Y, str(tmp_path / "b.gif"), resolution=20)
    with Image.open(path) as gif:
        assert gif.format == "GIF" and gif.n_frames == 4
        gif.seek(3)
        assert np.asarray(gif.convert("RGB")).std() > 10
    assert [p.name for p in tmp_path.iterdir()] == ["b.gif"]  # no temporary file left behind


def test_no_snapshots_is_refused():
    with pytest.raises(ValueError, match="no snapshots"):
        plot_boundary_frames(MLP([2, 2]), [], X, Y)
