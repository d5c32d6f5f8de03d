"""One measurement in its own process: ``python -m benchmarks.worker NAME FRAMEWORK --result FILE``.

Run by runner.py with the thread-count environment already set, so NumPy's and torch's
thread pools are sized before either is imported, and nothing one framework loaded (its
threads, allocator, imports) can slow the other. Writes one JSON object to FILE.
"""
import argparse
import importlib
import json
import sys
import traceback

from . import measure
from .registry import BY_NAME
from .workloads.common import Unavailable


def thread_report():
    """The thread pools actually in use, as proof that every framework ran on the same count,
    and the BLAS kernels behind them (OpenBLAS picks them per CPU, or as OPENBLAS_CORETYPE says)."""
    threads, blas = {}, {}
    try:
        from threadpoolctl import threadpool_info

        for pool in threadpool_info():
            name = f"{pool['internal_api']}:{pool.get('prefix', '')}"
            threads[name] = pool["num_threads"]
            if pool["user_api"] == "blas":
                blas[name] = f"{pool.get('version')} {pool.get('architecture') or ''}".strip()
    except ImportError:
        pass
    torch = sys.modules.get("torch")
    if torch is not None:
        threads["torch"] = torch.get_num_threads()
        blas["torch"] = "MKL" if torch.backends.mkl.is_available() else "no MKL"
    return threads, blas


IMPORTS = {"deepprimer": "deepprimer", "torch": "torch", "sklearn": "sklearn.neural_network", "floor": "numpy"}


def preload(framework):
    """Import the framework first, so the RSS taken before the model includes the import."""
    try:
        importlib.import_module(IMPORTS.get(framework, "numpy"))
    except ImportError:
        pass  # build() says so, as Unavailable


def run(name, framework, quick):
    workload = BY_NAME[name]
    preload(framework)
    rss_before = measure.proc_status_kib("VmRSS")
    try:
        target = workload.build(framework)
        result = measure.KINDS[workload.kind](target, quick)
    except Unavailable as exc:
        return {"unavailable": str(exc)}
    except Exception as exc:  # noqa: BLE001  (one broken framework must not sink the whole run)
        return {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
    result["rss_before_build_kib"] = rss_before
    result["threads"], result["blas"] = thread_report()
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", choices=sorted(BY_NAME))
    parser.add_argument("framework")
    parser.add_argument("--result", required=True, help="file to write the JSON result to")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    result = run(args.name, args.framework, args.quick)
    with open(args.result, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
