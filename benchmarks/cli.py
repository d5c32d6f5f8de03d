"""``python -m benchmarks [--quick] [--only NAME ...] [--out DIR] [--threads N]``.

Runs the selected workloads (all by default), prints the Markdown table, and writes
DIR/results.md and DIR/results.json (DIR defaults to bench-results/, git-ignored).
"""
import argparse
import json
import os
import sys
import time
from importlib import metadata
from pathlib import Path

from . import report, verdicts
from .machine import CpuWatch, snapshot
from .registry import WORKLOADS, select
from .runner import ROOT, run_workload


def versions():
    """Installed versions, read from package metadata so the parent never imports torch."""
    out = {}
    for dist in ("deepprimer", "numpy", "torch", "scikit-learn"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def seen(results, key):
    """Every value the workers reported under ``key`` per pool, e.g. {'torch': [2]} for threads."""
    out = {}
    for res in results.values():
        for r in res.values():
            for pool, value in (r.get(key) or {}).items():
                out.setdefault(pool, set()).add(value)
    return {pool: sorted(values) for pool, values in sorted(out.items())}


def preflight(threads, log):
    """One second of watching other programs' CPU use before starting, with a warning when
    they leave fewer free cores than the threads asked for: multi-threaded BLAS then stalls
    for whole scheduler time slices, and medians measure the other programs."""
    with CpuWatch() as watch:
        time.sleep(1.0)
    free = (os.cpu_count() or 1) - (watch.other_cores or 0.0)
    if threads > 1 and free < threads - 0.25:
        log(f"WARNING: other programs are using {watch.other_cores:.2f} of {os.cpu_count()} cores; "
            f"with --threads {threads} BLAS threads will stall. Try --threads 1, or a quieter moment.")
    return round(watch.other_cores, 2) if watch.other_cores is not None else None


def run(workloads, threads, quick, log):
    start = snapshot()
    start["other_cores"] = preflight(threads, log)
    results, checks = {}, {}
    for i, w in enumerate(workloads, 1):
        t0 = time.perf_counter()
        log(f"[{i}/{len(workloads)}] {w.name}: {w.title}")
        results[w.name] = run_workload(w, threads, quick, log)
        checks[w.name] = verdicts.KINDS[w.kind](w, results[w.name])
        log(f"  done in {time.perf_counter() - t0:.1f} s")
    doc = {
        "config": {"threads": threads, "quick": quick, "workloads": [w.name for w in workloads]},
        "machine_start": start, "machine_end": snapshot(), "versions": versions(),
        "threads_seen": seen(results, "threads"), "blas_seen": seen(results, "blas"),
        "env": {k: v for k, v in os.environ.items() if k.startswith(("OPENBLAS_", "MKL_", "OMP_", "MALLOC_"))}, "other_cores_max": report.busy_workloads(results),
        "tally": verdicts.tally(workloads, results, checks),
        "results": results, "checks": checks,
        "targets": {w.name: w.targets for w in workloads},
    }
    return doc, report.markdown(doc, workloads, results, checks)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: one round, few steps")
    parser.add_argument("--only", nargs="+", default=[], metavar="NAME",
                        help=f"run only these workloads: {', '.join(w.name for w in WORKLOADS)}")
    parser.add_argument("--out", default=str(ROOT / "bench-results"), help="folder for results.md and results.json")
    parser.add_argument("--threads", type=int, default=2, help="threads for every framework (default 2)")
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error("--threads must be >= 1")
    try:
        workloads = select(args.only)
    except ValueError as exc:
        parser.error(str(exc))
    doc, md = run(workloads, args.threads, args.quick, log=lambda msg: print(msg, file=sys.stderr, flush=True))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.md").write_text(md + "\n")
    (out / "results.json").write_text(json.dumps(doc, indent=1) + "\n")
    print(md)
    print(f"\nwrote {out / 'results.md'} and {out / 'results.json'}", file=sys.stderr)
    return 0
