"""The ``deepprimer`` command: thin wrappers that parse arguments and call the library.

Every bad argument ends in one line on stderr and exit code 2, never a traceback.
"""
import argparse
import dataclasses
import os
import sys

import numpy as np


class CommandError(Exception):
    """A problem with what the user asked for: printed as one line, exit code 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise CommandError(f"{self.prog}: error: {message}")


def positive_float(text):
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def sizes(text):
    try:
        values = tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers like 128,64, got {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"hidden sizes must be integers >= 1, got {text!r}")
    return values


def build_parser():
    from .train.config import TrainConfig

    defaults = TrainConfig()
    parser = Parser(prog="deepprimer", description="deepprimer: deep learning from first principles, on NumPy.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    train = commands.add_parser("train", help="train a model on a built-in dataset and save the run",
                                description="Train a model, print progress and test results, save the run folder.")
    train.add_argument("--config", help="a run's config.json: reproduce it exactly (other flags override)")
    train.add_argument("--dataset", help="built-in dataset (see `deepprimer datasets`; default digits, "
                                          "or text for minigpt and char_rnn)")
    train.add_argument("--model", help="classifiers: mlp, lenet, resnet (lenet and resnet on image datasets); "
                                        "text: minigpt, char_rnn (on --dataset text or --text-file); generative: "
                                        "autoencoder, vae, conv_autoencoder, conv_vae (on digits, mnist, "
                                        f"fashion_mnist); default {defaults.model}")
    train.add_argument("--hidden", type=sizes, help="hidden sizes: MLP layers, e.g. 128,64 (default 128,64; 256 for "
                                                     "autoencoder and vae); char_rnn's state size (default 256); "
                                                     "conv channels for conv_autoencoder and conv_vae (default 16,32)")
    train.add_argument("--activation", help=f"relu, tanh, sigmoid, gelu, elu, leaky_relu, softplus (default {defaults.activation})")
    train.add_argument("--optimizer", help=f"sgd, momentum, nesterov, rmsprop, adam, adamw, adagrad (default {defaults.optimizer})")
    train.add_argument("--lr", type=float, help=f"learning rate (default {defaults.lr})")
    train.add_argument("--momentum", type=float, help=f"momentum for momentum/nesterov (default {defaults.momentum})")
    train.add_argument("--batch-size", type=int, help=f"mini-batch size (default {defaults.batch_size})")
    train.add_argument("--epochs", type=int, help=f"passes over the training data; for text models, rounds of --steps-per-epoch "
                                                    f"steps (default {defaults.epochs})")
    train.add_argument("--weight-decay", type=float, help="L2 regularisation strength (default 0)")
    train.add_argument("--dropout", type=float, help="dropout probability after each hidden layer, also in minigpt and char_rnn "
                                                      "(default 0)")
    train.add_argument("--batchnorm", action="store_true", default=None, help="batch normalisation after each hidden linear layer")
    train.add_argument("--early-stopping", type=int, help="stop after this many epochs without val_loss improvement (default 0: off)")
    train.add_argument("--val-size", type=float, help=f"validation fraction (default {defaults.val_size})")
    train.add_argument("--test-size", type=float, help=f"test fraction (default {defaults.test_size})")
    train.add_argument("--seed", type=int, help=f"random seed for split, init, shuffling, dropout (default {defaults.seed})")
    text = train.add_argument_group("text models (minigpt, char_rnn)",
                                    "Character level: the text is split 90/10 in reading order (no test split); "
                                    "the run reports the validation loss beside the unigram baseline and writes "
                                    "samples.txt and corpus.json (the text's fingerprint, checked by evaluate).")
    text.add_argument("--text-file", help="learn this text file instead of the default corpus (Python's help topics)")
    text.add_argument("--block-size", type=int, help=f"characters per training window, minigpt's context "
                                                      f"(default {defaults.block_size})")
    text.add_argument("--steps-per-epoch", type=int, help=f"training steps per epoch, each on --batch-size random "
                                                           f"windows (default {defaults.steps_per_epoch})")
    text.add_argument("--d-model", type=int, help=f"character embedding size; minigpt's width (default {defaults.d_model})")
    text.add_argument("--layers", type=int, help=f"Transformer blocks, or stacked recurrent layers (default {defaults.layers})")
    text.add_argument("--heads", type=int, help=f"minigpt's attention heads (default {defaults.heads})")
    text.add_argument("--cell", help=f"char_rnn's cell: lstm, gru or rnn (default {defaults.cell})")
    generative = train.add_argument_group("generative models (autoencoder, vae, conv_autoencoder, conv_vae)",
                                          "Pixels in [0, 1], not standardised; the loss is the model's own (the "
                                          "negative ELBO for VAEs), in nats per image. The run writes samples.png.")
    generative.add_argument("--latent-dim", type=int, help=f"size of the code (default {defaults.latent_dim})")
    train.add_argument("--out", help="run folder to write (default runs/DATASET-MODEL)")
    train.add_argument("--quiet", action="store_true", help="no progress output")

    evaluate = commands.add_parser("evaluate", help="test metrics of a saved run",
                                   description="Evaluate a saved run on the splits it was trained with: test metrics "
                                               "(generative runs: validation and test loss; text runs: "
                                               "validation loss and the unigram baseline).")
    evaluate.add_argument("--run", required=True, help="run folder written by `deepprimer train`")

    predict = commands.add_parser("predict", help="predict with a saved run's model",
                                  description="Predict classes (or values) for the samples in a .npy file, with a "
                                              "classifier or regressor run (mlp, lenet, resnet).")
    predict.add_argument("--run", required=True, help="run folder written by `deepprimer train`")
    predict.add_argument("--input", required=True, help="a .npy file of samples (one per row, or one sample)")
    predict.add_argument("--output", help="write predictions to this .npy file too")

    commands.add_parser("datasets", help="list the built-in datasets", description="List the built-in datasets.")

    lab = commands.add_parser("lab", help="run one of the primer's hands-on exercises (or all)",
                              description="Run a lab: it trains, draws, checks its results and writes a report. "
                                          "Without NAME, list the labs.")
    lab.add_argument("name", nargs="?", help="classify, descent, learning, regularize, generate, or all")
    lab.add_argument("--out", help="output folder (default labs/NAME; for all, labs/)")
    lab.add_argument("--quick", action="store_true", help="a small version that runs in well under a minute")
    lab.add_argument("--seed", type=int, default=0, help="random seed (default 0)")

    figures = commands.add_parser("figures", help="draw the primer's figures from live computation",
                                  description="Write neural_network.png, gradient_descent.png, backpropagation.png, "
                                              "overfitting.png and activation_functions.png, each computed now.")
    figures.add_argument("--out", default="figures", help="output folder (default figures/)")
    figures.add_argument("--seed", type=int, default=0, help="random seed (default 0)")

    check = commands.add_parser("check", help="gradcheck every op, layer and loss (or your own Function)",
                                description="Compare every backward pass with finite differences in float64 "
                                            "and print a table; exit 1 if any disagrees.")
    check.add_argument("--function", metavar="MODULE:CLASS",
                       help="check your own dp.autograd.Function subclass instead (give it a staticmethod "
                            "example_inputs() returning arrays, or it gets one (3, 4) input)")
    return parser


def config_from_args(args):
    from .train.config import TrainConfig

    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    given = {k: v for k, v in vars(args).items() if k in fields and v is not None}
    if args.text_file is not None:  # the run folder must find the text from anywhere
        given["text_file"] = os.path.abspath(args.text_file)
    if args.config:
        return TrainConfig.from_json_file(args.config, **given)
    return TrainConfig(**given)


def format_confusion(counts, class_names=None):
    """The confusion matrix as aligned text: one row per true class, one column per prediction."""
    names = [str(c) for c in (class_names or range(len(counts)))]
    width = max(max(len(n) for n in names), len(str(np.max(counts))))
    label = max(len(n) for n in names)
    lines = [" " * label + "  " + " ".join(n.rjust(width) for n in names)]
    for name, row in zip(names, counts):
        lines.append(name.rjust(label) + "  " + " ".join(str(v).rjust(width) for v in row))
    return "\n".join(lines)


def print_test(test, class_names):
    for key, value in test.items():
        if key != "confusion_matrix":
            print(f"{key}: {value:.4f}")
    if "confusion_matrix" in test:
        print("confusion matrix (rows: true class, columns: predicted class):")
        print(format_confusion(test["confusion_matrix"], class_names))


def command_train(args):
    from .train.experiment import train_run
    from .train.progress import format_seconds

    config = config_from_args(args)
    out = args.out or f"runs/{config.dataset}-{config.model}"
    print(config.describe())
    result = train_run(config, out=out, verbose=0 if args.quiet else 1)
    print(f"trained in {format_seconds(result['seconds'])}")
    print_test(result["test"], result["class_names"])
    print(f"run saved to {out}/ ({', '.join(result['files'])})")


def command_evaluate(args):
    from .train.experiment import evaluate_run

    test, class_names = evaluate_run(args.run)
    print_test(test, class_names)


def command_predict(args):
    from .train.experiment import predict_run, require_predictable

    require_predictable(args.run)
    try:
        X = np.load(args.input, allow_pickle=False)
    except FileNotFoundError:
        raise FileNotFoundError(f"input file {args.input} does not exist") from None
    except ValueError as err:
        raise ValueError(f"cannot read {args.input} as a .npy array: {err}") from None
    predictions = predict_run(args.run, X)
    print(" ".join(str(p) for p in np.asarray(predictions).reshape(-1)) if predictions.ndim == 1 else predictions)
    if args.output:
        from .atomic import atomic_path

        path = args.output if args.output.endswith(".npy") else args.output + ".npy"  # as np.save names it
        with atomic_path(path) as tmp, open(tmp, "wb") as handle:
            np.save(handle, predictions)


def command_datasets(args):
    from .data.datasets import format_table

    print(format_table())


def command_lab(args):
    from .labs import list_table, run_lab
    from .labs.index import write_index
    from .labs.registry import LABS, lab_info

    if args.name is None:
        print(list_table())
        return 0
    names = list(LABS) if args.name == "all" else [lab_info(args.name).name]
    root = args.out or "labs"
    reports = []
    for name in names:
        out = os.path.join(root, name) if args.name == "all" or not args.out else args.out
        print(f"== lab {name} -> {out}/")
        report = run_lab(name, out, quick=args.quick, seed=args.seed)
        print(report.checks_table())
        print(f"report: {out}/report.html ({report.seconds:.1f}s)")
        reports.append((name, out, report))
    if args.name == "all":
        print(f"index: {write_index(root, reports)}")
    return 0 if all(r.passed for _, _, r in reports) else 1


def command_figures(args):
    from .labs.figures import write_figures

    for path in write_figures(args.out, seed=args.seed):
        print(f"wrote {path}")


def command_check(args):
    from .labs.check import check_function, check_library, format_rows, load_function

    rows = [check_function(load_function(args.function))] if args.function else check_library()
    print(format_rows(rows))
    return 0 if all(r.passed for r in rows) else 1


COMMANDS = {
    "train": command_train, "evaluate": command_evaluate, "predict": command_predict,
    "datasets": command_datasets, "lab": command_lab, "check": command_check,
    "figures": command_figures,
}


def main(argv=None):
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 0
        return COMMANDS[args.command](args) or 0
    except CommandError as err:
        print(str(err), file=sys.stderr)
    except (ValueError, TypeError, FileNotFoundError) as err:
        print(f"deepprimer {getattr(args, 'command', '')}: error: {err}", file=sys.stderr)
    except KeyboardInterrupt:
        print("deepprimer: interrupted", file=sys.stderr)
        return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
