"""How each kind of workload is measured, inside its worker process.

A workload's ``build(framework)`` returns what to measure; its kind says how:
  step    a zero-argument training step: ms per step, each step timed alone
  calls   {case: tiny callable}: us per call, rounds of many calls
  fit     run(seed) -> {'wall_s', 'test_acc'}: one whole training run per seed
  memory  a training step: resident memory after every step of a fixed-length run
"""
import resource

from .timing import per_call_us, step_count, timed_steps, warm_up


def step(fn, quick):
    """Step times, and the minor page faults per timed step: memory a step takes fresh from
    the kernel (4 KiB per fault), which a framework that reuses its memory does not pay."""
    budget = 0.15 if quick else 1.0
    n = step_count(warm_up(fn, 3 if quick else 10, budget / 4), 5 if quick else 20, budget)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    samples = timed_steps(fn, n)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
    return {"samples_ms": samples, "page_faults_per_step": faults / n}


def calls(cases, quick):
    number, rounds = (200, 5) if quick else (2000, 15)
    return {"samples_us": {case: per_call_us(fn, number, rounds) for case, fn in cases.items()}}


def fit(run, quick):
    return {"runs": [dict(seed=seed, **run(seed)) for seed in ([0] if quick else range(5))]}


MEMORY_STEPS = 200


def memory(fn, quick):
    """VmRSS after each of 200 steps (60 for --quick) and the process's peak (VmHWM), in KiB.

    The peak includes the framework's import, as a user's process would: that is the RSS
    a user pays. The RSS before the model was built is reported next to it (worker.py).
    """
    rss = []
    for _ in range(60 if quick else MEMORY_STEPS):
        fn()
        rss.append(proc_status_kib("VmRSS"))
    return {"rss_kib": rss, "peak_kib": proc_status_kib("VmHWM")}


def proc_status_kib(field):
    """A memory field of /proc/self/status (VmRSS: resident now, VmHWM: peak resident), KiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(f"{field} not in /proc/self/status")


KINDS = {"step": step, "calls": calls, "fit": fit, "memory": memory}
