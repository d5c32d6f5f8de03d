"""Lab `learning` (the primer's exercise 3): visualizing the learning process.

A network learns out of sight; this lab makes it visible. It trains a tanh MLP on the
two-arm spiral and records, as it goes: the loss and accuracy curves, the decision
boundary every few epochs (a grid of frames and an animated GIF), every layer's
activations and gradients at an early and a late epoch, and a health check of each layer.
Then it shows why deep sigmoid networks are hard to train (vanishing gradients), and
opens the box completely: the computational graph of one neuron, each node's value and
gradient, checked against finite differences.
"""
import os

import numpy as np
from PIL import Image

import deepprimer as dp
from deepprimer import nn
from deepprimer.data import DataLoader, StandardScaler, TensorDataset, datasets, train_val_test_split
from deepprimer.models import MLP
from deepprimer.scalar import Value
from deepprimer.train import Callback, fit
from deepprimer.train.callbacks import snapshot
from deepprimer.train.health import network_health
from deepprimer.viz.curves import plot_history
from deepprimer.viz.evolution import plot_boundary_frames, save_boundary_animation
from deepprimer.viz.graph import plot_computation_graph
from deepprimer.viz.histograms import plot_histograms
from deepprimer.viz.style import new_figure

from .report import Report, format_table

SETTINGS = {  # quick draws fewer frames on a coarser grid; data, network and training are the same
    False: dict(frame_every=15, resolution=100),
    True: dict(frame_every=60, resolution=50),
}
POINTS, EPOCHS, HIDDEN, LR, MOMENTUM, BATCH = 600, 600, 64, 0.05, 0.9, 32
DEPTH = 10  # layers of the networks that show vanishing gradients
GRID_FRAMES = 8  # frames shown in the PNG grid (the GIF has them all)
ACTIVATIONS = (nn.Tanh, nn.Sigmoid, nn.ReLU)


def run(out_dir, quick=False, seed=0):
    cfg = SETTINGS[bool(quick)]
    dp.manual_seed(seed)
    report = Report("Lab 3: visualizing the learning process", out_dir, intro=(
        "Training is a loop of forward pass, loss, backward pass and update; this lab watches "
        "that loop from every side: the curves, the decision boundary as it forms, the "
        "signals inside each layer, the health of each layer, the gradients of a deep "
        "network, and the graph that backpropagation walks."))
    data = _spiral(POINTS, seed)
    model, history, recorder = _train(data, cfg["frame_every"], seed)
    _curves_section(report, history)
    _boundary_section(report, model, recorder, data, cfg)
    _signals_section(report, recorder)
    _health_section(report, recorder, data, seed)
    _vanishing_section(report, data, seed)
    _graph_section(report)
    return report


# ---- data and training --------------------------------------------------------------------------


def _spiral(points, seed):
    X, y = datasets.spiral(n=points, noise=0.2, seed=seed)
    X_train, X_val, _, y_train, y_val, _ = train_val_test_split(X, y, val_size=0.25, test_size=0, seed=seed)
    scaler = StandardScaler().fit(X_train)  # statistics of the training split only
    return dict(X_train=scaler.transform(X_train), y_train=y_train, X_val=scaler.transform(X_val), y_val=y_val)


class Recorder(Callback):
    """Watches ``fit``: the weights every ``every`` epochs (frames of the decision boundary),
    and at each of ``probe_epochs`` the layers' activations and gradients and the health."""

    def __init__(self, data, every, probe_epochs, epochs):
        self.data, self.every, self.probe_epochs, self.epochs = data, every, probe_epochs, epochs
        self.frames, self.signals, self.health = [], {}, {}

    def on_train_begin(self):
        self.frames.append(("epoch 0 (initial weights)", snapshot(self.run.model)))

    def on_epoch_end(self, epoch, logs):
        done = epoch + 1
        if done % self.every == 0:
            self.frames.append((f"epoch {done}", snapshot(self.run.model)))
            print(f"  epoch {done:4d}/{self.epochs}: loss {logs['loss']:.4f}, val loss {logs['val_loss']:.4f}, "
                  f"val accuracy {logs['val_accuracy']:.3f}")
        if done in self.probe_epochs:
            X, y = self.data["X_train"], self.data["y_train"]
            self.signals[done] = layer_signals(self.run.model, X, y)
            # with momentum beta, steps add up to lr / (1 - beta) times the gradient while it holds its direction
            self.health[done] = network_health(self.run.model, X, y, nn.CrossEntropyLoss(), LR / (1 - MOMENTUM))


