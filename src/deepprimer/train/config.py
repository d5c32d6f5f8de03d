"""TrainConfig: everything that decides a ``deepprimer train`` run, and which data each model fits.

Three kinds of model, each with its own kind of data:

    classifiers  mlp, lenet, resnet            classification or regression datasets
    text         minigpt, char_rnn             a text corpus (--dataset text or --text-file)
    generative   autoencoder, vae,             image datasets, pixels in [0, 1]
                 conv_autoencoder, conv_vae

A few defaults depend on the model (``None`` in the dataclass means "pick for the model"):
the dataset (text for text models, else digits), the hidden sizes, and standardisation
(on for classifiers; off for generative models, whose loss reads pixels as probabilities).
The config stores the value picked, so a saved config.json says exactly what ran.
"""
import dataclasses
import json

from .. import optim
from ..data.datasets import info as dataset_info
from ..data.datasets import list_datasets
from ..models.char_rnn import CELLS
from ..models.mlp import ACTIVATIONS

OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw", "adagrad")
CLASSIFIERS = ("mlp", "lenet", "resnet")  # lenet and resnet need an image dataset
TEXT_MODELS = ("minigpt", "char_rnn")
GENERATIVE_MODELS = ("autoencoder", "vae", "conv_autoencoder", "conv_vae")
MODELS = CLASSIFIERS + TEXT_MODELS + GENERATIVE_MODELS
# hidden sizes: MLP layer widths; CharRNN's one state size; conv channels for the conv models;
# none for MiniGPT, sized by d_model, layers and heads
DEFAULT_HIDDEN = {"minigpt": (), "char_rnn": (256,), "autoencoder": (256,), "vae": (256,),
                  "conv_autoencoder": (16, 32), "conv_vae": (16, 32)}


# Settings only some models read. Changing one for a model that would ignore it is an
# error naming the models it is for, rather than a flag that silently does nothing.
USED_BY = {
    "hidden": ("mlp", "char_rnn", *GENERATIVE_MODELS),
    "activation": ("mlp", "autoencoder", "vae"),
    "dropout": ("mlp", "lenet", *TEXT_MODELS),
    "batchnorm": ("mlp",),
    "block_size": TEXT_MODELS,
    "steps_per_epoch": TEXT_MODELS,
    "d_model": TEXT_MODELS,
    "layers": TEXT_MODELS,
    "heads": ("minigpt",),
    "cell": ("char_rnn",),
    "latent_dim": GENERATIVE_MODELS,
    "val_size": CLASSIFIERS + GENERATIVE_MODELS,  # text is split 90/10 in reading order
    "test_size": CLASSIFIERS + GENERATIVE_MODELS,
}
MOMENTUM_OPTIMIZERS = ("momentum", "nesterov")  # the optimizers --momentum is for


def model_kind(model):
    """"classifier", "text" or "generative"; ValueError listing the models for an unknown name."""
    for kind, names in (("classifier", CLASSIFIERS), ("text", TEXT_MODELS), ("generative", GENERATIVE_MODELS)):
        if model in names:
            return kind
    raise ValueError(f"unknown model {model!r}; choose from {', '.join(MODELS)}")


def image_datasets():
    """Names of the built-in image datasets (their samples are (channels, height, width))."""
    return [i.name for i in list_datasets() if i.shape is not None and len(i.shape) == 4]


