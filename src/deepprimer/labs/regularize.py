"""Lab 4, applying regularization: make a network overfit on purpose, then rein it in.

Moons: 100 noisy points, a 2-256-256-2 network and long full-batch SGD overfit clearly;
the same run again with an L2 penalty (a small sweep of strengths), an L1 penalty,
dropout and early stopping, each measured on thousands of fresh test points. Digits: a
few hundred training images with and without random shifts and rotations. ``INTRO`` says
what each technique does; ``run`` writes the report.
"""
from dataclasses import dataclass

import numpy as np

import deepprimer as dp
from deepprimer import nn
from deepprimer.data import DataLoader, TensorDataset, datasets, default_collate
from deepprimer.data.transforms import Compose, RandomRotation, RandomShift
from deepprimer.models import MLP
from deepprimer.nn.utils import l1_penalty, l2_penalty, parameters_to_vector
from deepprimer.train import Callback, EarlyStopping, evaluate, fit
from deepprimer.viz import plot_decision_boundaries, plot_image_grid
from deepprimer.viz.style import TRAIN_COLOR, VAL_COLOR, new_figure
from deepprimer.viz.weights import plot_weight_histograms, weight_values

from .report import Report

NOISE = 0.35  # std of the Gaussian noise on the moons: the classes overlap
N_TRAIN, N_VAL, N_TEST = 100, 200, 5000
LR, MOMENTUM = 0.2, 0.9  # full-batch SGD with momentum on the moons, the rate annealed to 0 (cosine)
ZERO = 1e-3  # a weight with |w| below this counts as "driven to zero"
BATCH = 32  # digits mini-batch size
SHIFT, DEGREES = 1, 10.0  # digits augmentation: shift by up to 1 pixel, rotate by up to 10 degrees
EXAMPLE_DIGITS, COPIES = 4, 5  # the augmentation figure: 4 training digits, 5 augmented copies each

INTRO = (
    "A network with far more weights than training points can fit those points exactly, noise and all, "
    "and then predicts new points worse than a simpler fit would: it **overfits**. The signs are a training "
    "accuracy near 1 with a clearly lower test accuracy (the train-test gap), and a validation loss that turns "
    "up while the training loss keeps falling. Regularization trades a little training fit for a better "
    "test fit:\n\n"
    "- **L2 penalty**: add λ·Σw² to the loss; each step also shrinks every weight in proportion to its size "
    "(weight decay)\n"
    "- **L1 penalty**: add λ·Σ|w|; the same pull towards 0 on every weight, which leaves the weights the data "
    "do not need at 0: a sparse network\n"
    "- **dropout**: zero a random share p of the hidden units at each training step, so no unit can rely on "
    "a few others to memorise a point\n"
    "- **early stopping**: watch the validation loss and keep the weights of its best epoch\n"
    "- **data augmentation**: train on randomly shifted and rotated copies of the images, so the network "
    "learns that a digit moved by a pixel is still the same digit"
)


@dataclass(frozen=True)
class Settings:
    width: int  # units in each of the two hidden layers
    epochs: int  # full-batch steps on the moons (an epoch is one step)
    l2: tuple  # the L2 strengths swept
    l1: float
    dropout: float
    patience: int  # early stopping: epochs without a better validation loss
    digits_train: int  # training digits; the test set is all the others
    digits_epochs: int
    min_gap: float  # the baseline must overfit by at least this much (train - test)
    min_gain: float  # the best regularised variant must beat the baseline's test accuracy by this


DEFAULT = Settings(width=256, epochs=1500, l2=(3e-4, 3e-3, 3e-2), l1=3e-3, dropout=0.5, patience=100,
                   digits_train=200, digits_epochs=150, min_gap=0.10, min_gain=0.03)
QUICK = Settings(width=256, epochs=800, l2=(3e-4, 3e-3, 3e-2), l1=3e-3, dropout=0.5, patience=60,
                 digits_train=200, digits_epochs=60, min_gap=0.08, min_gain=0.02)


