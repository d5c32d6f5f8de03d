"""Lab ``generate`` (the primer's exercise 5): a foundation for generative models.

Two generative models, each trained here for real:

1. Character-level language models on Python's own help texts: a small Transformer
   (``MiniGPT``) and, for comparison, an LSTM (``CharRNN``), each trained for a wall-clock
   budget, measured against a unigram baseline and sampled at three temperatures.
2. A variational autoencoder on the 8x8 digits: its ELBO per epoch, new digits decoded from
   random codes, reconstructions, and a walk through the latent space between two digits.
"""
import math
import time

import numpy as np

import deepprimer as dp
from deepprimer.data import DataLoader, TensorDataset, datasets, train_val_test_split
from deepprimer.models import VAE, CharRNN, MiniGPT
from deepprimer.train import Callback, evaluate, fit
from deepprimer.train.char_lm import CharCorpus, char_loaders, next_char_loss, sample_text, validation_loader
from deepprimer.viz import plot_image_grid
from deepprimer.viz.style import TRAIN_COLOR, VAL_COLOR, new_figure

from .report import Report

BLOCK = 64  # characters per training window (and MiniGPT's context)
BATCH = 32
GPT = {"block_size": BLOCK, "d_model": 128, "n_heads": 4, "n_layers": 2, "dropout": 0.1}
LSTM = {"embed_dim": 64, "hidden_size": 256, "num_layers": 1, "cell": "lstm", "dropout": 0.0}
LR = 3e-3
# (seconds, step cap): training stops at whichever comes first; the step count is reported.
# Quick mode (the tests) has no time limit, so its result does not depend on the machine's load.
BUDGETS = {"default": {"MiniGPT": (140, 1500), "LSTM": (40, 600)},
           "quick": {"MiniGPT": (float("inf"), 60), "LSTM": (float("inf"), 40)}}
EVAL_EVERY = {"default": 25, "quick": 10}
EVAL_WINDOWS, FINAL_WINDOWS = 32, 256  # validation windows for the curve, and for the final number
PROMPT = "The "
TEMPERATURES = (0.5, 1.0, 1.5)
SAMPLE_CHARS = 300
VAE_LATENT, VAE_HIDDEN, VAE_LR = 6, (128,), 2e-3
VAE_EPOCHS = {"default": 60, "quick": 12}

INTRO = """The primer's fifth exercise: from a model that recognises to a model that creates. Every
model here is the library's own, trained in this run; every number below comes from it.

A classifier learns $p(y | x)$: given an image, which digit is it? It never has to know what
a digit looks like, only where the borders between classes lie. A **generative model** learns
$p(x)$ itself, the distribution of the data, and so can **sample**: draw new data that looks
like the training data. Two ways to get there:

- **Autoregressive**: write $p(x) = p(x_1) p(x_2 | x_1) p(x_3 | x_1, x_2) ...$ and learn each factor
  as a classifier over the next character. Training is classification (cross-entropy on the next
  character); generation draws one character, appends it, and asks again.
- **Latent variable**: $x$ is made from a hidden code $z$: draw $z$ from a simple prior $N(0, I)$
  and decode it. The variational autoencoder (VAE) learns the decoder and an encoder together."""


def run(out_dir, quick=False, seed=0):
    mode = "quick" if quick else "default"
    report = Report("A foundation for generative models", out_dir, intro=INTRO)
    text = text_part(report, mode, seed)
    vae = vae_part(report, mode, seed)
    add_checks(report, text, vae, quick)
    return report


# ---- part 1: character-level language models --------------------------------------------------
def load_corpus():
    """The corpus as ids: the first 90% for training, the last 10% for validation."""
    corpus = CharCorpus(datasets.text_corpus())
    print(f"corpus: {len(corpus.text):,} characters, {len(corpus.vocab)} distinct; {len(corpus.train):,} training, "
          f"{len(corpus.val):,} validation")
    return corpus


def budget_text(budget):
    seconds, steps = budget
    return f"{steps} steps" if seconds == float("inf") else f"{seconds} s or {steps} steps"


class Budget(Callback):
    """Stops ``fit`` when the wall-clock budget runs out (checked after every step), and
    notes and prints the step count and both losses at each validation."""

    def __init__(self, seconds):
        self.seconds, self.steps_done, self.steps = seconds, 0, []

    def on_train_begin(self):
        self.start = time.perf_counter()

    def on_batch_end(self, step, logs):
        self.steps_done += 1
        if time.perf_counter() - self.start >= self.seconds:
            self.run.stop_training = True

    def on_epoch_end(self, epoch, logs):
        self.steps.append(self.steps_done)
        print(f"  step {self.steps_done:4d}  {time.perf_counter() - self.start:6.1f} s  training loss "
              f"{logs['loss']:.3f}  validation loss {logs['val_loss']:.3f}")