@dataclasses.dataclass
class TrainConfig:
    """Everything that decides a run; two runs with equal configs are equal, bit for bit."""

    dataset: str = None  # None: "text" for text models, else "digits"
    model: str = "mlp"
    hidden: tuple = None  # None: DEFAULT_HIDDEN for the model, else (128, 64)
    activation: str = "relu"
    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.9
    batch_size: int = 64
    epochs: int = 30
    weight_decay: float = 0.0
    dropout: float = 0.0
    batchnorm: bool = False
    early_stopping: int = 0
    val_size: float = 0.1
    test_size: float = 0.25
    standardize: bool = None  # None: on for classifiers, off otherwise
    seed: int = 0
    # text models
    text_file: str = None  # a text file to learn instead of the default corpus
    block_size: int = 64  # characters per training window (MiniGPT's context)
    steps_per_epoch: int = 100
    d_model: int = 128  # MiniGPT's width; the character embedding size of both text models
    layers: int = 2  # Transformer blocks, or stacked recurrent layers
    heads: int = 4
    cell: str = "lstm"
    # generative models
    latent_dim: int = 8

    def __post_init__(self):
        for name, value in picked_defaults(self.model, self.text_file).items():
            if getattr(self, name) is None:
                setattr(self, name, value)
        self.hidden = tuple(int(h) for h in self.hidden)
        self.validate()

    @property
    def kind(self):
        return model_kind(self.model)

    def validate(self):
        """Raise ValueError naming the first setting that cannot work, and what would."""
        info = dataset_info(self.dataset)  # unknown names raise with the list of datasets
        kind, images = self.kind, image_datasets()
        checks = [
            (self.text_file is None or self.dataset == "text",
             f"--text-file PATH needs --dataset text (or no --dataset), not --dataset {self.dataset}"),
            *self.data_checks(kind, info, images),
            (self.activation in ACTIVATIONS, f"unknown activation {self.activation!r}; choose from {', '.join(sorted(ACTIVATIONS))}"),
            (self.optimizer in OPTIMIZERS, f"unknown optimizer {self.optimizer!r}; choose from {', '.join(OPTIMIZERS)}"),
            (all(h >= 1 for h in self.hidden), f"hidden sizes must be >= 1, got {list(self.hidden)}"),
            (self.lr > 0, f"lr must be > 0, got {self.lr}"),
            (0 <= self.momentum < 1, f"momentum must be in [0, 1), got {self.momentum}"),
            (self.optimizer in MOMENTUM_OPTIMIZERS or self.momentum == TrainConfig.momentum,
             f"--momentum does not apply to optimizer {self.optimizer}; it is for {', '.join(MOMENTUM_OPTIMIZERS)}"),
            (self.batch_size >= 1, f"batch size must be >= 1, got {self.batch_size}"),
            (self.epochs >= 1, f"epochs must be >= 1, got {self.epochs}"),
            (self.weight_decay >= 0, f"weight decay must be >= 0, got {self.weight_decay}"),
            (0 <= self.dropout < 1, f"dropout must be in [0, 1), got {self.dropout}"),
            (self.early_stopping >= 0, f"early stopping patience must be >= 0, got {self.early_stopping}"),
            (0 <= self.val_size < 1 and 0 < self.test_size < 1 and self.val_size + self.test_size < 1,
             f"val size {self.val_size} and test size {self.test_size} must be fractions leaving training data"),
            (not self.early_stopping or self.val_size > 0 or kind == "text",
             "early stopping needs a validation split: set val size > 0"),
            *self.size_checks(),
            *self.unused_checks(),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)

    def data_checks(self, kind, info, images):
        """Does the model fit the dataset? Each message names what would."""
        if kind == "text":
            return [(self.dataset == "text",
                     f"model {self.model} needs a text dataset (--dataset text or --text-file PATH)")]
        if kind == "generative":
            return [(self.dataset in images, f"model {self.model} needs an image dataset: {', '.join(images)}"),
                    (not self.standardize, f"model {self.model} reads pixels in [0, 1] as probabilities: "
                                           "set standardize to false")]
        return [
            (info.task in ("classification", "regression"),
             f"model {self.model} needs a classification or regression dataset; {self.dataset!r} is a {info.task} "
             f"corpus: use --model minigpt or --model char_rnn"),
            (self.model == "mlp" or self.dataset in images,
             f"model {self.model!r} needs an image dataset ({', '.join(images)}); "
             f"{self.dataset!r} is not one: use --model mlp"),
        ]

    def unused_checks(self):
        """A setting moved from its default for a model that does not read it."""
        defaults = {f.name: f.default for f in dataclasses.fields(self)}
        defaults["hidden"] = picked_defaults(self.model)["hidden"]
        return [(self.model in models or getattr(self, name) == defaults[name],
                 f"--{name.replace('_', '-')} does not apply to model {self.model}; it is for {', '.join(models)}")
                for name, models in USED_BY.items()]

    def size_checks(self):
        return [
            (self.block_size >= 1, f"block size must be >= 1, got {self.block_size}"),
            (self.steps_per_epoch >= 1, f"steps per epoch must be >= 1, got {self.steps_per_epoch}"),
            (min(self.d_model, self.layers, self.heads, self.latent_dim) >= 1,
             f"d_model, layers, heads and latent dim must be >= 1, got {self.d_model}, {self.layers}, "
             f"{self.heads}, {self.latent_dim}"),
            (self.model != "minigpt" or self.d_model % self.heads == 0,
             f"minigpt: d_model {self.d_model} must be divisible by heads {self.heads}"),
            (self.cell in CELLS, f"unknown cell {self.cell!r}; choose from {', '.join(CELLS)}"),
            (self.model != "char_rnn" or len(self.hidden) == 1,
             f"char_rnn takes one hidden size (its state), got {list(self.hidden)}; stack layers with --layers"),
        ]

    def describe(self):
        """One line: what will train on what, and how."""
        what = self.model
        if self.model == "mlp":
            what += f" {list(self.hidden)}"
        elif self.model == "minigpt":
            what += f" (d_model {self.d_model}, layers {self.layers}, heads {self.heads}, block {self.block_size})"
        elif self.model == "char_rnn":
            what += (f" ({self.cell}, hidden {self.hidden[0]}, layers {self.layers}, embedding {self.d_model}, "
                     f"block {self.block_size})")
        elif self.kind == "generative":
            sizes = "channels" if self.model.startswith("conv") else "hidden"
            what += f" ({sizes} {list(self.hidden)}, latent {self.latent_dim})"
        data = self.text_file or self.dataset
        epochs = f"{self.epochs} epochs" + (f" of {self.steps_per_epoch} steps" if self.kind == "text" else "")
        return (f"training {what} on {data} with {self.optimizer} "
                f"(lr {self.lr}, batch {self.batch_size}, {epochs}, seed {self.seed})")

    def to_json(self):
        return json.dumps(dataclasses.asdict(self), indent=2)

    @classmethod
    def from_json_file(cls, path, **overrides):
        try:
            with open(path) as handle:
                values = json.load(handle)
        except FileNotFoundError:
            raise FileNotFoundError(f"config file {path} does not exist") from None
        except json.JSONDecodeError as err:
            raise ValueError(f"config file {path} is not valid JSON: {err}") from None
        unknown = set(values) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"config file {path} has unknown settings: {', '.join(sorted(unknown))}")
        if "momentum" not in overrides and overrides.get("optimizer", values.get("optimizer")) not in MOMENTUM_OPTIMIZERS:
            values.pop("momentum", None)  # another optimizer without momentum: the saved value does not apply
        trained = values.get("model", cls.model)
        if overrides.get("model", trained) != trained:
            # another model: what was picked for the saved one is picked again for it
            for name, value in picked_defaults(trained, values.get("text_file")).items():
                if name not in overrides and _json_equal(values.get(name), value):
                    values[name] = None
        values.update(overrides)
        return cls(**values)


def picked_defaults(model, text_file=None):
    """The settings whose default depends on the model (``None`` in TrainConfig)."""
    kind = model_kind(model)
    return {"dataset": "text" if kind == "text" or text_file is not None else "digits",
            "hidden": DEFAULT_HIDDEN.get(model, (128, 64)),
            "standardize": kind == "classifier"}


def _json_equal(stored, value):
    return list(stored) == list(value) if isinstance(value, tuple) else stored == value


def build_optimizer(config, parameters):
    name, lr, wd = config.optimizer, config.lr, config.weight_decay
    if name in ("sgd", "momentum", "nesterov"):
        momentum = 0.0 if name == "sgd" else config.momentum
        return optim.SGD(parameters, lr=lr, momentum=momentum, nesterov=name == "nesterov", weight_decay=wd)
    kinds = {"rmsprop": optim.RMSprop, "adam": optim.Adam, "adamw": optim.AdamW, "adagrad": optim.Adagrad}
    return kinds[name](parameters, lr=lr, weight_decay=wd)
