"""Runs each workload's frameworks in fresh processes, interleaved, and pools their rounds.

Interleaving (deepprimer, torch, floor, then torch, floor, deepprimer, ...) spreads any
slow spell of the shared machine over all frameworks instead of one. Each process is
watched for other programs' CPU use, so the report can say which numbers were taken on a
busy machine.
"""
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from .machine import CpuWatch, thread_env
from .timing import summarize

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT_S = 900


def run_worker(name, framework, threads, quick):
    """One worker process: its JSON result plus the machine's state while it ran."""
    env = thread_env(threads)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
        path = tmp.name
    cmd = [sys.executable, "-m", "benchmarks.worker", name, framework, "--result", path]
    if quick:
        cmd.append("--quick")
    try:
        with CpuWatch() as watch:
            proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                                  timeout=TIMEOUT_S, check=False)
        if proc.returncode != 0 or os.path.getsize(path) == 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            result = {"error": f"worker exited with {proc.returncode}: {tail[0]}", "stderr": proc.stderr}
        else:
            with open(path) as f:
                result = json.load(f)
    except subprocess.TimeoutExpired:
        result, watch = {"error": f"timed out after {TIMEOUT_S} s"}, None
    finally:
        os.unlink(path)
    if watch is not None:
        result["machine"] = {"wall_s": round(watch.wall, 2), "load1": round(watch.load1, 2),
                             "other_cores": None if watch.other_cores is None else round(watch.other_cores, 2)}
    return result


def run_workload(workload, threads, quick, log=print):
    """``{framework: merged result}`` for one workload, every framework in its own processes."""
    frameworks = list(workload.frameworks)
    rounds = 1 if quick else workload.rounds
    raw = {fw: [] for fw in frameworks}
    for r in range(rounds):
        order = frameworks[r % len(frameworks):] + frameworks[:r % len(frameworks)]
        for fw in order:
            if raw[fw] and ("unavailable" in raw[fw][0] or "error" in raw[fw][0]):
                continue  # it will not work better the second time
            result = run_worker(workload.name, fw, threads, quick)
            raw[fw].append(result)
            log(f"  {workload.name} {fw} round {r + 1}/{rounds}: {_status(result)}")
    return {fw: merge(workload.kind, results) for fw, results in raw.items()}


def _status(result):
    if "unavailable" in result:
        return result["unavailable"]
    if "error" in result:
        return "ERROR " + result["error"]
    m = result.get("machine", {})
    return f"{m.get('wall_s')} s, others used {m.get('other_cores')} cores"


def merge(kind, results):
    """One framework's rounds pooled into one summary (failures reported as they are)."""
    for r in results:
        if "unavailable" in r or "error" in r:
            return r
    machines = [r["machine"] for r in results]
    others = [m["other_cores"] for m in machines if m["other_cores"] is not None]
    merged = {
        "rounds": len(results),
        "threads": results[0]["threads"],
        "blas": results[0].get("blas", {}),
        "rss_before_build_kib": results[0]["rss_before_build_kib"],
        "machine": {"load1_max": max(m["load1"] for m in machines),
                    "other_cores_mean": round(sum(others) / len(others), 2) if others else None},
    }
    if kind == "step":
        samples = [s for r in results for s in r["samples_ms"]]
        merged["ms"] = summarize(samples)
        merged["round_medians_ms"] = [summarize(r["samples_ms"])["median"] for r in results]
        merged["page_faults_per_step"] = sum(r["page_faults_per_step"] for r in results) / len(results)
    elif kind == "calls":
        merged["us"] = {case: summarize([s for r in results for s in r["samples_us"][case]])
                        for case in results[0]["samples_us"]}
    else:  # fit and memory run once
        merged.update({k: v for k, v in results[0].items() if k not in merged and k != "machine"})
    return merged
