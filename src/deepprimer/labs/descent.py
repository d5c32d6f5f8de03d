"""Lab ``descent`` (the primer's exercise 2): exploring gradient descent.

Four parts, each run for real:

1. SGD, momentum, RMSprop and Adam from ``dp.optim`` race on four 2-D surfaces (an
   ill-conditioned quadratic, Rosenbrock, Beale, a saddle): their paths over the contour
   lines and their loss per step.
2. The learning rate on a real model (an MLP on the 8x8 digits): too low, good, too high.
3. The batch size: 1 vs 32 vs the full training set, against epochs and wall-clock time,
   and how noisy the mini-batch gradient is at each size.
4. A learning-rate range test that suggests a rate, then training with it.
"""
import math

import numpy as np
from matplotlib.ticker import MaxNLocator

import deepprimer as dp
from deepprimer import nn
from deepprimer.data import DataLoader, datasets, train_val_test_split
from deepprimer.models import MLP
from deepprimer.train import Callback, evaluate, fit
from deepprimer.train.lr_finder import lr_range_test
from deepprimer.viz.lr_finder import plot_lr_range_test
from deepprimer.viz.style import new_figure
from deepprimer.viz.trajectories import plot_losses, plot_trajectories

from .report import Report
from .surfaces import BEALE, QUADRATIC, ROSENBROCK, SADDLE, SURFACES

OPTIMIZERS = {
    "SGD": lambda params, lr: dp.optim.SGD(params, lr=lr),
    "Momentum": lambda params, lr: dp.optim.SGD(params, lr=lr, momentum=0.9),
    "RMSprop": lambda params, lr: dp.optim.RMSprop(params, lr=lr),
    "Adam": lambda params, lr: dp.optim.Adam(params, lr=lr),
}
# Per surface and optimizer, chosen by hand from a half-decade grid (1e-4, 3e-4, ..., 1) as
# about the best rate for that optimizer there. SGD and momentum are limited by the steepest
# curvature (plain SGD diverges for lr > 2 / curvature); RMSprop and Adam step about lr per
# coordinate whatever the gradient's size, so their rates are on the scale of the distances.
RATES = {
    QUADRATIC.name: {"SGD": 0.019, "Momentum": 0.003, "RMSprop": 0.03, "Adam": 0.1},
    ROSENBROCK.name: {"SGD": 0.002, "Momentum": 0.003, "RMSprop": 0.01, "Adam": 0.3},
    BEALE.name: {"SGD": 0.03, "Momentum": 0.01, "RMSprop": 0.01, "Adam": 0.1},
    SADDLE.name: {"SGD": 0.1, "Momentum": 0.03, "RMSprop": 0.01, "Adam": 0.03},
}
SURFACE_STEPS = 1000
NEAR = 1e-3  # "at the minimum": within this distance of it
LR_TRIALS = {"too low": 0.005, "good": 0.5, "too high": 5.0}
BATCH_LR = 0.1
NOISE_DRAWS = 200  # random batches over which the gradient noise is averaged
RANGE_TEST = {"start_lr": 1e-4, "end_lr": 100.0, "num_steps": 200, "smooth": 0.05, "diverge_factor": 4}
HIDDEN = 64  # hidden ReLUs of the digits MLP
CHANCE = math.log(10)  # cross-entropy of a uniform guess over 10 digits


INTRO = """The primer's second exercise: watch gradient descent work. Every optimizer here is the
library's own (`dp.optim.SGD`, `SGD(momentum=0.9)`, `RMSprop`, `Adam`), stepping on real
tensors; every number below comes from this run.

The update rules, for a parameter vector $w$ with gradient $g$ and learning rate $lr$:

- **SGD**: `w = w - lr * g`
- **Momentum**: `v = 0.9 v + g`, `w = w - lr * v`: a heavy ball, fast where gradients agree, damped where they flip
- **RMSprop**: `s = 0.99 s + 0.01 g^2`, `w = w - lr * g / (sqrt(s) + eps)`: each coordinate scaled by its recent size
- **Adam**: both averages, of $g$ and of $g^2$, bias-corrected: `w = w - lr * m_hat / (sqrt(v_hat) + eps)`"""


