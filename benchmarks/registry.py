"""Every workload the benchmark runs: its name, what it measures, and its targets.

Targets are upper bounds on deepprimer's time divided by the other's (``torch``: PyTorch
eager, ``floor``: the hand-written NumPy step), from issue 7. The fit and memory workloads
have their own pass rules, applied in report.py.
"""
import importlib
from dataclasses import dataclass, field

STEP_FRAMEWORKS = ("deepprimer", "torch", "floor")


@dataclass(frozen=True)
class Workload:
    name: str
    title: str
    kind: str                      # a key of measure.KINDS
    module: str                    # benchmarks.workloads.<module>.build(framework, **params)
    params: dict = field(default_factory=dict)
    frameworks: tuple = STEP_FRAMEWORKS
    targets: dict = field(default_factory=dict)
    rounds: int = 3                # processes per framework, interleaved; 1 with --quick
    target_case: str = ""          # kind "calls": the one case the targets apply to

    def build(self, framework):
        module = importlib.import_module(f"benchmarks.workloads.{self.module}")
        return module.build(framework, **self.params)


def _mlp(size, opt, title, torch_target, floor_target):
    return Workload(f"mlp-{size}-{opt}", f"{title}, {'SGD' if opt == 'sgd' else 'Adam'} step", "step", "mlp",
                    {"size": size, "opt": opt}, targets={"torch": torch_target, "floor": floor_target})


SMALL, MEDIUM = "MLP 64-128-64-10, batch 64", "MLP 784-512-256-10, batch 128"

WORKLOADS = [
    _mlp("small", "sgd", SMALL, 0.6, 1.3),
    _mlp("small", "adam", SMALL, 0.6, 1.3),
    _mlp("medium", "sgd", MEDIUM, 0.85, 1.15),
    _mlp("medium", "adam", MEDIUM, 0.85, 1.15),
    Workload("cnn", "CNN 2x(conv3x3+ReLU+pool)+linear, batch 64, SGD step", "step", "cnn",
             targets={"torch": 1.0, "floor": 1.3}),
    Workload("lstm", "LSTM 64->128, seq 32, batch 32, fwd+bwd", "step", "lstm", targets={"torch": 1.5}),
    Workload("transformer", "Transformer encoder 2x(d128, 4 heads, ffn 512), seq 64, batch 16, fwd+bwd",
             "step", "transformer", targets={"torch": 1.25}),
    Workload("tiny", "per-op overhead on 10 elements", "calls", "tiny", targets={"torch": 0.5},
             target_case="(w * x).sum().backward()"),
    Workload("digits-fit", "digits MLP (128, 64), 30 epochs, Adam, batch 200: whole fit", "fit", "digits_fit",
             frameworks=("deepprimer", "sklearn"), rounds=1),
    Workload("memory", "MLP 784-512-256-10 Adam, 200 steps: resident memory", "memory", "mlp",
             {"size": "medium", "opt": "adam"}, rounds=1),
]

BY_NAME = {w.name: w for w in WORKLOADS}


def select(names):
    """The workloads named (all when ``names`` is empty), in the registry's order."""
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise ValueError(f"unknown workload(s) {unknown}; choose from {list(BY_NAME)}")
    return [w for w in WORKLOADS if not names or w.name in names]
