"""Per-call overhead of the engine on tiny tensors, where Python cost is everything.

Measures, for deepprimer, raw NumPy and (when installed) PyTorch eager in the same run:
  * add of two (10,) tensors without grad;
  * add with grad, forward + backward;
  * the tiny graph (w * x).sum().backward() on 10 elements.
Run:  python -m benchmarks.overhead
"""
import argparse
import json
import subprocess
import sys

import numpy as np

from .timing import busy_warning, machine_state, per_call_us

NUMBER = 2000


def measure_deepprimer(number):
    import deepprimer as dp

    a, b = dp.randn(10), dp.randn(10)
    w, x = dp.randn(10, requires_grad=True), dp.randn(10)

    def add_fwd():
        a + b

    def add_fwd_bwd():
        (w + x).sum().backward()

    def tiny_graph():
        (w * x).sum().backward()

    return {
        "add forward, no grad": per_call_us(add_fwd, number),
        "add forward+backward": per_call_us(add_fwd_bwd, number),
        "(w * x).sum().backward()": per_call_us(tiny_graph, number),
    }


def measure_numpy(number):
    """The floor: the same arithmetic with hand-written gradients, no graph at all."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(10, dtype=np.float32), rng.standard_normal(10, dtype=np.float32)
    w, x = a.copy(), b.copy()

    def add_fwd():
        a + b

    def add_fwd_bwd():
        (w + x).sum()
        np.ones_like(w)  # d/dw of sum(w + x)

    def tiny_graph():
        (w * x).sum()
        x * np.float32(1.0)  # d/dw of sum(w * x) = x

    return {
        "add forward, no grad": per_call_us(add_fwd, number),
        "add forward+backward": per_call_us(add_fwd_bwd, number),
        "(w * x).sum().backward()": per_call_us(tiny_graph, number),
    }


def measure_torch(number):
    import torch

    torch.set_num_threads(1)
    a, b = torch.randn(10), torch.randn(10)
    w, x = torch.randn(10, requires_grad=True), torch.randn(10)

    def add_fwd():
        a + b

    def add_fwd_bwd():
        (w + x).sum().backward()

    def tiny_graph():
        (w * x).sum().backward()

    return {
        "add forward, no grad": per_call_us(add_fwd, number),
        "add forward+backward": per_call_us(add_fwd_bwd, number),
        "(w * x).sum().backward()": per_call_us(tiny_graph, number),
    }


MEASURES = {"deepprimer": measure_deepprimer, "numpy": measure_numpy, "torch": measure_torch}


def run_isolated(name, number):
    """Each framework in its own process, so neither's import or threads affect the other."""
    code = f"import json; from benchmarks.overhead import MEASURES; print(json.dumps(MEASURES[{name!r}]({number})))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if proc.returncode != 0:
        if name == "torch" and "No module named 'torch'" in proc.stderr:
            return None
        raise RuntimeError(f"benchmark {name} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run(quick=False):
    number = NUMBER // 10 if quick else NUMBER
    state = machine_state()
    results = {name: run_isolated(name, number) for name in MEASURES}
    rows = []
    for case in results["deepprimer"]:
        dp_us = results["deepprimer"][case]["median"]
        np_us = results["numpy"][case]["median"]
        torch_us = results["torch"][case]["median"] if results["torch"] else None
        rows.append({
            "case": case, "deepprimer_us": dp_us, "numpy_us": np_us, "torch_us": torch_us,
            "ratio_vs_torch": dp_us / torch_us if torch_us else None,
            "ratio_vs_numpy": dp_us / np_us,
        })
    return {"machine": state, "rows": rows, "raw": results}


def table(result):
    lines = [
        "| case | deepprimer us | PyTorch us | NumPy floor us | dp / PyTorch | dp / floor |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in result["rows"]:
        torch_us = f"{r['torch_us']:.1f}" if r["torch_us"] else "n/a"
        vs_torch = f"{r['ratio_vs_torch']:.2f}x" if r["ratio_vs_torch"] else "n/a"
        lines.append(
            f"| {r['case']} | {r['deepprimer_us']:.1f} | {torch_us} | {r['numpy_us']:.1f} | "
            f"{vs_torch} | {r['ratio_vs_numpy']:.1f}x |"
        )
    warning = busy_warning(result["machine"])
    return "\n".join(lines) + (f"\n\n{warning}" if warning else "")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls, for a smoke run")
    args = parser.parse_args(argv)
    print(table(run(args.quick)))


if __name__ == "__main__":
    main()