def run(out_dir, quick=False, seed=0):
    epochs = 12 if quick else 30
    batch_epochs = 4 if quick else 20
    report = Report("Exploring gradient descent", out_dir, intro=INTRO)
    race = surfaces_part(report)
    data = digits_data(seed)
    trials = learning_rate_part(report, data, epochs, seed)
    batches = batch_size_part(report, data, batch_epochs, seed)
    finder = range_test_part(report, data, epochs, seed, trials)
    add_checks(report, race, trials, batches, finder, quick)
    return report


# ---- part 1: the race on 2-D surfaces -------------------------------------------------------
def descend(surface, make_optimizer, lr, steps):
    """Run one optimizer from the surface's start; return (path (steps+1, 2), loss per point)."""
    point = dp.tensor(surface.start, dtype=dp.float64, requires_grad=True)
    optimizer = make_optimizer([point], lr)
    path, losses = [point.detach().numpy().copy()], []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = surface(point)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        path.append(point.detach().numpy().copy())
    with dp.no_grad():
        losses.append(surface(point).item())
    return np.array(path), np.array(losses)


def first_step(condition):
    """The first step at which ``condition`` holds, or None if it never does."""
    hits = np.flatnonzero(condition)
    return int(hits[0]) if hits.size else None


def escape_step(result):
    """The first step at which a saddle path is 0.5 or more away from the ridge y = 0 (None: never)."""
    return first_step(np.abs(result["path"][:, 1]) > 0.5)


def surfaces_part(report, steps=SURFACE_STEPS):
    print(f"part 1: four optimizers, {steps} steps on each of four 2-D surfaces")
    report.heading("1. Four optimizers racing on four surfaces")
    report.text(f"Each optimizer starts from the same point and takes {steps} steps on a loss of two "
                "numbers (x, y), a float64 tensor of shape (2,). The learning rates (below) were picked "
                "per surface from a grid 1e-4, 3e-4, ..., 1 as about the best for each optimizer there, "
                "so the race compares optimizers, not badly tuned ones.")
    report.table(["surface", "formula", "start", *OPTIMIZERS],
                 [[s.name, s.formula, f"({s.start[0]:g}, {s.start[1]:g})",
                   *(f"lr {RATES[s.name][o]:g}" for o in OPTIMIZERS)]
                  for s in SURFACES])
    race, rows = {}, []
    for surface in SURFACES:
        race[surface.name] = {}
        for name, make in OPTIMIZERS.items():
            lr = RATES[surface.name][name]
            path, losses = descend(surface, make, lr, steps)
            distance = np.array([surface.distance_to_minimum(p) for p in path])
            result = {"path": path, "gap": surface.gap(losses), "distance": distance,
                      "reached": first_step(distance < NEAR)}
            race[surface.name][name] = result
            reached = "never" if result["reached"] is None else str(result["reached"])
            rows.append([surface.name, name, lr, float(result["gap"][-1]), float(distance[-1]), reached])
            print(f"  {surface.name:26s} {name:9s} lr {lr:<6g} f - f_min {result['gap'][-1]:.3e}  "
                  f"distance {distance[-1]:.3e}  within {NEAR:g} at step {reached}")
    report.table(["surface", "optimizer", "lr", f"f - f_min after {steps} steps", "distance to minimum",
                  f"first step within {NEAR:g} of the minimum"], rows)
    fig, axes = new_figure(ncols=2, nrows=2, width=6.4, height=4.6)
    for ax, surface in zip(axes.flat, SURFACES):
        paths = {f"{name} (lr {RATES[surface.name][name]:g})": r["path"] for name, r in race[surface.name].items()}
        plot_trajectories(surface, paths, ax=ax, title=f"{surface.name}: {steps} steps")
    fig.suptitle("Optimizer paths over the contour lines of f - f_min (square: start, star: minimum, dot: end)")
    fig.tight_layout()
    report.figure(fig, "trajectories.png",
                  "Paths of the four optimizers on each surface. Contour lines are log-spaced in f - f_min, so the "
                  "flat floor near the minimum is drawn as finely as the steep walls.")
    fig, axes = new_figure(ncols=2, nrows=2, width=6.0, height=3.8)
    for ax, surface in zip(axes.flat, SURFACES):
        plot_losses({name: r["gap"] for name, r in race[surface.name].items()}, ax=ax, floor=1e-16,
                    title=surface.name, ylabel="f - f_min (log scale)")
    fig.suptitle("Loss per step, as the distance above the minimum (cut off at 1e-16, float64 round-off)")
    fig.tight_layout()
    report.figure(fig, "losses.png", "f - f_min after each step, log scale: a straight falling line is a "
                                     "constant rate of progress (linear convergence).")
    report.text(race_story(race, steps))
    return race


