"""The results as a Markdown page (printed and written to results.md) and a JSON document.

Times are medians with their spread (min-max over every timed step of every round);
ratios are deepprimer's median over the other's, from the same run; each target sits beside
its ratio with PASS or MISS.
"""
import statistics

from .machine import busy_warning
from .verdicts import FLAT_KIB, FLAT_WINDOW, ok

NAMES = {"deepprimer": "deepprimer", "torch": "PyTorch", "floor": "NumPy floor", "sklearn": "scikit-learn"}


def cell_time(result, key, case=None):
    """'median (min-max)' of a framework's times, or why there is none."""
    if result is None:
        return "-"
    if not ok(result):
        return result.get("unavailable") or f"error: {result['error'][:60]}"
    s = result[key][case] if case else result[key]
    digits = 3 if s["median"] < 1 else 2 if s["median"] < 10 else 1
    return f"{s['median']:.{digits}f} ({s['min']:.{digits}f}-{s['max']:.{digits}f})"


def cell_ratio(check):
    return "n/a" if check["ratio"] is None else f"{check['ratio']:.2f}x"


def cell_target(check):
    if check["target"] is None:
        return ""
    return f"<= {check['target']:.2f}x {check['verdict']}"


def others_cell(res):
    values = [r["machine"]["other_cores_mean"] for r in res.values() if ok(r) and r["machine"]["other_cores_mean"] is not None]
    return f"{max(values):.2f}" if values else "?"


def faults_cell(res):
    cell = lambda r: f"{r['page_faults_per_step']:.0f}" if ok(r) and "page_faults_per_step" in r else "-"
    return " / ".join(cell(res.get(fw)) for fw in ("deepprimer", "torch", "floor"))


def step_table(workloads, results, checks):
    lines = [("| workload | deepprimer ms | PyTorch ms | NumPy floor ms | dp / PyTorch | target | dp / floor | target "
             "| others' cores | page faults / step (dp / torch / floor) |"),
             "|---|---:|---:|---:|---:|---|---:|---|---:|---:|"]
    for w in workloads:
        res, check = results[w.name], checks[w.name]
        lines.append(f"| {w.title} | " + " | ".join(cell_time(res.get(fw), "ms") for fw in ("deepprimer", "torch", "floor"))
                     + f" | {cell_ratio(check['torch'])} | {cell_target(check['torch'])}"
                     + f" | {cell_ratio(check['floor'])} | {cell_target(check['floor'])} | {others_cell(res)}"
                     + f" | {faults_cell(res)} |")
    return lines


def calls_table(w, res, check):
    lines = ["| case (us per call) | deepprimer | PyTorch | NumPy floor | dp / PyTorch | target | dp / floor |",
             "|---|---:|---:|---:|---:|---|---:|"]
    dp = res.get("deepprimer")
    if not ok(dp):
        return lines + [f"| {w.title} | {cell_time(dp, 'us')} | | | | | |"]
    for case, c in check.items():
        lines.append(f"| `{case}` | " + " | ".join(cell_time(res.get(fw), "us", case) for fw in ("deepprimer", "torch", "floor"))
                     + f" | {cell_ratio(c['torch'])} | {cell_target(c['torch'])} | {cell_ratio(c['floor'])} |")
    return lines


def fit_table(w, res, check):
    dp, sk = res.get("deepprimer"), res.get("sklearn")
    if not (ok(dp) and ok(sk)):
        return [f"{w.title}: deepprimer {cell_time(dp, '')}, scikit-learn {cell_time(sk, '')}"]
    runs = {fw: r["runs"] for fw, r in (("dp", dp), ("sk", sk))}
    seeds = f"seeds {runs['dp'][0]['seed']}..{runs['dp'][-1]['seed']}"
    stat = lambda fn, fw, key: fn([r[key] for r in runs[fw]])
    row = lambda label, fn, key, fmt, ratio=False: (
        f"| {label} | {fmt.format(stat(fn, 'dp', key))} | {fmt.format(stat(fn, 'sk', key))} | "
        + (f"{stat(fn, 'dp', key) / stat(fn, 'sk', key):.2f}x |" if ratio else "|"))
    first = lambda values: values[0]
    lines = ["| digits fit | deepprimer | scikit-learn | dp / sklearn |", "|---|---:|---:|---:|",
             row("wall s, seed 0", first, "wall_s", "{:.3f}", True),
             row("test accuracy, seed 0", first, "test_acc", "{:.4f}")]
    if len(runs["dp"]) > 1:
        lines += [row(f"wall s, median of {seeds}", statistics.median, "wall_s", "{:.3f}", True),
                  row(f"wall s, mean of {seeds}", statistics.mean, "wall_s", "{:.3f}", True),
                  row(f"test accuracy, mean of {seeds}", statistics.mean, "test_acc", "{:.4f}")]
    verdict = check["verdict"] + ("" if check["verdict"] != "MISS" else
                                  f" ({'faster' if check['faster'] else 'slower'}, "
                                  f"{'as accurate' if check['as_accurate'] else 'less accurate'})")
    lines.append(f"| target: faster (median wall), accuracy >= sklearn's (mean) | | | {verdict} |")
    return lines