def _train(data, frame_every, seed):
    dp.manual_seed(seed)
    model = MLP([2, HIDDEN, HIDDEN, 2], activation="tanh")
    optimizer = dp.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    scheduler = dp.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=EPOCHS)
    recorder = Recorder(data, frame_every, {1, EPOCHS}, EPOCHS)
    print(f"learning: spiral, {len(data['y_train'])} training / {len(data['y_val'])} validation points; "
          f"MLP 2-{HIDDEN}-{HIDDEN}-2 tanh; SGD lr {LR} momentum {MOMENTUM}, cosine schedule, {EPOCHS} epochs")
    history = fit(model, nn.CrossEntropyLoss(), optimizer,
                  DataLoader(TensorDataset(data["X_train"], data["y_train"]), batch_size=BATCH, shuffle=True),
                  DataLoader(TensorDataset(data["X_val"], data["y_val"]), batch_size=1024),
                  epochs=EPOCHS, scheduler=scheduler, callbacks=[recorder], verbose=0)
    return model, history, recorder


def layer_signals(model, X, y):
    """Each activation layer's output h, and the gradient d(loss)/dh of every example's loss.

    A forward hook sees each activation module's output; ``Tensor.register_hook`` on that
    output catches its gradient when ``backward`` passes through. The loss is summed, not
    averaged, so each row of the gradient is one example's own d(loss_i)/dh.
    """
    outputs, grads, handles = {}, {}, []
    layers = [m for m in model.modules() if isinstance(m, ACTIVATIONS)]
    for number, module in enumerate(layers, start=1):
        name = f"layer {number} ({type(module).__name__})"

        def watch(module, args, output, name=name):
            outputs[name] = output.data.copy()
            output.register_hook(lambda grad: grads.__setitem__(name, grad.data.copy()))

        handles.append(module.register_forward_hook(watch))
    try:
        nn.CrossEntropyLoss(reduction="sum")(model(dp.tensor(X)), dp.tensor(y)).backward()
    finally:
        for handle in handles:
            handle.remove()
        model.zero_grad()
    return {"activations": outputs, "gradients": grads}


# ---- the report's sections ----------------------------------------------------------------------


def _curves_section(report, history):
    loss, val_loss, val_acc = history["loss"], history["val_loss"], history["val_accuracy"]
    best = int(np.argmax(val_acc))
    reached = next((epoch + 1 for epoch, acc in enumerate(val_acc) if acc >= 0.8), None)
    print(f"final: training loss {loss[-1]:.4f}, validation loss {val_loss[-1]:.4f}, "
          f"validation accuracy {val_acc[-1]:.3f} (best {val_acc[best]:.3f} at epoch {best + 1})")
    report.heading("Learning curves")
    report.text(
        f"A 2-{HIDDEN}-{HIDDEN}-2 tanh MLP learns to separate the two arms of a spiral, trained with SGD "
        f"(learning rate {LR}, momentum {MOMENTUM}, cosine schedule, batches of {BATCH}) for {EPOCHS} epochs. "
        f"The training loss fell from {loss[0]:.4f} after the first epoch to {loss[-1]:.4f}; the validation "
        f"loss from {val_loss[0]:.4f} to {val_loss[-1]:.4f}. Validation accuracy ended at {val_acc[-1]:.3f} "
        f"(best {val_acc[best]:.3f}, epoch {best + 1}), training accuracy at {history['accuracy'][-1]:.3f}. "
        + (f"Validation accuracy first reached 0.8 at epoch {reached}: before that the curves sit on a plateau "
           "while the network's boundary is still too simple to follow the arms (compare the frames below)."
           if reached else "Validation accuracy never reached 0.8."))
    report.figure(plot_history(history, metrics=["accuracy"], title="Training and validation curves"),
                  "learning_curves.png", "Loss and accuracy per epoch, training (blue) and validation (orange).")
    report.check("final validation accuracy >= 0.9", val_acc[-1], val_acc[-1] >= 0.9)
    report.check("final training loss < half the first epoch's", loss[-1], loss[-1] < 0.5 * loss[0])


