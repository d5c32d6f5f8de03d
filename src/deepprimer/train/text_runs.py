"""``deepprimer train --model minigpt|char_rnn``: a character-level language model on a text.

The corpus (Python's help topics, or ``--text-file``) is split 90/10 in reading order. Each
epoch is ``steps_per_epoch`` steps on random windows of ``block_size`` characters; after
each, the loss on 256 fixed windows spread over the validation text. The run folder adds
``samples.txt``: a seeded continuation, to read what the loss numbers mean, and
``corpus.json``: the text's fingerprint, so a later ``evaluate`` refuses a text that has
changed (another file, or another Python's help topics) instead of scoring on it.
"""
import json
import os
import time

from ..atomic import write_text
from ..data.datasets import text_corpus
from ..models import CharRNN, MiniGPT
from ..random import manual_seed
from ..serialization import load
from ..viz import plot_history
from .char_lm import CharCorpus, char_loaders, next_char_loss, sample_text, validation_loader
from .config import build_optimizer
from .run_folder import COMMON_FILES, read_config, run_callbacks, write_common
from .trainer import evaluate, fit

VAL_WINDOWS = 256
CORPUS_FILE = "corpus.json"
SAMPLE_CHARS, SAMPLE_TEMPERATURE = 500, 0.8


def load_corpus(config, trained_in=None):
    """The run's text as a CharCorpus; with ``trained_in`` (a run folder), first checked to be
    the text that run was trained on."""
    if config.text_file is not None and not os.path.isfile(config.text_file):
        raise FileNotFoundError(f"text file {config.text_file} does not exist")
    corpus = CharCorpus(text_corpus(config.text_file))
    if trained_in is not None:
        check_same_text(corpus, trained_in, config)
    corpus.check_block_size(config.block_size)
    return corpus


def build_text_model(config, vocab_size):
    if config.model == "minigpt":
        return MiniGPT(vocab_size, block_size=config.block_size, d_model=config.d_model, n_heads=config.heads,
                       n_layers=config.layers, dropout=config.dropout)
    return CharRNN(vocab_size, embed_dim=config.d_model, hidden_size=config.hidden[0], num_layers=config.layers,
                   cell=config.cell, dropout=config.dropout)


def train_text_run(config, out=None, verbose=1):
    """Train as ``config`` says; write the run folder ``out`` (if given); return a summary dict."""
    manual_seed(config.seed)
    corpus = load_corpus(config)
    model = build_text_model(config, len(corpus.vocab))
    optimizer = build_optimizer(config, model.parameters())
    train_loader, val_loader = char_loaders(corpus, config.block_size, config.batch_size, config.steps_per_epoch,
                                            VAL_WINDOWS)
    start = time.perf_counter()
    history = fit(model, next_char_loss, optimizer, train_loader, val_loader, epochs=config.epochs, metrics=(),
                  callbacks=run_callbacks(config, out), verbose=verbose)
    seconds = time.perf_counter() - start
    results = text_results(model, corpus, val_loader)
    summary = {"history": history, "test": results, "seconds": seconds, "model": model, "class_names": None,
               "files": COMMON_FILES + ("samples.txt", CORPUS_FILE)}
    if out is not None:
        write_common(out, config, model.state_dict(), results, text_curves(history, config, results))
        write_text(os.path.join(out, "samples.txt"), samples(model, corpus, config))
        write_text(os.path.join(out, CORPUS_FILE), json.dumps(corpus.fingerprint(), indent=2) + "\n")
    return summary


def text_results(model, corpus, val_loader):
    """Validation loss and the unigram baseline, in nats per character."""
    val_loss = evaluate(model, val_loader, next_char_loss, metrics=(), prefix="val_")["val_loss"]
    return {"val_loss": val_loss, "unigram_baseline": corpus.unigram_baseline()}


def text_curves(history, config, results):
    """The usual learning curves, with the unigram baseline drawn across them."""
    data = os.path.basename(config.text_file) if config.text_file else config.dataset
    fig = plot_history(history, title=f"{config.model} on {data} "
                                      f"({config.steps_per_epoch} steps per epoch)")
    ax = fig.axes[0]
    ax.axhline(results["unigram_baseline"], color="#555555", linestyle=":",
               label=f"unigram baseline ({results['unigram_baseline']:.2f})")
    ax.set_ylabel("cross-entropy (nats per character)")
    ax.legend(loc="lower left")  # the baseline runs across the top, where the curves start
    return fig


def prompt_for(text):
    """Samples start as the text does: with its first word and the space after it (within
    the first 16 characters), else its first character."""
    space = text.find(" ", 1, 16)
    return text[:space + 1] if space > 0 else text[0]


def samples(model, corpus, config):
    prompt = prompt_for(corpus.text)
    text = sample_text(model, corpus.vocab, prompt, SAMPLE_CHARS, temperature=SAMPLE_TEMPERATURE, seed=config.seed)
    return (f"# {config.model}: {SAMPLE_CHARS} characters sampled at temperature {SAMPLE_TEMPERATURE}, "
            f"seed {config.seed}, after the prompt {prompt!r}\n{text}\n")


def evaluate_text_run(run_dir):
    """(validation loss and unigram baseline, None) of a saved text run, on its own corpus."""
    config = read_config(run_dir)
    corpus = load_corpus(config, trained_in=run_dir)
    model = build_text_model(config, len(corpus.vocab))
    model.load_state_dict(load(os.path.join(run_dir, "model.npz")))
    return text_results(model, corpus, validation_loader(corpus, config.block_size, VAL_WINDOWS)), None


def check_same_text(corpus, run_dir, config):
    """Raise ValueError if the text differs from the one the run was trained on."""
    path = os.path.join(run_dir, CORPUS_FILE)
    if not os.path.exists(path):  # a run folder from before corpus.json was written
        return
    with open(path, encoding="utf-8") as handle:
        trained = json.load(handle)
    now = corpus.fingerprint()
    if trained["sha256"] != now["sha256"]:
        source = config.text_file or "the built-in corpus (this Python's help topics)"
        raise ValueError(
            f"the text has changed since this run was trained: {source} now has {now['length']:,} characters "
            f"and {len(now['characters'])} distinct, the run's had {trained['length']:,} and "
            f"{len(trained['characters'])}; evaluate needs the run's own text (restore it, or train again)")