def race_story(race, steps):
    """What the race showed, in numbers from it."""
    def when(step):
        return f"never in {steps} steps" if step is None else f"step {step}"

    def distances(surface):
        return ", ".join(f"{name} {r['distance'][-1]:.2g}" for name, r in race[surface.name].items())

    quad = race[QUADRATIC.name]
    rmsprop = quad["RMSprop"]["distance"]
    quadratic = (
        f"- **Ill-conditioned quadratic**: the curvature across the valley is 100 times that along it. SGD's "
        f"rate must stay below 2/100 or it diverges across, so it crawls along: within {NEAR:g} of the minimum "
        f"at {when(quad['SGD']['reached'])}. Momentum ({when(quad['Momentum']['reached'])}) keeps speed along the "
        f"valley while its zigzags cancel; Adam ({when(quad['Adam']['reached'])}) rescales each coordinate, which "
        f"undoes this axis-aligned stretch. RMSprop came as close as {rmsprop.min():.2g} but ended "
        f"{rmsprop[-1]:.2g} away: it divides each step by a running RMS of the gradient that forgets within "
        f"about 100 steps, so as the gradient vanishes its steps do not shrink with it, and with a constant "
        f"rate it can overshoot and burst away again (the spikes in its loss curves).")
    rosenbrock = (
        f"- **Rosenbrock**: the floor of the curved valley is nearly flat. Distances to (1, 1) after {steps} "
        f"steps: {distances(ROSENBROCK)}.")
    beale = f"- **Beale**: distances to (3, 0.5) after {steps} steps: {distances(BEALE)}."
    escapes = ", ".join(f"{name} {when(escape_step(r))}" for name, r in race[SADDLE.name].items())
    saddle = (
        f"- **Saddle**: the start is {SADDLE.start[1]:g} off the ridge y = 0, where the gradient that leads "
        f"away is tiny. First step with abs(y) > 0.5: {escapes}. RMSprop and Adam divide the small gradient "
        f"by its own running size, so they leave at once; SGD and momentum have to wait for it to grow.")
    return f"{quadratic}\n{rosenbrock}\n{beale}\n{saddle}"


# ---- the real model ------------------------------------------------------------------------
def digits_data(seed):
    """The 8x8 digits, flattened to 64 features in [0, 1], split 70/15/15."""
    X, y = datasets.digits(flatten=True)
    X_train, X_val, X_test, y_train, y_val, y_test = train_val_test_split(X, y, seed=seed)
    print(f"digits: {len(X_train)} training, {len(X_val)} validation, {len(X_test)} test images")
    return {"train": (X_train, y_train), "val": (X_val, y_val), "test": (X_test, y_test)}


def fresh_model(seed):
    """The same MLP with the same initial weights every time, so runs differ only in what we vary."""
    dp.manual_seed(seed)
    return MLP([64, HIDDEN, 10])


def dead_units(model, X):
    """How many hidden ReLUs output 0 for every image in X: 'dead' units, which pass no gradient."""
    with dp.no_grad():
        hidden = model[1](model[0](dp.tensor(X))).numpy()
    return int((hidden.max(axis=0) == 0).sum())


class BatchLosses(Callback):
    """Keeps every mini-batch loss (``fit`` itself logs only the per-epoch averages)."""

    def __init__(self):
        self.losses = []

    def on_batch_end(self, step, logs):
        self.losses.append(logs["loss"])


def train(model, optimizer, data, batch_size, epochs, callbacks=()):
    loader = DataLoader(data["train"], batch_size=batch_size, shuffle=True)
    val = DataLoader(data["val"], batch_size=512)
    return fit(model, nn.CrossEntropyLoss(), optimizer, loader, val, epochs=epochs, callbacks=callbacks, verbose=0)