@dataclass(frozen=True)
class Technique:
    """One way to train the moons network: a penalty lam * penalty(model) added to the
    loss, dropout in the hidden layers, or early stopping (or none of them)."""

    name: str
    strength: str = "-"
    penalty: object = None  # l1_penalty or l2_penalty
    lam: float = 0.0
    dropout: float = 0.0
    early_stopping: bool = False

    @property
    def label(self):
        return self.name if self.strength == "-" else f"{self.name}, {self.strength}"


def techniques(settings):
    return [
        Technique("no regularisation"),
        *[Technique("L2 penalty", f"λ={lam:g}", l2_penalty, lam) for lam in settings.l2],
        Technique("L1 penalty", f"λ={settings.l1:g}", l1_penalty, settings.l1),
        Technique("dropout", f"p={settings.dropout:g}", dropout=settings.dropout),
        Technique("early stopping", f"patience {settings.patience}", early_stopping=True),
    ]


@dataclass
class Variant:
    """A technique's trained model, its curves and its scores."""

    technique: Technique
    model: nn.Module
    curves: dict  # epoch, loss, accuracy, val_loss, val_accuracy, every few epochs
    epochs: int
    best_epoch: int  # early stopping: the epoch whose weights were kept (else None)
    train: float
    val: float
    val_loss: float
    test: float
    zeros: float  # share of weights with |w| < ZERO

    @property
    def label(self):
        return self.technique.label

    @property
    def gap(self):
        return self.train - self.test

    def row(self):
        return [self.technique.name, self.technique.strength, f"{self.train:.3f}", f"{self.val:.3f}",
                f"{self.test:.3f}", f"{self.gap:+.3f}", f"{self.zeros:.2%}", str(self.epochs)]


class Curves(Callback):
    """Loss and accuracy on the training and validation sets every ``every`` epochs.

    Measured in eval mode with the plain cross-entropy (no penalty, no dropout), so the
    curves of every technique measure the same thing and can be compared.
    """

    def __init__(self, train_loader, val_loader, every):
        self.loaders = {"": train_loader, "val_": val_loader}
        self.every = every
        self.logs = {}

    def on_epoch_end(self, epoch, logs):
        if epoch and (epoch + 1) % self.every:
            return
        self.logs.setdefault("epoch", []).append(epoch + 1)
        for prefix, loader in self.loaders.items():
            for key, value in evaluate(self.run.model, loader, nn.CrossEntropyLoss(), prefix=prefix).items():
                self.logs.setdefault(key, []).append(value)


# ---- the moons ---------------------------------------------------------------------------------


def moons_splits(seed):
    """100 training points, a validation set and thousands of fresh test points (own seeds)."""
    return {name: datasets.moons(n=n, noise=NOISE, seed=offset + seed)
            for name, n, offset in (("train", N_TRAIN, 0), ("val", N_VAL, 10_000), ("test", N_TEST, 20_000))}


def full_batch(bundle):
    X, y = bundle
    return DataLoader(TensorDataset(X, y), batch_size=len(X))


