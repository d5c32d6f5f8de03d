"""``deepprimer check``: backpropagation you can verify.

Every op, layer and loss of the library goes through a float64 gradcheck: its backward is
compared with central finite differences, element by element, and the table shows the
largest disagreement. ``--function module:ClassName`` puts a learner's own
``dp.autograd.Function`` through the same test: implement a backward pass yourself and
get an automatic verdict.
"""
import importlib
import sys
from dataclasses import dataclass

import numpy as np

import deepprimer as dp
from deepprimer import nn
from deepprimer.autograd import Function, catalog
from deepprimer.autograd.gradcheck import compare

from .report import format_table


@dataclass
class Row:
    name: str
    kind: str
    max_error: float
    failure: str = None

    @property
    def passed(self):
        return self.failure is None

    def cells(self):
        return [self.name, self.kind, f"{self.max_error:.2e}", "PASS" if self.passed else "FAIL"]


def check_fn(name, kind, fn, inputs):
    """One gradcheck, its outcome as a Row (an exception inside the op is a failure too)."""
    try:
        worst, failure = compare(fn, inputs)
    except Exception as err:  # noqa: BLE001  (a broken backward must show up in the table)
        worst, failure = float("nan"), f"{type(err).__name__}: {err}"
    return Row(name, kind, worst, failure)


def _x(*shape, seed=0):
    rng = np.random.default_rng(seed)
    return dp.tensor(rng.standard_normal(shape), requires_grad=True)


def _classes(n, high, seed=1):
    return dp.tensor(np.random.default_rng(seed).integers(0, high, n))


def _unit(*shape, seed=2):
    return dp.tensor(np.random.default_rng(seed).uniform(0.05, 0.95, shape))


# layer name -> (factory, input shape); each is checked w.r.t. its input and parameters
LAYERS = {
    "Linear": (lambda: nn.Linear(4, 3), (2, 4)),
    "Sequential(Linear, Tanh, Linear)": (lambda: nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)), (2, 3)),
    "BatchNorm1d (training)": (lambda: nn.BatchNorm1d(3), (5, 3)),
    "LayerNorm": (lambda: nn.LayerNorm(4), (2, 4)),
    "ReLU": (nn.ReLU, (2, 3)),
    "LeakyReLU": (lambda: nn.LeakyReLU(0.1), (2, 3)),
    "Sigmoid": (nn.Sigmoid, (2, 3)),
    "Tanh": (nn.Tanh, (2, 3)),
    "GELU": (nn.GELU, (2, 3)),
    "ELU": (nn.ELU, (2, 3)),
    "Softplus": (nn.Softplus, (2, 3)),
    "Softmax": (lambda: nn.Softmax(dim=1), (2, 3)),
    "LogSoftmax": (lambda: nn.LogSoftmax(dim=1), (2, 3)),
}

# loss name -> (module, input, target)
LOSSES = {
    "MSELoss": (nn.MSELoss, lambda: (_x(3, 2), _x(3, 2, seed=5).detach())),
    "L1Loss": (nn.L1Loss, lambda: (_x(3, 2), _x(3, 2, seed=5).detach())),
    "HuberLoss": (nn.HuberLoss, lambda: (_x(3, 2), _x(3, 2, seed=5).detach())),
    "SmoothL1Loss": (nn.SmoothL1Loss, lambda: (_x(3, 2), _x(3, 2, seed=5).detach())),
    "CrossEntropyLoss": (nn.CrossEntropyLoss, lambda: (_x(4, 3), _classes(4, 3))),
    "CrossEntropyLoss(label_smoothing=0.1)": (lambda: nn.CrossEntropyLoss(label_smoothing=0.1),
                                              lambda: (_x(4, 3), _classes(4, 3))),
    "NLLLoss": (nn.NLLLoss, lambda: (_x(4, 3), _classes(4, 3))),
    "BCELoss": (nn.BCELoss, lambda: (_unit(3, 2).requires_grad_(), _unit(3, 2, seed=6))),
    "BCEWithLogitsLoss": (nn.BCEWithLogitsLoss, lambda: (_x(3, 2), _unit(3, 2, seed=6))),
    "KLDivLoss(batchmean)": (lambda: nn.KLDivLoss(reduction="batchmean"),
                             lambda: (_x(3, 4), _unit(3, 4, seed=6))),
}


def layer_rows():
    rows = []
    for name, (factory, shape) in LAYERS.items():
        dp.manual_seed(0)
        module = factory().double()
        params = list(module.parameters())
        rows.append(check_fn(name, "layer", lambda x, *ps, m=module: m(x), (_x(*shape), *params)))
    return rows


def loss_rows():
    rows = []
    for name, (factory, make) in LOSSES.items():
        loss = factory()
        prediction, target = make()
        rows.append(check_fn(name, "loss", lambda p, t=target, f=loss: f(p, t), (prediction,)))
    return rows


def op_rows():
    rows = []
    for family in ("ELEMENTWISE", "REDUCE", "SHAPE", "LINALG", "NN_OPS", "FUNCTIONAL"):
        for case in getattr(catalog, family):
            if case.gradcheck:
                rows.append(check_fn(case.name, f"op ({family.lower()})", case.deepprimer_fn(), case.deepprimer_inputs()))
    return rows


def check_library():
    return op_rows() + layer_rows() + loss_rows()


def load_function(spec):
    """The Function subclass named by 'module:ClassName' (the module found from the cwd too)."""
    if ":" not in spec:
        raise ValueError(f"--function takes module:ClassName (e.g. my_ops:MySquare), got {spec!r}")
    module_name, class_name = spec.split(":", 1)
    if "" not in sys.path:
        sys.path.insert(0, "")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise ValueError(f"cannot import module {module_name!r}: {err}") from None
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Function)):
        raise ValueError(f"{spec} is not a dp.autograd.Function subclass")
    return cls


def check_function(cls):
    """Gradcheck a learner's Function on its ``example_inputs()`` (default: one (3, 4) input)."""
    if hasattr(cls, "example_inputs"):
        inputs = [dp.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in cls.example_inputs()]
    else:
        inputs = [_x(3, 4)]
    return check_fn(cls.__name__, "your Function", lambda *xs: cls.apply(*xs), inputs)


def format_rows(rows):
    """The table, then each failure's message, then a one-line summary."""
    text = format_table(["op", "kind", "max abs error", "result"], [r.cells() for r in rows])
    failures = [f"{r.name}: {r.failure}" for r in rows if not r.passed]
    summary = f"{sum(r.passed for r in rows)} of {len(rows)} gradchecks passed"
    return "\n".join([text, *failures, summary])
