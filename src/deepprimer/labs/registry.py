"""The labs by name: ``deepprimer lab NAME`` runs one, ``deepprimer lab`` lists them."""
import importlib
import os
import time
from dataclasses import dataclass

from .report import format_table


@dataclass(frozen=True)
class LabInfo:
    name: str
    exercise: int
    title: str
    module: str  # the module under deepprimer.labs with run(out_dir, quick, seed) -> Report


LABS = {
    "classify": LabInfo("classify", 1, "A network for classification", "classify"),
    "descent": LabInfo("descent", 2, "Exploring gradient descent", "descent"),
    "learning": LabInfo("learning", 3, "Visualizing the learning process", "learning"),
    "regularize": LabInfo("regularize", 4, "Applying regularization", "regularize"),
    "generate": LabInfo("generate", 5, "A foundation for generative models", "generate"),
}


def lab_info(name):
    if name not in LABS:
        raise ValueError(f"unknown lab {name!r}; choose from {', '.join(LABS)} or all")
    return LABS[name]


def list_table():
    rows = [(i.name, f"exercise {i.exercise}", i.title) for i in LABS.values()]
    return format_table(["lab", "primer", "title"], rows)


def run_lab(name, out_dir=None, quick=False, seed=0):
    """Run one lab; write its report into ``out_dir`` (default labs/NAME); return the Report."""
    info = lab_info(name)
    module = importlib.import_module(f"deepprimer.labs.{info.module}")
    out_dir = out_dir or os.path.join("labs", name)
    start = time.perf_counter()
    report = module.run(out_dir=out_dir, quick=quick, seed=seed)
    report.seconds = time.perf_counter() - start
    report.write()
    return report