def _boundary_section(report, model, recorder, data, cfg):
    frames, X, y, resolution = recorder.frames, data["X_train"], data["y_train"], cfg["resolution"]
    path = save_boundary_animation(model, frames, X, y, os.path.join(report.out_dir, "boundary_evolution.gif"),
                                   resolution=resolution)
    with Image.open(path) as gif:
        gif_frames = gif.n_frames
    picks = np.unique(np.linspace(0, len(frames) - 1, GRID_FRAMES).round().astype(int))
    print(f"decision boundary: {len(frames)} frames (every {cfg['frame_every']} epochs) -> {path}")
    report.heading("The decision boundary, epoch by epoch")
    report.text(
        f"Every {cfg['frame_every']} epochs a callback copied the network's weights; each copy was then loaded "
        f"back and evaluated on a {resolution} x {resolution} grid covering the data. The background colour "
        "mixes the class colours by the predicted probabilities (pale where the network hesitates), the black "
        "line is the decision boundary, and each frame's title gives the accuracy on the training points drawn "
        f"(ringed: misclassified). The animation has {gif_frames} frames, from the initial weights to the end "
        f"of training; the grid shows {len(picks)} of them. The boundary starts as a nearly straight line (a "
        "freshly initialised network is almost linear) and winds along the arms as training proceeds.")
    report.image("boundary_evolution.gif", f"The decision boundary during training ({gif_frames} frames).")
    report.figure(plot_boundary_frames(model, [frames[i] for i in picks], X, y, resolution=resolution,
                                       title="The decision boundary during training (training points)"),
                  "boundary_frames.png", f"{len(picks)} frames of the animation.")
    report.check(f"the GIF has one frame per recorded epoch ({len(frames)})", gif_frames, gif_frames == len(frames))


def _signals_section(report, recorder):
    probes = {e: recorder.signals[e] for e in (min(recorder.signals), max(recorder.signals))}
    first, last = probes
    names = list(probes[first]["activations"])
    activations = {n: {f"epoch {e}": p["activations"][n] for e, p in probes.items()} for n in names}
    magnitudes = {n: {f"epoch {e}": np.log10(np.maximum(np.abs(p["gradients"][n]), 1e-12)) for e, p in probes.items()}
                  for n in names}
    saturated = {e: [float((np.abs(p["activations"][n]) > 0.97).mean()) for n in names] for e, p in probes.items()}
    centre = {e: [float(magnitudes[n][f"epoch {e}"].mean()) for n in names] for e in probes}
    spread = {e: [float(magnitudes[n][f"epoch {e}"].std()) for n in names] for e in probes}
    usual = sum(centre[last]) < sum(centre[first]) and sum(spread[last]) > sum(spread[first])
    print("saturated tanh activations: "
          + "; ".join(f"epoch {e}: {_per_layer(names, s, '{:.1%}')}" for e, s in saturated.items()))
    report.heading("Inside the layers: activations and gradients")
    report.text(
        "Forward hooks caught the output h of each tanh layer on the whole training set, and a hook on that "
        "output (`Tensor.register_hook`) caught the gradient d(loss_i)/dh of each example's loss, after epoch "
        f"{first} and after epoch {last}. Saturated activations, |h| > 0.97 (where tanh' = 1 - h^2 < 0.06): "
        f"after epoch {first} {_per_layer(names, saturated[first], '{:.1%}')}; after epoch {last} "
        f"{_per_layer(names, saturated[last], '{:.1%}')}: as the network commits to its answers, "
        f"{'more' if sum(saturated[last]) > sum(saturated[first]) else 'fewer'} units sit on the flat tails of "
        "tanh, at +-1.\n\n"
        "Gradients span many orders of magnitude, so their histograms show log10 |gradient|. The gradient of the "
        "cross-entropy with respect to the logits is p - (one-hot target): near 0 for an example classified "
        "correctly and confidently, near 1 for one that is confidently wrong. Mean log10 |gradient| after epoch "
        f"{first}: {_per_layer(names, centre[first], '{:.2f}')}; after epoch {last}: "
        f"{_per_layer(names, centre[last], '{:.2f}')}. Standard deviation: {_per_layer(names, spread[first], '{:.2f}')}"
        f", then {_per_layer(names, spread[last], '{:.2f}')}. "
        + ("Most examples now send back far smaller gradients, while a tail of hard ones still sends large ones."
           if usual else "This run does not show the usual pattern (most examples' gradients shrinking, a tail "
                         "of hard ones staying large)."))
    report.figure(plot_histograms(activations, xlabel="activation h", title="Activations of each tanh layer"),
                  "activations.png", f"Each tanh layer's activations after epoch {first} and {last}.")
    report.figure(plot_histograms(magnitudes, xlabel="log10 |d loss_i / dh|",
                                  title="Gradient magnitudes at each tanh layer's output (log scale)"),
                  "gradients.png", f"Each layer's gradient magnitudes (log10) after epoch {first} and {last}.")


def _per_layer(names, values, fmt):
    """'layer 1 12.0%, layer 2 8.8%' from names like 'layer 1 (Tanh)'."""
    return ", ".join(f"{name.split(' (')[0]} {fmt.format(v)}" for name, v in zip(names, values))