def train_char_model(name, model, corpus, budget, eval_every):
    """AdamW on random windows of the training text until the time or the step cap runs out.
    ``fit`` does the work: an "epoch" is ``eval_every`` steps, so its history holds the mean
    training loss since the last validation and the validation loss, every ``eval_every`` steps."""
    seconds, max_steps = budget
    parameters = sum(p.data.size for p in model.parameters())
    print(f"{name}: {parameters:,} parameters, training for up to {budget_text(budget)}")
    optimizer = dp.optim.AdamW(model.parameters(), lr=LR)
    train_loader, val_loader = char_loaders(corpus, BLOCK, BATCH, steps=eval_every, val_windows=EVAL_WINDOWS)
    clock = Budget(seconds)
    history = fit(model, next_char_loss, optimizer, train_loader, val_loader, epochs=max_steps // eval_every,
                  metrics=(), callbacks=[clock], verbose=0)
    wall = time.perf_counter() - clock.start
    final = evaluate(model, validation_loader(corpus, BLOCK, FINAL_WINDOWS), next_char_loss, metrics=())["loss"]
    print(f"  {name}: {clock.steps_done} steps in {wall:.1f} s; validation loss {final:.3f} on {FINAL_WINDOWS} windows")
    log = {"step": clock.steps, "train": history["loss"], "val": history["val_loss"]}
    return {"model": model, "parameters": parameters, "steps": clock.steps_done, "seconds": wall, "val_loss": final,
            "log": log, "budget": budget}


def sample(model, vocab, temperature, seed):
    """SAMPLE_CHARS characters after PROMPT; the seed fixes the draws."""
    return sample_text(model, vocab, PROMPT, SAMPLE_CHARS, temperature=temperature, seed=seed)


def char_entropy(text):
    """Entropy (nats) of the characters' frequencies in ``text``: how spread out its letters are."""
    _, counts = np.unique(list(text), return_counts=True)
    p = counts / counts.sum()
    return float(-(p * np.log(p)).sum())


def text_part(report, mode, seed):
    report.heading("1. A language model, one character at a time")
    corpus = load_corpus()
    vocab = corpus.vocab
    baseline = corpus.unigram_baseline()
    print(f"unigram baseline: {baseline:.3f} nats per character (uniform: {math.log(len(vocab)):.3f})")
    report.text(
        f"The corpus is the help text that ships with Python (`pydoc_data`): {len(corpus.text):,} characters, "
        f"{len(vocab)} distinct. The first 90% ({len(corpus.train):,} characters) is for training, the last 10% "
        f"({len(corpus.val):,}) for validation. The loss is cross-entropy in nats per character. Two yardsticks: "
        f"guessing uniformly among the {len(vocab)} characters costs ln {len(vocab)} = {math.log(len(vocab)):.3f}; "
        f"the **unigram baseline**, predicting every character with its frequency in the training text and "
        f"ignoring all context, costs {baseline:.3f} on the validation text. Anything below it has learned "
        f"something about context.")
    budgets = BUDGETS[mode]
    dp.manual_seed(seed)
    gpt = train_char_model("MiniGPT", MiniGPT(len(vocab), **GPT), corpus, budgets["MiniGPT"], EVAL_EVERY[mode])
    dp.manual_seed(seed)
    lstm = train_char_model("LSTM", CharRNN(len(vocab), **LSTM), corpus, budgets["LSTM"], EVAL_EVERY[mode])
    runs = {"MiniGPT": gpt, "LSTM": lstm}
    report.text(
        f"Both models read windows of {BLOCK} characters, {BATCH} windows a step, drawn at random from the "
        f"training text, and learn with AdamW (lr {LR:g}) to predict each next character. **MiniGPT** is a "
        f"Transformer ({GPT['n_layers']} blocks, d_model {GPT['d_model']}, {GPT['n_heads']} heads): every position "
        f"attends to all earlier ones in its window. The **LSTM** ({LSTM['hidden_size']} hidden units) reads "
        f"left to right and carries what it has read in its hidden state. Each trains until a wall-clock budget "
        f"or a step cap runs out, whichever comes first, so the numbers depend on how fast this machine was "
        f"during the run.")
    report.table(["model", "parameters", "budget", "steps done", "seconds", "steps / s",
                  f"validation loss ({FINAL_WINDOWS} windows)", "vs unigram baseline"],
                 [[name, f"{r['parameters']:,}", budget_text(r["budget"]), r["steps"],
                   f"{r['seconds']:.1f}", f"{r['steps'] / r['seconds']:.2f}", f"{r['val_loss']:.3f}",
                   f"{r['val_loss'] / baseline:.2f} x"] for name, r in runs.items()])
    report.figure(plot_char_losses(runs, baseline), "char_loss.png",
                  "Training and validation loss of both character models against training steps; the dashed line "
                  "is the unigram baseline, the score of knowing only how common each character is.")
    report.text(
        f"MiniGPT reached a validation loss of {gpt['val_loss']:.3f} in {gpt['steps']} steps ({gpt['seconds']:.0f} s), "
        f"{gpt['val_loss'] / baseline:.2f} times the unigram baseline; the LSTM reached {lstm['val_loss']:.3f} in "
        f"{lstm['steps']} steps ({lstm['seconds']:.0f} s). The training curve is the mean over the steps since the "
        f"previous point, while the model was still improving (and MiniGPT's with dropout on), so it can sit above "
        f"the validation curve. The two stay close: with a few "
        f"hundred thousand parameters and a few hundred steps, neither model has seen enough of the text to "
        f"memorise it. A perfect predictor would score 0; the gap to the baseline is what context buys.")
    samples = sampling_part(report, gpt["model"], lstm["model"], vocab, seed)
    return {"baseline": baseline, "runs": runs, "samples": samples}