# ---- part 2: the learning rate ---------------------------------------------------------------
def learning_rate_part(report, data, epochs, seed):
    print(f"part 2: three learning rates, {epochs} epochs each")
    report.heading("2. The learning rate on a real model")
    report.text(f"A 64-64-10 ReLU MLP learns the 8x8 handwritten digits with plain SGD, batches of 32, "
                f"{epochs} epochs, from the same initial weights each time; only the learning rate changes.")
    trials = {}
    for label, lr in LR_TRIALS.items():
        model = fresh_model(seed)
        history = train(model, dp.optim.SGD(model.parameters(), lr=lr), data, 32, epochs)
        trials[label] = {"lr": lr, "loss": np.array(history["loss"]), "val_accuracy": np.array(history["val_accuracy"]),
                             "dead": dead_units(model, data["train"][0])}
        print(f"  lr {lr:<6g} ({label}): training loss per epoch {history['loss'][0]:.3f} -> "
              f"{history['loss'][-1]:.3f}, validation accuracy {history['val_accuracy'][-1]:.3f}, "
              f"dead hidden units {trials[label]['dead']}/{HIDDEN}")
    report.table(["", "lr", "training loss, epoch 1", f"training loss, epoch {epochs}", "validation accuracy",
                  f"dead hidden units (of {HIDDEN})"],
                 [[label, t["lr"], float(t["loss"][0]), float(t["loss"][-1]), float(t["val_accuracy"][-1]), t["dead"]]
                  for label, t in trials.items()])
    fig, axes = new_figure(ncols=2, width=5.6, height=4.0)
    epoch_axis = np.arange(1, epochs + 1)
    named = {f"lr {t['lr']:g} ({label})": t for label, t in trials.items()}
    plot_losses({name: t["loss"] for name, t in named.items()}, ax=axes[0][0], x=epoch_axis, xlabel="epoch",
                ylabel="training cross-entropy (log scale)", title="Training loss per epoch",
                reference=(CHANCE, f"ln 10 = {CHANCE:.2f}: a uniform guess"))
    plot_losses({name: t["val_accuracy"] for name, t in named.items()}, ax=axes[0][1], x=epoch_axis,
                xlabel="epoch", ylabel="validation accuracy", title="Validation accuracy", log=False,
                reference=(0.1, "chance (0.1)"))
    fig.suptitle("Same model, same start, three learning rates (plain SGD, batch 32)")
    fig.tight_layout()
    report.figure(fig, "learning_rates.png", "Too low: the loss barely moves. Good: it falls fast and steadily. "
                                             "Too high: the first steps overshoot and the network ends no better "
                                             "than a uniform guess.")
    low, good, high = trials["too low"], trials["good"], trials["too high"]
    dead = ("all of its hidden ReLUs output zero for every training image, so no gradient reaches the first "
            "layer any more and only the output biases still learn" if high["dead"] == HIDDEN else
            f"{high['dead']} of its {HIDDEN} hidden ReLUs output zero for every training image")
    report.text(f"With lr {low['lr']:g} the loss fell only from {low['loss'][0]:.3f} to {low['loss'][-1]:.3f} "
                f"in {epochs} epochs: each step is too small. With lr {good['lr']:g} it reached "
                f"{good['loss'][-1]:.3f} (validation accuracy {good['val_accuracy'][-1]:.3f}). With lr "
                f"{high['lr']:g} the steps overshoot: the first epoch averaged {high['loss'][0]:.3f}, and the "
                f"network ended at {high['loss'][-1]:.3f}, next to ln 10 = {CHANCE:.3f}, the loss of "
                f"predicting every digit with probability 0.1. The overshooting steps broke it: {dead}.")
    return trials


# ---- part 3: the batch size --------------------------------------------------------------------
def flat_gradient(model, X, y):
    """d(mean cross-entropy over X)/d(every weight), as one vector."""
    model.zero_grad()
    nn.CrossEntropyLoss()(model(dp.tensor(X)), dp.tensor(y)).backward()
    return np.concatenate([p.grad.numpy().ravel() for p in model.parameters()])


def gradient_noise(model, data, batch_size, draws, rng):
    """Mean of ‖g_batch - g_full‖ / ‖g_full‖ over random batches: how far a mini-batch gradient
    points from the full-batch one (0 for the full batch; it shrinks like 1/sqrt(batch size))."""
    X, y = data["train"]
    full = flat_gradient(model, X, y)
    if batch_size >= len(X):
        return 0.0
    deviations = []
    for _ in range(draws):
        index = rng.choice(len(X), size=batch_size, replace=False)
        deviations.append(np.linalg.norm(flat_gradient(model, X[index], y[index]) - full))
    return float(np.mean(deviations) / np.linalg.norm(full))