def _health_section(report, recorder, data, seed):
    first, last = min(recorder.health), max(recorder.health)
    header = ["epoch"] + recorder.health[first].header
    rows = [[str(e)] + row for e in (first, last) for row in recorder.health[e].rows()]
    print(format_table(header, rows))
    report.heading("Network health")
    report.text(
        "`network_health` runs one forward and backward pass on the training set and reports, per weight layer: "
        "the share of saturated tanh/sigmoid activations, the share of dead ReLU units (never active on the "
        "batch), the norm of the weight gradient, and the update-to-weight ratio (update/weight) lr x |grad| / |W| "
        "(here with the effective learning rate of SGD with momentum, lr / (1 - momentum) = "
        f"{LR / (1 - MOMENTUM):.2g}). "
        "The rule of thumb puts that ratio near 1e-3; it warns below 1e-4 or above 1e-2.")
    report.table(header, rows)
    report.text("\n\n".join(_warnings_text(f"after epoch {e}", recorder.health[e].warnings) for e in (first, last)))
    broken = _broken_networks(data, seed)
    rows = [[name] + row for name, health in broken.items() for row in health.rows()]
    print(format_table(["network"] + header[1:], rows))
    report.text("Two sick networks of the same shape show what the warnings are for: one initialised with "
                "weights 5 times too large (its tanh units saturate), and a ReLU network after one epoch of plain "
                "SGD at learning rate 2 (too large a step: units are pushed to where they never fire again).")
    report.table(["network"] + header[1:], rows)
    report.text("\n\n".join(_warnings_text(name, health.warnings) for name, health in broken.items()))
    saturated_warnings = sum("saturated" in w for w in broken["tanh, weights x5"].warnings)
    dead = max(layer.dead or 0.0 for layer in broken["ReLU, SGD lr 2"].layers)
    report.check("health table: one row per weight layer (3)", len(recorder.health[last].layers),
                 len(recorder.health[last].layers) == 3)
    report.check("the too-large-weights net gets a saturation warning", saturated_warnings, saturated_warnings >= 1)
    report.check("the lr-2 ReLU net has > 10% dead units in some layer, flagged", dead,
                 dead > 0.1 and any("never fire" in w for w in broken["ReLU, SGD lr 2"].warnings))


def _warnings_text(name, warnings):
    if not warnings:
        return f"**{name}**: no warnings."
    return f"**{name}**:\n\n" + "\n".join(f"- {w}" for w in warnings)


def _broken_networks(data, seed):
    X, y, loss_fn = data["X_train"], data["y_train"], nn.CrossEntropyLoss()
    dp.manual_seed(seed)
    saturated = MLP([2, HIDDEN, HIDDEN, 2], activation="tanh")
    for p in saturated.parameters():
        p.data *= 5.0
    dp.manual_seed(seed)
    dead = MLP([2, HIDDEN, HIDDEN, 2], activation="relu")
    fit(dead, loss_fn, dp.optim.SGD(dead.parameters(), lr=2.0),
        DataLoader(TensorDataset(X, y), batch_size=BATCH, shuffle=True), epochs=1, metrics=(), verbose=0)
    return {"tanh, weights x5": network_health(saturated, X, y, loss_fn, LR / (1 - MOMENTUM)),
            "ReLU, SGD lr 2": network_health(dead, X, y, loss_fn, 2.0)}