def sampling_part(report, gpt, lstm, vocab, seed):
    report.heading("2. Sampling, and the temperature")
    report.text(
        "To generate, the model gives logits $l$ for the next character; we divide them by a **temperature** "
        "$T$ and draw from softmax($l / T$), append the character, and repeat. $T = 1$ samples the model's own "
        "distribution; $T < 1$ sharpens it towards the likeliest characters (safer, more repetitive text); $T > 1$ "
        "flattens it towards uniform (more surprising, more mistakes). Below, MiniGPT continues the prompt "
        f"\"{PROMPT.strip()}\" for {SAMPLE_CHARS} characters at each temperature, then the LSTM at 0.5, each shown "
        "exactly as generated. The variety of each sample is measured as the number of distinct "
        "characters in it and the entropy of their frequencies.")
    samples = {}
    for t in TEMPERATURES:
        text = sample(gpt, vocab, t, seed)
        samples[t] = {"text": text, "distinct": len(set(text)), "entropy": char_entropy(text)}
        print(f"MiniGPT sample at temperature {t}: {samples[t]['distinct']} distinct characters, "
              f"entropy {samples[t]['entropy']:.3f}\n{text}\n")
    lstm_text = sample(lstm, vocab, TEMPERATURES[0], seed)
    shown = {f"MiniGPT, T = {t:g}": s["text"] for t, s in samples.items()}
    shown[f"LSTM, T = {TEMPERATURES[0]:g}"] = lstm_text
    report.table(["model, temperature", "distinct characters", "character entropy (nats)"],
                 [[label, len(set(text)), f"{char_entropy(text):.3f}"] for label, text in shown.items()])
    for label, text in shown.items():
        report.preformatted(text, caption=label)
    low, high = samples[TEMPERATURES[0]], samples[TEMPERATURES[-1]]
    repeat = sample(gpt, vocab, 1.0, seed)
    report.text(
        f"At T = {TEMPERATURES[0]:g} the sample uses {low['distinct']} distinct characters (entropy "
        f"{low['entropy']:.3f}); at T = {TEMPERATURES[-1]:g}, {high['distinct']} (entropy {high['entropy']:.3f}): "
        f"the hotter the sampling, the more rare characters slip in. The draws come from a generator seeded "
        f"with {seed}: sampling again at T = 1 with the same seed gave "
        f"{'the same text, character for character' if repeat == samples[1.0]['text'] else 'a DIFFERENT text'}.")
    return {"by_temperature": samples, "repeatable": repeat == samples[1.0]["text"]}


def plot_char_losses(runs, baseline):
    fig, axes = new_figure(width=7.5, height=4.4)
    ax = axes[0][0]
    for (name, r), style in zip(runs.items(), ("-", "--")):
        ax.plot(r["log"]["step"], r["log"]["train"], style, color=TRAIN_COLOR, label=f"{name}: training")
        ax.plot(r["log"]["step"], r["log"]["val"], style, color=VAL_COLOR, label=f"{name}: validation")
    ax.axhline(baseline, color="#555555", linestyle=":", linewidth=1.5, label=f"unigram baseline ({baseline:.2f})")
    ax.set(xlabel="training step (32 windows of 64 characters)", ylabel="cross-entropy (nats per character)",
           title="Character models: loss against training steps")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