def train_moons(technique, data, settings, seed):
    """Train the wide MLP on the 100 points with one technique. Every technique starts from
    the same initial weights (the seed is reset) and sees the same data: only it differs."""
    dp.manual_seed(seed)
    model = MLP([2, settings.width, settings.width, 2], activation="relu", dropout=technique.dropout)
    cross_entropy = nn.CrossEntropyLoss()

    def loss_fn(outputs, targets):  # the data term, plus lambda * penalty when there is one
        loss = cross_entropy(outputs, targets)
        return loss if technique.penalty is None else loss + technique.lam * technique.penalty(model)

    train, val = full_batch(data["train"]), full_batch(data["val"])
    curves = Curves(train, val, every=max(1, settings.epochs // 200))
    stopper = EarlyStopping(monitor="val_loss", patience=settings.patience, restore_best_weights=True)
    callbacks = [curves, stopper] if technique.early_stopping else [curves]
    optimizer = dp.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    scheduler = dp.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=settings.epochs)
    history = fit(model, loss_fn, optimizer, train, val if technique.early_stopping else None,
                  epochs=settings.epochs, metrics=(), callbacks=callbacks, scheduler=scheduler, verbose=0)
    val_logs = evaluate(model, val, cross_entropy)
    variant = Variant(
        technique, model, curves.logs, epochs=len(history),
        best_epoch=stopper.best_epoch + 1 if technique.early_stopping else None,
        train=evaluate(model, train)["accuracy"], val=val_logs["accuracy"], val_loss=val_logs["loss"],
        test=evaluate(model, DataLoader(TensorDataset(*data["test"]), batch_size=1000))["accuracy"],
        zeros=float((np.abs(weight_values(model)) < ZERO).mean()),
    )
    print(f"  {variant.label:<28} train {variant.train:.3f}  val {variant.val:.3f}  test {variant.test:.3f}  "
          f"gap {variant.gap:+.3f}  |w|<{ZERO:g}: {variant.zeros:.2%}  ({variant.epochs} epochs)", flush=True)
    return variant


def decay_equivalence(data, seed, steps=100, decay=0.05):
    """Largest weight difference after ``steps`` steps between (decay/2) * sum w^2 added
    to the loss and the optimizer's ``weight_decay=decay``, for three optimizer pairs.

    The penalty's gradient is decay * w, exactly what SGD's and Adam's ``weight_decay``
    add to the gradient, so those two pairs end with the same weights. AdamW instead decays the
    weights directly (w -= lr * decay * w), outside Adam's per-weight scaling: a different
    algorithm with different weights.
    """
    X, y = (dp.tensor(a) for a in data["train"])
    cross_entropy = nn.CrossEntropyLoss()

    def final_weights(make_optimizer, penalty_in_loss):
        dp.manual_seed(seed)
        model = MLP([2, 64, 64, 2])
        optimizer = make_optimizer(model.parameters())
        for _ in range(steps):
            optimizer.zero_grad()
            loss = cross_entropy(model(X), y)
            if penalty_in_loss:
                loss = loss + (decay / 2) * l2_penalty(model, include_all=True)
            loss.backward()
            optimizer.step()
        return parameters_to_vector(model.parameters()).numpy()

    sgd = {"lr": 0.1, "momentum": MOMENTUM}
    pairs = {
        "SGD + penalty vs SGD(weight_decay)": (
            lambda p: dp.optim.SGD(p, **sgd), lambda p: dp.optim.SGD(p, **sgd, weight_decay=decay)),
        "Adam + penalty vs Adam(weight_decay)": (
            lambda p: dp.optim.Adam(p, lr=0.01), lambda p: dp.optim.Adam(p, lr=0.01, weight_decay=decay)),
        "Adam + penalty vs AdamW(weight_decay)": (
            lambda p: dp.optim.Adam(p, lr=0.01), lambda p: dp.optim.AdamW(p, lr=0.01, weight_decay=decay)),
    }
    return {name: float(np.abs(final_weights(a, True) - final_weights(b, False)).max())
            for name, (a, b) in pairs.items()}


# ---- the digits ------------------------------------------------------------------------------------


def augmenting_collate(augment):
    """A DataLoader ``collate_fn`` that stacks the samples, then augments the images: every
    batch, hence every epoch, shows the network freshly moved copies of the same digits."""
    def collate(samples):
        images, labels = default_collate(samples)
        return augment(images), labels
    return collate


def digit_pages(images, seed):
    """Each 8x8 digit on a 10x10 page, moved by up to one pixel each way: handwriting that
    is not perfectly centred. The positions are drawn once, for training and test digits."""
    padded = np.pad(images, ((0, 0), (0, 0), (1, 1), (1, 1)))
    return RandomShift(1, generator=seed)(padded)


def train_digits(X, y, train_index, test_index, augment, settings, seed):
    """Train an MLP on the few training digits, with or without augmentation; (train, test) accuracy."""
    dp.manual_seed(seed)
    side = X.shape[-1]
    model = nn.Sequential(nn.Flatten(), MLP([side * side, 256, 256, 10]))
    collate = augmenting_collate(augment) if augment else None
    train = DataLoader(TensorDataset(X[train_index], y[train_index]), batch_size=BATCH, shuffle=True,
                       collate_fn=collate)
    fit(model, nn.CrossEntropyLoss(), dp.optim.Adam(model.parameters(), lr=1e-3), train,
        epochs=settings.digits_epochs, metrics=(), verbose=0)
    plain = DataLoader(TensorDataset(X[train_index], y[train_index]), batch_size=500)
    test = DataLoader(TensorDataset(X[test_index], y[test_index]), batch_size=500)
    return evaluate(model, plain)["accuracy"], evaluate(model, test)["accuracy"]


def digits_experiment(settings, seed):
    """Rows (digits, augmented, train accuracy, test accuracy) for the centred and the
    off-centre digits, and a grid of augmented examples."""
    images, labels = datasets.digits()
    order = np.random.default_rng(seed).permutation(len(images))
    train_index, test_index = order[:settings.digits_train], order[settings.digits_train:]
    augment = Compose([RandomShift(SHIFT), RandomRotation(DEGREES)])
    pages = digit_pages(images, seed)
    rows = []
    for name, X in (("centred 8x8", images), ("off-centre 10x10", pages)):
        for augmented in (False, True):
            train, test = train_digits(X, labels, train_index, test_index, augment if augmented else None,
                                       settings, seed)
            rows.append((name, augmented, train, test))
            print(f"  digits {name:<17} {'augmented' if augmented else 'as they are':<12} "
                  f"train {train:.3f}  test {test:.3f}", flush=True)
    _, first = np.unique(labels[train_index], return_index=True)  # the first training 0, 1, 2, ...
    dp.manual_seed(seed)
    examples = np.concatenate([np.concatenate([page[None]] + [augment(page[None]) for _ in range(COPIES)])
                               for page in pages[train_index[first[:EXAMPLE_DIGITS]]]])
    return rows, examples


# ---- figures -------------------------------------------------------------------------------------


def plot_curves(variants):
    """Learning curves side by side: a column per technique, loss above accuracy."""
    fig, axes = new_figure(ncols=len(variants), nrows=2, width=3.3, height=2.9)
    for column, variant in enumerate(variants):
        logs = variant.curves
        for row, metric in enumerate(("loss", "accuracy")):
            ax = axes[row][column]
            if column:
                ax.sharey(axes[row][0])
            ax.plot(logs["epoch"], logs[metric], color=TRAIN_COLOR, label=f"training {metric}")
            ax.plot(logs["epoch"], logs[f"val_{metric}"], color=VAL_COLOR, label=f"validation {metric}")
            if variant.best_epoch:
                ax.axvline(variant.best_epoch, color="black", linestyle="--", linewidth=1,
                           label=f"weights kept (epoch {variant.best_epoch})")
            ax.set_xlabel("epoch")
            ax.grid(alpha=0.3)
            if column == 0:
                ax.set_ylabel("loss (cross-entropy, log scale)" if metric == "loss" else metric)
            if column == 0 or variant.best_epoch:
                ax.legend(fontsize=7.5)
        axes[0][column].set_yscale("log")
        axes[0][column].set_title(variant.label, fontsize=10)
    fig.suptitle("Training vs validation, per technique: a gap that opens up is overfitting")
    fig.tight_layout()
    return fig


def plot_accuracy_bars(groups, title, baseline=None):
    """Grouped bars: {label: (train accuracy, test accuracy)}; a dashed line at ``baseline``."""
    fig, axes = new_figure(width=max(5.0, 1.3 * len(groups)), height=3.8)
    ax = axes[0][0]
    positions = np.arange(len(groups))
    for offset, index, name, color in ((-0.2, 0, "training", TRAIN_COLOR), (0.2, 1, "test", VAL_COLOR)):
        bars = ax.bar(positions + offset, [pair[index] for pair in groups.values()], width=0.4, color=color,
                      label=f"{name} accuracy")
        ax.bar_label(bars, fmt="%.3f", fontsize=7, rotation=90, padding=2)
    if baseline is not None:
        ax.axhline(baseline, color="black", linestyle="--", linewidth=1, label="baseline test accuracy")
    ax.set_xticks(positions, list(groups), rotation=30, ha="right", fontsize=8)
    low = min(min(pair) for pair in groups.values())
    ax.set_ylim(max(0.0, low - 0.1), 1.08)
    ax.set_ylabel("accuracy")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


# ---- the report ------------------------------------------------------------------------------------


def rise(variant):
    """Final validation loss / lowest validation loss: how far it climbed back (1 = not at all)."""
    return variant.curves["val_loss"][-1] / min(variant.curves["val_loss"])


def report_moons(report, variants, data, settings):
    """The setup, the table, the comparison and its figures; returns (best, L2 pick)."""
    baseline, regularised = variants[0], variants[1:]
    best = max(regularised, key=lambda v: v.test)
    chosen = max(regularised, key=lambda v: (v.val, -v.val_loss))
    l2 = [v for v in variants if v.technique.penalty is l2_penalty]
    l2_pick = max(l2, key=lambda v: (v.val, -v.val_loss))
    l1 = next(v for v in variants if v.technique.penalty is l1_penalty)
    dropout = next(v for v in variants if v.technique.dropout)
    stopper = next(v for v in variants if v.technique.early_stopping)
    report.heading("The setup")
    report.text(
        f"- data: two moons with noise {NOISE}; {N_TRAIN} training points, {N_VAL} validation points "
        f"(for early stopping and for choosing), {N_TEST} fresh test points, each set with its own seed\n"
        f"- model: MLP 2-{settings.width}-{settings.width}-2 with ReLU, "
        f"{sum(p.numel() for p in baseline.model.parameters()):,} parameters for {N_TRAIN} points\n"
        f"- training: full batch, SGD with momentum {MOMENTUM}, learning rate {LR} annealed to 0 along a cosine "
        f"over {settings.epochs} epochs; every technique starts from the same initial weights\n"
        f"- penalties are added to the loss, `loss = cross_entropy + λ * l2_penalty(model)` (Σw²) or "
        f"`λ * l1_penalty(model)` (Σ|w|), over the weight matrices, not the biases; with SGD the L2 penalty "
        f"is exactly weight decay (see below)")
    report.heading("Results")
    report.table(["technique", "strength", "train acc", "val acc", "test acc", "train - test gap",
                  f"weights |w| < {ZERO:g}", "epochs"], [v.row() for v in variants])
    weak, strong = l2[0], l2[-1]
    report.text(
        f"Without regularisation the network reaches training accuracy {baseline.train:.3f} but test accuracy "
        f"{baseline.test:.3f}, a gap of {baseline.gap:.3f}: it has memorised noise. The best regularised "
        f"variant on the test set is **{best.label}**, test accuracy {best.test:.3f}: "
        f"{100 * (best.test - baseline.test):+.1f} points over the baseline, with a gap of {best.gap:+.3f}.\n\n"
        f"Picking the best by test accuracy is fair only for this comparison: in a real project the validation "
        f"column decides and the test set is looked at once, at the end. Validation would pick "
        f"**{chosen.label}** (validation accuracy {chosen.val:.3f}), whose test accuracy is {chosen.test:.3f}.\n\n"
        f"The L2 sweep shows the trade-off. The weakest penalty ({weak.technique.strength}) leaves a gap of "
        f"{weak.gap:.3f}; the strongest ({strong.technique.strength}) pulls even the training accuracy down to "
        f"{strong.train:.3f} and the test accuracy to {strong.test:.3f}: it cannot bend the boundary enough.\n\n"
        f"Dropout ({dropout.technique.strength}) reaches test accuracy {dropout.test:.3f}, "
        f"{100 * (dropout.test - baseline.test):+.1f} points; its validation loss ends at {rise(dropout):.1f} times "
        f"its lowest value, against {rise(baseline):.1f} times without regularisation. Early stopping kept "
        f"the weights of epoch {stopper.best_epoch} and stopped at epoch {stopper.epochs}: test accuracy "
        f"{stopper.test:.3f}. Its validation accuracy ({stopper.val:.3f}) is optimistic, since the validation "
        f"set chose the epoch.")
    report.figure(plot_curves([baseline, l2_pick, l1, dropout, stopper]), "curves.png",
                  "Loss and accuracy on the training and validation sets, measured in eval mode without the "
                  "penalty; the L2 column is the λ validation prefers. Without regularisation the training loss "
                  "falls towards 0 while the validation loss climbs; a regularised run keeps the two close. "
                  "Early stopping's dashed line marks the epoch whose weights it kept.")
    report.figure(plot_decision_boundaries(
        [(f"no regularisation (test {baseline.test:.3f})", baseline.model),
         (f"{best.label} (test {best.test:.3f})", best.model)],
        *data["train"], suptitle=f"The {N_TRAIN} training points and what each network predicts around them"),
        "boundaries.png",
        "Decision boundaries of the baseline and of the best regularised network. The unregularised one bends "
        "its boundary around single noisy points; the regularised one draws a simpler boundary between the "
        "moons and accepts a few training mistakes (ringed).")
    report.figure(plot_accuracy_bars({v.label: (v.train, v.test) for v in variants},
                                     "Moons: training vs test accuracy per technique", baseline.test),
                  "moons_accuracy.png", "The train-test gap per technique: the difference between each pair of bars.")
    return best, l2_pick


def report_weights(report, variants, l2_pick):
    baseline = variants[0]
    l1 = next(v for v in variants if v.technique.penalty is l1_penalty)
    weights = weight_values(l1.model)
    kept = int((np.abs(weights) >= ZERO).sum())
    report.heading("L1 or L2: what the penalty does to the weights")
    report.text(
        f"The gradient of λ·Σw² is 2λw: each step takes a fixed fraction off a weight, so a weight the data do "
        f"not need decays towards 0 without ever reaching it, and one they need settles where the data's pull "
        f"balances the penalty's. The gradient of λ·Σ|w| is λ·sign(w), the same pull on every weight, big or "
        f"small, so every weight whose data gradient is weaker than λ is driven to 0. (A plain gradient step "
        f"makes such a weight hop across 0 by about lr·λ; the learning rate annealed to 0 makes the hops "
        f"vanish.)\n\n"
        f"Share of weights with |w| < {ZERO:g}: {baseline.zeros:.2%} without a penalty, {l2_pick.zeros:.2%} with "
        f"L2 ({l2_pick.technique.strength}), {l1.zeros:.2%} with L1 ({l1.technique.strength}): L1 kept "
        f"{kept:,} of the {weights.size:,} weights and still reaches test accuracy {l1.test:.3f}, a sparse network.")
    report.figure(plot_weight_histograms(
        {"no regularisation": baseline.model, l2_pick.label: l2_pick.model, l1.label: l1.model}, threshold=ZERO,
        title="The trained weights: values (top) and magnitudes on a log scale (bottom)"),
        "weights.png",
        f"Weight histograms (share of the weights per bin, log scale). Top: the values, the same axis in every "
        f"panel. Bottom: log10 |w|; left of the dashed line |w| < {ZERO:g}.")


def report_weight_decay(report, differences):
    report.heading("L2 penalty or weight decay?")
    report.text(
        "Optimizers offer `weight_decay`; adding the penalty to the loss is the other way to get L2. With "
        "`(wd/2)·Σw²` in the loss the gradient gains wd·w, exactly what SGD's `weight_decay=wd` adds, so for "
        "SGD the two are the same algorithm. Adam's `weight_decay` adds the same wd·w to the gradient, and so "
        "equals the penalty too, but Adam then divides each weight's step by the root of its recent squared "
        "gradients: a weight with large gradients is decayed less than one with small gradients, so the "
        "penalty no longer shrinks every weight by the same fraction. AdamW (decoupled weight decay) shrinks "
        "the weights directly, w -= lr·wd·w, outside that scaling, which is what weight decay means for SGD. "
        "To check, a small network was trained 100 steps each way from the same start; the largest "
        "difference between the final weights:")
    report.table(["pair", "max |w_a - w_b|"], [[name, f"{value:.2e}"] for name, value in differences.items()])


def report_digits(report, rows, examples, settings):
    """Text, table and figures of the augmentation experiment; returns the off-centre gain."""
    test = {(name, augmented): te for name, augmented, _, te in rows}
    centred_gain = test["centred 8x8", True] - test["centred 8x8", False]
    page_gain = test["off-centre 10x10", True] - test["off-centre 10x10", False]
    total = len(datasets.digits())
    report.heading("Data augmentation on the digits")
    report.text(
        f"{settings.digits_train} training digits, the other {total - settings.digits_train} for testing; an MLP "
        f"with two hidden layers of 256 units, Adam, {settings.digits_epochs} epochs of mini-batches of {BATCH}. "
        f"With augmentation every training batch is shifted by up to {SHIFT} pixel and rotated by up to "
        f"{DEGREES:g} degrees, freshly each epoch, by the DataLoader's `collate_fn`; test digits are never "
        f"augmented.\n\n"
        f"scikit-learn's 8x8 digits are centred to a fraction of a pixel, so shifting them teaches an invariance "
        f"the test set never asks for: on them augmentation changes the test accuracy by "
        f"{100 * centred_gain:+.1f} points. Handwriting in the wild is not so well centred. Put on a 10x10 page "
        f"at a random offset of up to one pixel each way (training and test digits alike), the digits need "
        f"the invariance, and augmentation changes the test accuracy by {100 * page_gain:+.1f} points. "
        f"Augmentation helps when it produces the variation the test data have.")
    report.table(["digits", "augmentation", "train acc", "test acc"],
                 [[name, "shift + rotation" if augmented else "none", f"{tr:.3f}", f"{te:.3f}"]
                  for name, augmented, tr, te in rows])
    report.figure(plot_image_grid(examples, titles=(["training digit"] + ["augmented"] * COPIES) * EXAMPLE_DIGITS,
                                  ncols=COPIES + 1, cell_size=1.4,
                                  suptitle="What the network sees: each training digit, moved afresh every epoch"),
                  "augmentation_examples.png",
                  f"{EXAMPLE_DIGITS} off-centre training digits (left) and {COPIES} random augmentations of each "
                  f"(shift up to {SHIFT} pixel, rotation up to {DEGREES:g} degrees).")
    report.figure(plot_accuracy_bars(
        {f"{name}\n{'augmented' if augmented else 'no augmentation'}": (tr, te) for name, augmented, tr, te in rows},
        f"Digits: {settings.digits_train} training digits, with and without augmentation"),
        "augmentation_accuracy.png", "Training and test accuracy with and without augmentation.")
    return page_gain


def run(out_dir, quick=False, seed=0):
    settings = QUICK if quick else DEFAULT
    report = Report("Lab 4: applying regularization", out_dir, intro=INTRO)
    data = moons_splits(seed)
    print(f"moons: {N_TRAIN} training, {N_VAL} validation, {N_TEST} test points, noise {NOISE}; "
          f"MLP 2-{settings.width}-{settings.width}-2, {settings.epochs} full-batch SGD epochs", flush=True)
    variants = [train_moons(technique, data, settings, seed) for technique in techniques(settings)]
    baseline, l1 = variants[0], next(v for v in variants if v.technique.penalty is l1_penalty)
    best, l2_pick = report_moons(report, variants, data, settings)
    print(f"best regularised: {best.label}, test {best.test:.3f} vs baseline {baseline.test:.3f} "
          f"({100 * (best.test - baseline.test):+.1f} points)", flush=True)
    report_weights(report, variants, l2_pick)
    print("L2 penalty vs weight decay ...", flush=True)
    differences = decay_equivalence(data, seed)
    report_weight_decay(report, differences)
    print("digits with and without augmentation ...", flush=True)
    rows, examples = digits_experiment(settings, seed)
    page_gain = report_digits(report, rows, examples, settings)

    looser = " (--quick: a looser threshold)" if quick else ""
    report.check(f"the baseline overfits: train - test gap >= {settings.min_gap:g}{looser}", baseline.gap,
                 baseline.gap >= settings.min_gap)
    gain = best.test - baseline.test
    report.check(f"the best regularised variant ({best.label}) beats the baseline's test accuracy by >= "
                 f"{100 * settings.min_gain:g} points{looser}", gain, gain >= settings.min_gain)
    report.check(f"L1 leaves more weights below {ZERO:g} in magnitude than no penalty ({baseline.zeros:.2%})",
                 l1.zeros, l1.zeros > baseline.zeros)
    sgd = differences["SGD + penalty vs SGD(weight_decay)"]
    report.check("an L2 penalty in the loss trains the same weights as SGD's weight_decay (max difference < 1e-5)",
                 sgd, sgd < 1e-5)
    report.check("augmentation improves the test accuracy on the off-centre digits", page_gain, page_gain > 0)
    return report