def _vanishing_section(report, data, seed):
    depth, X, y = DEPTH, data["X_train"], data["y_train"]
    health = {}
    for activation in ("sigmoid", "tanh", "relu"):
        dp.manual_seed(seed)
        net = MLP([2] + [32] * (depth - 1) + [2], activation=activation)
        for module in net.modules():
            if isinstance(module, nn.Linear):  # the same Glorot initialisation for all three
                nn.init.xavier_normal_(module.weight)
                nn.init.zeros_(module.bias)
        health[activation] = network_health(net, X, y, nn.CrossEntropyLoss(), LR)
    norms = {a: [layer.grad_norm for layer in h.layers] for a, h in health.items()}
    ratio = {a: n[0] / n[-1] for a, n in norms.items()}
    print("vanishing gradients, first/last layer gradient norm: "
          + ", ".join(f"{a} {r:.2e}" for a, r in ratio.items()))
    fig, axes = new_figure(width=7.0, height=4.2)
    ax = axes[0][0]
    for activation, values in norms.items():
        ax.plot(range(1, depth + 1), values, marker="o", label=f"{activation} (first/last {ratio[activation]:.1e})")
    ax.set(yscale="log", xlabel="layer (1 = next to the input)", ylabel="||d loss / d W|| (log scale)",
           title=f"Gradient norm per layer of a {depth}-layer MLP at initialisation")
    ax.set_xticks(range(1, depth + 1))
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    report.heading("Vanishing gradients: a deep sigmoid network")
    report.text(
        f"Three {depth}-layer MLPs (width 32), identical except for the activation, all with Glorot "
        "initialisation and zero biases, one backward pass on the training set. Backpropagation multiplies the "
        "gradient, layer after layer, by W^T and by the activation's derivative; the sigmoid's derivative "
        "s(1 - s) is at most 1/4, so in the sigmoid network the gradient shrinks by a roughly constant factor "
        f"per layer: its first layer's gradient norm is {ratio['sigmoid']:.2e} times its last layer's. "
        f"tanh (derivative 1 at 0) keeps a ratio of {ratio['tanh']:.2e}, ReLU (derivative 1 where active) "
        f"{ratio['relu']:.2e}. `network_health` notices it:\n\n"
        + _warnings_text(f"{depth}-layer sigmoid net",
                         [w for w in health["sigmoid"].warnings if w.startswith("vanishing")]))
    report.table(["layer"] + list(norms), [[str(i + 1)] + [f"{norms[a][i]:.3g}" for a in norms] for i in range(depth)])
    report.figure(fig, "vanishing_gradients.png",
                  "Weight-gradient norm per layer at initialisation, log scale: sigmoid falls by orders of magnitude.")
    report.check("sigmoid: first-layer gradient < 1e-3 x last layer's", ratio["sigmoid"], ratio["sigmoid"] < 1e-3)
    report.check("ReLU: first-layer gradient > 1e-2 x last layer's", ratio["relu"], ratio["relu"] > 1e-2)


# ---- the computational graph --------------------------------------------------------------------

NEURON = {"x1": 2.0, "x2": -1.0, "w1": -0.5, "w2": 0.8, "b": 0.3, "y": 1.0}


def neuron_loss(values):
    """L = (tanh(w1 x1 + w2 x2 + b) - y)^2 built from scalar Values; returns (L, {name: leaf})."""
    leaf = {name: Value(v, label=name) for name, v in values.items()}
    w1x1 = _named(leaf["w1"] * leaf["x1"], "w1·x1")
    w2x2 = _named(leaf["w2"] * leaf["x2"], "w2·x2")
    z = _named(_named(w1x1 + w2x2, "w1·x1 + w2·x2") + leaf["b"], "z")
    a = _named(z.tanh(), "a = tanh(z)")
    error = _named(a + _named(-leaf["y"], "−y"), "a − y")  # subtraction is adding (-1) y
    return _named(error ** 2, "L"), leaf


def _named(value, label):
    value.label = label
    return value


def _graph_section(report, step=1e-6):
    loss, leaf = neuron_loss(NEURON)
    loss.backward()
    rows, worst = [], 0.0
    for name, value in leaf.items():
        up, down = dict(NEURON, **{name: NEURON[name] + step}), dict(NEURON, **{name: NEURON[name] - step})
        numeric = (neuron_loss(up)[0].data - neuron_loss(down)[0].data) / (2 * step)
        worst = max(worst, abs(numeric - value.grad))
        rows.append([name, f"{value.data:.4g}", f"{value.grad:.6f}", f"{numeric:.6f}",
                     f"{abs(numeric - value.grad):.1e}"])
    print(f"computational graph: L = {loss.data:.4f}; largest |backward - finite difference| = {worst:.2e}")
    report.heading("The computational graph of one neuron")
    report.text(
        "Backpropagation, on one neuron with scalar `Value`s: L = (tanh(w1 x1 + w2 x2 + b) - y)^2 with "
        + ", ".join(f"{k} = {v:g}" for k, v in NEURON.items()) + f", so L = {loss.data:.4f}. Each box shows a "
        "value from the forward pass (blue) and, after `L.backward()`, the gradient dL/d(node) (red): the chain "
        "rule multiplies a node's gradient by each local derivative on the way back. The table checks every "
        "input's gradient against a central finite difference (L(v + h) - L(v - h)) / 2h with h = {step:g}.")
    report.figure(plot_computation_graph(loss, title="L = (tanh(w1·x1 + w2·x2 + b) − y)²"),
                  "computation_graph.png", "The computational graph: forward values (blue), gradients (red).")
    report.table(["input", "value", "dL/d (backward)", "finite difference", "difference"], rows)
    report.check("graph gradients = finite differences (max abs diff < 1e-6)", worst, worst < 1e-6)
