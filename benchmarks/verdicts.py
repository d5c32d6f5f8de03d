"""The ratios and PASS/MISS verdicts of issue 7's targets, computed from merged results.

Kept apart from the Markdown so the JSON carries the same verdicts the table prints.
"""
import statistics

FLAT_KIB = 1024          # "memory flat": RSS grows less than 1 MiB over the last 50 steps
FLAT_WINDOW = 50


def ok(result):
    return result is not None and "unavailable" not in result and "error" not in result


def ratio_check(dp_value, other_value, limit):
    """``{'ratio', 'target', 'verdict'}`` of dp / other against ``limit`` (None: no target)."""
    if dp_value is None or other_value is None:
        return {"ratio": None, "target": limit, "verdict": "n/a"}
    ratio = dp_value / other_value
    verdict = "" if limit is None else ("PASS" if ratio <= limit else "MISS")
    return {"ratio": ratio, "target": limit, "verdict": verdict}


def step(workload, res):
    median = lambda fw: res[fw]["ms"]["median"] if ok(res.get(fw)) else None
    return {other: ratio_check(median("deepprimer"), median(other), workload.targets.get(other))
            for other in ("torch", "floor")}


def calls(workload, res):
    out = {}
    dp = res.get("deepprimer")
    cases = list(dp["us"]) if ok(dp) else []
    for case in cases:
        out[case] = {}
        for other in ("torch", "floor"):
            limit = workload.targets.get(other) if case == workload.target_case else None
            other_us = res[other]["us"][case]["median"] if ok(res.get(other)) else None
            out[case][other] = ratio_check(dp["us"][case]["median"], other_us, limit)
    return out


def fit(workload, res):
    """Faster than scikit-learn and at least as accurate, over the seeds run.

    Wall time compares medians over the seeds (one run stalled by another process must not
    decide it); accuracy compares means (one test sample is 0.2 points).
    """
    if not (ok(res.get("deepprimer")) and ok(res.get("sklearn"))):
        return {"verdict": "n/a"}
    values = lambda fw, key: [r[key] for r in res[fw]["runs"]]
    wall = ratio_check(statistics.median(values("deepprimer", "wall_s")),
                       statistics.median(values("sklearn", "wall_s")), 1.0)
    acc_dp, acc_sk = statistics.mean(values("deepprimer", "test_acc")), statistics.mean(values("sklearn", "test_acc"))
    passed = wall["verdict"] == "PASS" and acc_dp >= acc_sk
    return {"wall_ratio": wall["ratio"], "acc_diff": acc_dp - acc_sk, "faster": wall["verdict"] == "PASS",
            "as_accurate": acc_dp >= acc_sk, "verdict": "PASS" if passed else "MISS"}


def memory_stats(result):
    rss = result["rss_kib"]
    window = min(FLAT_WINDOW, len(rss) - 1)
    growth = rss[-1] - rss[-1 - window]
    return {
        "before_build_kib": result["rss_before_build_kib"], "first_step_kib": rss[0], "last_step_kib": rss[-1],
        "peak_kib": result["peak_kib"], "growth_last_kib": growth, "window": window,
        "growth_after_warmup_kib": rss[-1] - rss[min(FLAT_WINDOW, len(rss) - 1) - 1],
        "steps": len(rss), "flat": growth < FLAT_KIB,
    }


def memory(workload, res):
    """deepprimer's RSS flat over the last steps, and its peak at most PyTorch's."""
    stats = {fw: memory_stats(r) for fw, r in res.items() if ok(r)}
    dp = stats.get("deepprimer")
    if dp is None:
        return {"stats": stats, "verdict": "n/a"}
    torch_peak = stats["torch"]["peak_kib"] if "torch" in stats else None
    peak_ok = torch_peak is None or dp["peak_kib"] <= torch_peak
    return {"stats": stats, "flat": dp["flat"], "peak_ok": peak_ok,
            "verdict": "PASS" if dp["flat"] and peak_ok else "MISS"}


KINDS = {"step": step, "calls": calls, "fit": fit, "memory": memory}


def tally(workloads, results, checks):
    """Counts of PASS, MISS and n/a over every target in the run."""
    counts = {"PASS": 0, "MISS": 0, "n/a": 0}

    def add(v):
        if v in counts:
            counts[v] += 1

    for w in workloads:
        check = checks[w.name]
        if w.kind == "step":
            for other in w.targets:
                add(check[other]["verdict"])
        elif w.kind == "calls":
            if not check:
                add("n/a")
            for case, c in check.items():
                for other in w.targets if case == w.target_case else ():
                    add(c[other]["verdict"])
        else:
            add(check["verdict"])
    return counts
