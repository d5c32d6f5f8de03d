"""Timing helpers shared by every benchmark: per-step samples, per-call medians, summaries.

This machine is shared and noisy, so a benchmark quotes medians (robust to a step that
another process interrupted) and ratios measured in the same run, never single times.
"""
import statistics
import time


def warm_up(step, max_steps, budget_s):
    """Run 3 to ``max_steps`` untimed steps (first-call allocations, optimizer state, caches),
    stopping after 3 once ``budget_s`` is spent, so a 1 s step does not warm up for 10 s.
    Returns the median warm-up step in seconds, which sizes the timed run."""
    clock = time.perf_counter
    warm, start = [], clock()
    while len(warm) < max_steps and (len(warm) < 3 or clock() - start < budget_s):
        t0 = clock()
        step()
        warm.append(clock() - t0)
    return statistics.median(warm) if warm else 1e-3


def timed_steps(step, n):
    """Milliseconds of each of ``n`` calls of ``step``, each timed on its own: perf_counter
    costs ~0.1 us, far below any step here, and the median then ignores steps that a
    context switch interrupted."""
    clock = time.perf_counter
    samples = []
    for _ in range(n):
        t0 = clock()
        step()
        samples.append((clock() - t0) * 1e3)
    return samples


def step_count(per_step_s, min_steps, budget_s, max_steps=2000):
    """Enough steps to fill about ``budget_s``, at least ``min_steps``: fast workloads get many
    samples, slow ones ``min_steps``. Judged from the median warm-up step, so one stalled
    step does not shrink the sample."""
    return max(min_steps, min(max_steps, int(budget_s / max(per_step_s, 1e-6))))


def time_steps(step, warmup, min_steps, budget_s):
    """Warm up, then time about ``budget_s`` seconds of steps (see the three functions above)."""
    per_step = warm_up(step, warmup, budget_s / 4)
    return timed_steps(step, step_count(per_step, min_steps, budget_s))


def per_call_us(fn, number, rounds=15, warmup=1):
    """Microseconds per call of ``fn``, one sample per round of ``number`` calls.

    For calls of a few microseconds, where timing each call alone would measure the clock.
    """
    for _ in range(warmup):
        for _ in range(number):
            fn()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - start) / number * 1e6)
    return samples


def summarize(samples):
    """Median, quartiles, min and max of a list of times (any unit), and how many."""
    ordered = sorted(samples)
    n = len(ordered)
    quartiles = statistics.quantiles(ordered, n=4) if n >= 2 else [ordered[0]] * 3
    return {
        "median": statistics.median(ordered), "p25": quartiles[0], "p75": quartiles[2],
        "min": ordered[0], "max": ordered[-1], "n": n,
    }