def batch_size_part(report, data, epochs, seed):
    n_train = len(data["train"][0])
    sizes = {"batch 1": 1, "batch 32": 32, f"full batch ({n_train})": n_train}
    print(f"part 3: batch sizes {', '.join(str(s) for s in sizes.values())}, {epochs} epochs each")
    report.heading("3. Batch size: 1 vs 32 vs the full training set")
    report.text(f"The same MLP and start, plain SGD with lr {BATCH_LR:g}, {epochs} epochs (an epoch is one pass "
                f"over the {n_train} training images); only the batch size changes.")
    rng = np.random.default_rng(seed)
    runs = {}
    for label, size in sizes.items():
        noise = gradient_noise(fresh_model(seed), data, size, draws=NOISE_DRAWS, rng=rng)
        model = fresh_model(seed)
        steps = BatchLosses()
        history = train(model, dp.optim.SGD(model.parameters(), lr=BATCH_LR), data, size, epochs, callbacks=[steps])
        runs[label] = {"size": size, "noise": noise, "val_loss": np.array(history["val_loss"]),
                           "val_accuracy": np.array(history["val_accuracy"]), "seconds": np.cumsum(history["time"]),
                           "steps": np.array(steps.losses)}
        print(f"  {label:18s} {len(steps.losses) // epochs:5d} updates/epoch, {runs[label]['seconds'][-1]:.2f} s, "
              f"gradient noise {noise:.3f}, validation loss {history['val_loss'][-1]:.3f}")
    report.table(["batch size", "updates per epoch", "seconds per epoch", "gradient noise ‖g_B - g‖ / ‖g‖",
                  f"validation loss after {epochs} epochs", "validation accuracy"],
                 [[label, len(r["steps"]) // epochs, float(r["seconds"][-1] / epochs), r["noise"],
                   float(r["val_loss"][-1]), float(r["val_accuracy"][-1])] for label, r in runs.items()])
    fig, axes = new_figure(ncols=3, width=4.6, height=3.9)
    ax = axes[0][0]
    for label, r in runs.items():
        ax.plot(np.arange(1, epochs + 1), r["val_loss"], marker="o", markersize=3, label=label)
    ax.set(xlabel="epoch", ylabel="validation loss", title="Against epochs (passes over the data)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax = axes[0][1]
    for label, r in runs.items():
        ax.plot(r["seconds"], r["val_loss"], marker="o", markersize=3, label=label)
    ax.set(xscale="log", xlabel="wall-clock seconds (log scale)", ylabel="validation loss",
           title="Against wall-clock time")
    ax = axes[0][2]
    shown = min(300, max(len(r["steps"]) for r in runs.values()))
    for label, r in runs.items():
        ax.plot(np.arange(1, min(shown, len(r["steps"])) + 1), r["steps"][:shown], linewidth=0.9, label=label)
    ax.set(yscale="log", xlabel="update (optimizer step)", ylabel="mini-batch training loss (log scale)",
           title=f"The first {shown} updates")
    for ax in axes[0]:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"Batch size: progress per epoch, per second and per update (SGD, lr {BATCH_LR:g})")
    fig.tight_layout()
    report.figure(fig, "batch_size.png", "Small batches make many cheap, noisy updates per epoch; the full batch "
                                         "makes one exact but expensive update per epoch.")
    one, mid, full = runs["batch 1"], runs["batch 32"], runs[f"full batch ({n_train})"]
    report.text(
        f"Per epoch, batch 1 makes {len(one['steps']) // epochs} updates, batch 32 makes "
        f"{len(mid['steps']) // epochs} and the full batch 1, so after {epochs} epochs the full batch is still at "
        f"validation loss {full['val_loss'][-1]:.3f} while batch 32 is at {mid['val_loss'][-1]:.3f} and batch 1 at "
        f"{one['val_loss'][-1]:.3f}. But the updates are not equal: on average a batch-1 gradient differs from "
        f"the full-batch gradient by {one['noise']:.2f} times the full gradient's length (‖g_B - g‖ / ‖g‖, "
        f"measured at the initial weights over {NOISE_DRAWS} random batches), a batch-32 gradient by "
        f"{mid['noise']:.2f}, so batch 1's loss jumps from update to update (right panel). "
        + cost_story(one["seconds"][-1] / epochs, mid["seconds"][-1] / epochs, full["seconds"][-1] / epochs)
        + " Mini-batches of a few dozen are the usual middle: enough updates per epoch, little enough noise, "
          "and arithmetic in large enough blocks.")
    return runs