# ---- part 3: a variational autoencoder on digits ----------------------------------------------
def train_vae(X_train, epochs, seed):
    dp.manual_seed(seed)
    vae = VAE(X_train.shape[1], hidden=VAE_HIDDEN, latent_dim=VAE_LATENT)
    optimizer = dp.optim.Adam(vae.parameters(), lr=VAE_LR)
    loader = DataLoader(TensorDataset(X_train), batch_size=64, shuffle=True)
    log = {"elbo": [], "reconstruction": [], "kl": []}
    for epoch in range(1, epochs + 1):
        totals, count = np.zeros(3), 0
        for (x,) in loader:
            optimizer.zero_grad()
            loss, reconstruction, kl = vae.loss(x)
            loss.backward()
            optimizer.step()
            totals += [loss.item() * len(x), reconstruction.item() * len(x), kl.item() * len(x)]
            count += len(x)
        for key, value in zip(log, totals / count):
            log[key].append(float(value))
        if epoch == 1 or epoch % 10 == 0 or epoch == epochs:
            print(f"  VAE epoch {epoch:3d}: -ELBO {log['elbo'][-1]:.2f} = reconstruction "
                  f"{log['reconstruction'][-1]:.2f} + KL {log['kl'][-1]:.2f} (nats per image)")
    return vae, log


def vae_part(report, mode, seed):
    epochs = VAE_EPOCHS[mode]
    report.heading("3. A variational autoencoder: digits from random codes")
    X, y = datasets.digits(flatten=True)
    X_train, _, X_test, _, _, y_test = train_val_test_split(X, y, seed=seed)
    print(f"VAE on digits: {len(X_train)} training images, {epochs} epochs, latent dimension {VAE_LATENT}")
    report.text(
        f"The encoder (an MLP 64-{'-'.join(map(str, VAE_HIDDEN))}-{2 * VAE_LATENT}) maps an 8x8 digit $x$ (pixels in "
        f"[0, 1]) to the mean $mu$ and log-variance $log s^2$ of a Gaussian $q(z | x)$ over a {VAE_LATENT}-dimensional "
        f"code; the decoder (an MLP back to 64 pixels) turns a code into pixel probabilities. Training maximises "
        f"the **evidence lower bound** (ELBO) of $log p(x)$; we minimise its negative, two terms per image:")
    report.text(
        "- **reconstruction**: the binary cross-entropy between $x$ and the decoding of a code drawn from "
        "$q(z | x)$: rebuild the input well\n"
        "- **KL**: KL($q(z | x)$ || $N(0, I)$) = -1/2 sum(1 + log s^2 - mu^2 - s^2): keep the codes close to the "
        "prior, so that codes drawn from the prior decode into digits too")
    report.text(
        "Drawing $z$ would block the gradient, so the VAE uses the **reparameterisation trick**: "
        "$z = mu + s * eps$ with $eps$ drawn from $N(0, I)$. The randomness sits in $eps$, which needs no "
        "gradient, and $z$ is a differentiable function of $mu$ and $s$, so backpropagation reaches the encoder. "
        f"Adam (lr {VAE_LR:g}), batches of 64, {epochs} epochs over {len(X_train)} training images.")
    vae, log = train_vae(X_train, epochs, seed)
    report.figure(plot_elbo(log), "vae_elbo.png",
                  "The VAE's loss per epoch (negative ELBO, nats per image) and its two terms: the reconstruction "
                  "error falls while the KL term grows as the codes start to carry information.")
    vae.eval()
    dp.manual_seed(seed)
    generated = vae.sample(32).numpy().reshape(-1, 8, 8)
    report.figure(plot_image_grid(generated, ncols=8, cell_size=1.2,
                                  suptitle=f"32 digits decoded from random codes z ~ N(0, I) ({VAE_LATENT}-D)"),
                  "vae_samples.png", "New digits: codes drawn from the prior and decoded; none of them is a "
                                     "training image.")
    shown = X_test[:8]
    with dp.no_grad():
        rebuilt = dp.sigmoid(vae(dp.tensor(shown))[0]).numpy()
    report.figure(plot_image_grid(np.concatenate([shown, rebuilt]).reshape(-1, 8, 8), ncols=8, cell_size=1.2,
                                  titles=["original"] * 8 + ["rebuilt"] * 8,
                                  suptitle="Test digits (top) and their reconstructions from the mean code (bottom)"),
                  "vae_reconstructions.png", "Eight test digits the VAE never trained on, and what the decoder "
                                             "makes of their codes.")
    first = 0
    second = int(np.flatnonzero(y_test != y_test[first])[0])
    path = vae.interpolate(dp.tensor(X_test[first]), dp.tensor(X_test[second]), steps=10).numpy().reshape(-1, 8, 8)
    weights = np.linspace(0, 1, len(path))
    report.figure(plot_image_grid(path, ncols=len(path), cell_size=1.2, titles=[f"w = {w:.2f}" for w in weights],
                                  suptitle=f"From a test {y_test[first]} (left) to a test {y_test[second]} (right): "
                                           f"decoding (1 - w) mu_a + w mu_b"),
                  "vae_interpolation.png", "A straight walk through the latent space between the codes of two test "
                                           "digits: the decoder morphs one into the other through digit-like shapes.")
    pixel_std = float(generated.reshape(len(generated), -1).std(axis=1).mean())
    flat = generated.reshape(len(generated), -1)
    gaps = np.abs(flat[:, None, :] - flat[None, :, :]).mean(axis=2)
    distinct = float(gaps[np.triu_indices(len(flat), k=1)].min())
    print(f"generated digits: mean pixel std {pixel_std:.3f}, smallest mean abs difference between two {distinct:.3f}")
    report.text(
        f"Over {epochs} epochs the negative ELBO fell from {log['elbo'][0]:.2f} to {log['elbo'][-1]:.2f} nats per "
        f"image: reconstruction {log['reconstruction'][0]:.2f} -> {log['reconstruction'][-1]:.2f}, KL "
        f"{log['kl'][0]:.2f} -> {log['kl'][-1]:.2f}. The generated digits are not blank (mean pixel standard "
        f"deviation within an image {pixel_std:.3f}) and no two are alike (the closest pair differs by "
        f"{distinct:.3f} per pixel on average). Some are clear digits, some blends: an 8x8 digit with a "
        f"{VAE_LATENT}-D code and a small decoder is blurry by nature, since the decoder predicts each pixel's "
        f"probability, and we show those probabilities rather than drawing black-or-white pixels from them.")
    return {"log": log, "pixel_std": pixel_std, "distinct": distinct, "epochs": epochs}