def memory_table(w, res, check):
    stats = check["stats"]
    fws = [fw for fw in ("deepprimer", "torch", "floor") if fw in stats]
    if not fws:
        return [f"{w.title}: " + ", ".join(f"{NAMES[fw]} {cell_time(r, '')}" for fw, r in res.items())]
    mib = lambda kib: f"{kib / 1024:.1f}"
    row = lambda label, fn: f"| {label} | " + " | ".join(fn(stats[fw]) for fw in fws) + " |"
    steps = stats[fws[0]]["steps"]
    lines = ["| memory (MiB unless said) | " + " | ".join(NAMES[fw] for fw in fws) + " |",
             "|---|" + "---:|" * len(fws),
             row("RSS after import, before the model", lambda s: mib(s["before_build_kib"])),
             row("RSS after step 1", lambda s: mib(s["first_step_kib"])),
             row(f"RSS after step {steps}", lambda s: mib(s["last_step_kib"])),
             row(f"RSS growth over the last {FLAT_WINDOW} steps (KiB)", lambda s: str(s["growth_last_kib"])),
             row(f"RSS growth, step {FLAT_WINDOW} to {steps} (KiB)", lambda s: str(s["growth_after_warmup_kib"])),
             row(f"flat (last-{FLAT_WINDOW} growth < {FLAT_KIB} KiB)", lambda s: "yes" if s["flat"] else "NO"),
             row("peak RSS (VmHWM), import included", lambda s: mib(s["peak_kib"])),
             row("peak minus RSS before the model", lambda s: mib(s["peak_kib"] - s["before_build_kib"]))]
    if check["verdict"] != "n/a":
        lines.append(f"| target: deepprimer flat and peak <= PyTorch's | {check['verdict']} |" + " |" * (len(fws) - 1))
    return lines


def header(doc):
    cfg, start, end, tally = doc["config"], doc["machine_start"], doc["machine_end"], doc["tally"]
    versions = ", ".join(f"{k} {v}" for k, v in doc["versions"].items())
    rounds = ("Quick smoke run (one process per framework, few steps): numbers are rough."
              if cfg["quick"] else
              "Each framework in its own fresh processes, rounds interleaved, samples pooled.")
    out = [
        "# deepprimer benchmarks", "",
        f"{start['time']}; {start['cpu']}, {start['cores']} cores; Python {start['python']}; {versions}.",
        (f"Threads: {cfg['threads']} for every framework (OMP/OPENBLAS/MKL_NUM_THREADS, "
         f"torch.set_num_threads); pools seen in the workers: {doc['threads_seen']}."),
        f"BLAS: {doc['blas_seen']}; environment: {doc['env'] or 'no BLAS/malloc variables set'}.",
        (f"Load average (1, 5, 15 min): {start['load']} at start, {end['load']} at end; other programs "
         f"used {start.get('other_cores')} cores in the second before the run. {rounds}"),
        "", f"Targets: {tally['PASS']} PASS, {tally['MISS']} MISS, {tally['n/a']} n/a.", "",
    ]
    warning = busy_warning(end["load"][1], start["cores"], doc.get("other_cores_max"))
    return out + ([warning, ""] if warning else [])


def markdown(doc, workloads, results, checks):
    out = header(doc)
    steps = [w for w in workloads if w.kind == "step"]
    if steps:
        out += ["## Time per step", "",
                ("Median ms (min-max over every timed step); ratios of medians. \"others' cores\": "
                 "cores other programs kept busy, the most seen by any framework's processes. Page "
                 "faults: memory a step took fresh from the kernel, 4 KiB each (mean over rounds)."), ""]
        out += step_table(steps, results, checks) + [""]
    for w in workloads:
        if w.kind == "step":
            continue
        out += [f"## {w.title}", ""]
        table = {"calls": calls_table, "fit": fit_table, "memory": memory_table}[w.kind]
        out += table(w, results[w.name], checks[w.name]) + [""]
    return "\n".join(out)


def busy_workloads(results):
    """The highest 'other programs' CPU' seen in any framework's processes, or None."""
    values = [r["machine"]["other_cores_mean"] for res in results.values() for r in res.values()
              if ok(r) and r["machine"]["other_cores_mean"] is not None]
    return max(values) if values else None