def cost_story(one, mid, full):
    """The seconds per epoch of batch 1, 32 and full, and what they say; honest when they surprise."""
    ratio = one / full
    text = (f"And the updates do not cost the same: an epoch took {one:.3f} s with batch 1, {mid:.3f} s with "
            f"batch 32 and {full:.3f} s with the full batch, {ratio:.1f} times less than batch 1")
    explanation = "one big matrix product is far cheaper than many small ones with Python overhead in between"
    if ratio >= 10:
        return f"{text}: {explanation}."
    return (f"{text}. Usually {explanation}; a gap this small suggests other programs were competing for the "
            f"cores, which slows multi-threaded BLAS badly (try OPENBLAS_NUM_THREADS=1).")


# ---- part 4: the learning-rate range test ---------------------------------------------------
def range_test_part(report, data, epochs, seed, trials):
    print(f"part 4: learning-rate range test, then {epochs} epochs with the suggested rate")
    report.heading("4. A learning-rate range test")
    report.text(f"Leslie Smith's test (`deepprimer.train.lr_finder.lr_range_test`): train for "
                f"{RANGE_TEST['num_steps']} mini-batches of 32 while the learning rate grows exponentially from "
                f"{RANGE_TEST['start_lr']:g} to {RANGE_TEST['end_lr']:g}, record the smoothed loss, stop when it "
                f"explodes, and suggest the rate where the loss falls fastest. Same MLP and start, plain SGD.")
    model = fresh_model(seed)
    before = [p.detach().numpy().copy() for p in model.parameters()]
    optimizer = dp.optim.SGD(model.parameters(), lr=0.01)  # any rate: the test sets its own, then puts this back
    initial_lr = optimizer.param_groups[0]["lr"]
    loader = DataLoader(data["train"], batch_size=32, shuffle=True)
    result = lr_range_test(model, nn.CrossEntropyLoss(), optimizer, loader, **RANGE_TEST)
    changed = max(float(np.max(np.abs(p.detach().numpy() - b))) for p, b in zip(model.parameters(), before))
    restored_lr = optimizer.param_groups[0]["lr"]
    ending = "stopped when the loss exploded" if result.diverged else "ran to the end"
    print(f"  range test: {len(result.lrs)} steps, {ending}, lowest loss at lr {result.min_loss_lr:.3g}, "
          f"suggested lr {result.suggested_lr:.3g}; weights changed by {changed:g} after it")
    fig = plot_lr_range_test(result, marks={f"part 2: {label}": t["lr"] for label, t in trials.items()},
                             title="Learning-rate range test: MLP on digits, plain SGD, batch 32")
    report.figure(fig, "lr_range_test.png", "The loss against a learning rate growing step by step; the red line "
                                            "is the suggestion, the grey lines the rates tried by hand in part 2.")
    for group in optimizer.param_groups:
        group["lr"] = result.suggested_lr
    history = train(model, optimizer, data, 32, epochs)
    test = evaluate(model, DataLoader(data["test"], batch_size=512), nn.CrossEntropyLoss())
    print(f"  trained with the suggested lr {result.suggested_lr:.3g}: validation accuracy "
          f"{history['val_accuracy'][-1]:.3f}, test accuracy {test['accuracy']:.3f}")
    good = trials["good"]
    smooth = RANGE_TEST["smooth"]
    lag = round((1 - smooth) / smooth)
    stop = f" and stopped when the smoothed loss passed {RANGE_TEST['diverge_factor']} times its lowest value"
    report.text(
        f"The test took {len(result.lrs)} steps"
        f"{stop if result.diverged else ''}. "
        f"The lowest smoothed loss came at lr {result.min_loss_lr:.3g}, already on the edge. The suggestion, "
        f"lr {result.suggested_lr:.3g}, is where the loss falls fastest: the smoothed curve's steepest point, "
        f"read off {lag} steps earlier because a moving average with weight {smooth:g} trails the raw losses "
        f"by (1 - {smooth:g}) / {smooth:g} = {lag} steps on average. Afterwards the model's weights were "
        f"back as they were (largest change {changed:g}) and the optimizer's rate back at "
        f"{restored_lr:g}, so the same model then trained from its first weights with the suggested "
        f"rate for {epochs} epochs: training loss {history['loss'][-1]:.3f}, validation accuracy "
        f"{history['val_accuracy'][-1]:.3f}, test accuracy {test['accuracy']:.3f} (the hand-picked lr "
        f"{good['lr']:g} of part 2 reached training loss {good['loss'][-1]:.3f}).")
    return {"result": result, "changed": changed, "lr_restored": restored_lr == initial_lr,
            "test_accuracy": test["accuracy"]}