def plot_elbo(log):
    fig, axes = new_figure(ncols=2, width=4.8, height=3.8)
    epochs = np.arange(1, len(log["elbo"]) + 1)
    ax = axes[0][0]
    ax.plot(epochs, log["elbo"], color="black", label="-ELBO (total)")
    ax.plot(epochs, log["reconstruction"], color=TRAIN_COLOR, label="reconstruction")
    ax.set(xlabel="epoch", ylabel="nats per image", title="Negative ELBO and its reconstruction term")
    ax = axes[0][1]
    ax.plot(epochs, log["kl"], color=VAL_COLOR, label="KL(q(z|x) || N(0, I))")
    ax.set(xlabel="epoch", ylabel="nats per image", title="The KL term")
    for ax in axes[0]:
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return fig


# ---- checks ----------------------------------------------------------------------------------
def add_checks(report, text, vae, quick):
    baseline, gpt = text["baseline"], text["runs"]["MiniGPT"]
    low, high = text["samples"]["by_temperature"][TEMPERATURES[0]], text["samples"]["by_temperature"][TEMPERATURES[-1]]
    factor = 1.0 if quick else 0.8
    report.check(f"MiniGPT validation loss < {factor:g} x unigram baseline ({baseline:.3f})"
                 + (" (quick: looser)" if quick else ""), gpt["val_loss"], gpt["val_loss"] < factor * baseline)
    report.check(f"sample character entropy: T = {TEMPERATURES[-1]:g} minus T = {TEMPERATURES[0]:g} > 0",
                 high["entropy"] - low["entropy"], high["entropy"] > low["entropy"])
    report.check("same seed gives the same sample text", text["samples"]["repeatable"], text["samples"]["repeatable"])
    log = vae["log"]
    report.check("VAE negative ELBO fell (last epoch < first)", log["elbo"][-1], log["elbo"][-1] < log["elbo"][0])
    report.check("generated digits are not blank (mean pixel std > 0.1)", vae["pixel_std"], vae["pixel_std"] > 0.1)
    report.check("generated digits differ (closest pair mean abs diff > 0.01)", vae["distinct"], vae["distinct"] > 0.01)