# ---- checks ---------------------------------------------------------------------------------
def add_checks(report, race, trials, batches, finder, quick):
    quad, rosen, saddle = race[QUADRATIC.name], race[ROSENBROCK.name], race[SADDLE.name]
    sgd_steps = quad["SGD"]["reached"] or SURFACE_STEPS + 1
    faster = max(quad[name]["reached"] or SURFACE_STEPS + 1 for name in ("Momentum", "Adam"))
    report.check(f"quadratic: momentum and Adam get within {NEAR:g} of the minimum in under half the steps "
                 f"SGD needs ({faster} vs {sgd_steps}; value: the ratio)", faster / sgd_steps, faster < sgd_steps / 2)
    report.check(f"Rosenbrock: momentum ends within {NEAR:g} of (1, 1) after {SURFACE_STEPS} steps (value: distance)",
                 float(rosen["Momentum"]["distance"][-1]), rosen["Momentum"]["distance"][-1] < NEAR)
    report.check(f"Rosenbrock: plain SGD is still more than 0.1 from (1, 1) after {SURFACE_STEPS} steps, "
                 f"crawling along the flat valley (value: distance)",
                 float(rosen["SGD"]["distance"][-1]), rosen["SGD"]["distance"][-1] > 0.1)
    adaptive = max(escape_step(saddle[name]) or SURFACE_STEPS + 1 for name in ("RMSprop", "Adam"))
    plain = min(escape_step(saddle[name]) or SURFACE_STEPS + 1 for name in ("SGD", "Momentum"))
    report.check(f"saddle: RMSprop and Adam leave the saddle (abs(y) > 0.5) in fewer steps than SGD and momentum "
                 f"(value: the slower of RMSprop and Adam; SGD and momentum took at least {plain})",
                 adaptive, adaptive < plain)
    low, good, high = (trials[k]["loss"][-1] for k in ("too low", "good", "too high"))
    report.check(f"lr {LR_TRIALS['too high']:g} (too high) diverges or ends with a higher training loss than "
                 f"lr {LR_TRIALS['good']:g} ({good:.3f}; value: its final loss)",
                 float(high), not math.isfinite(high) or high > good)
    report.check(f"lr {LR_TRIALS['too low']:g} (too low) is slower: a higher final training loss than lr "
                 f"{LR_TRIALS['good']:g} ({good:.3f}; value: its final loss)", float(low), low > good)
    one, mid, full = batches.values()
    report.check(f"mini-batch gradient noise ‖g_B - g‖ / ‖g‖: batch 1 > batch 32 > full batch = 0 "
                 f"({one['noise']:.3f} > {mid['noise']:.3f} > {full['noise']:g}; value: batch 1 / batch 32)",
                 one["noise"] / mid["noise"], one["noise"] > mid["noise"] > full["noise"] == 0)
    report.check(f"same epochs, more updates: batch 32 ends with a lower validation loss than the full batch "
                 f"({full['val_loss'][-1]:.3f}; value: batch 32's)", float(mid["val_loss"][-1]),
                 mid["val_loss"][-1] < full["val_loss"][-1])
    result = finder["result"]
    report.check("the range test restored the model's weights and the optimizer's lr (value: largest weight change)",
                 finder["changed"], finder["changed"] == 0 and finder["lr_restored"])
    report.check(f"the suggested lr lies between the too-low and too-high rates of part 2 "
                 f"({LR_TRIALS['too low']:g} < lr < {LR_TRIALS['too high']:g}; value: suggested lr)",
                 result.suggested_lr, LR_TRIALS["too low"] < result.suggested_lr < LR_TRIALS["too high"])
    threshold = 0.9 if quick else 0.94
    report.check(f"training with the suggested lr reaches test accuracy >= {threshold:g}"
                 f"{' (quick run: fewer epochs, looser threshold)' if quick else ''}",
                 float(finder["test_accuracy"]), finder["test_accuracy"] >= threshold)
