"""Timing helpers shared by every benchmark: medians of repeated rounds, and a machine check.

This machine is shared and noisy, so a benchmark quotes medians and ratios measured in the
same run, and says when the machine was busy while it ran.
"""
import os
import statistics
import time


def per_call_us(fn, number, rounds=15, warmup=1):
    """Median and spread (min..max of rounds) of microseconds per call of ``fn``."""
    for _ in range(warmup):
        for _ in range(number):
            fn()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - start) / number * 1e6)
    return {"median": statistics.median(samples), "min": min(samples), "max": max(samples)}


def machine_state():
    """Load average and core count, to flag runs taken while something else held the CPU."""
    load1, _, _ = os.getloadavg()
    cores = os.cpu_count() or 1
    busy = load1 > 0.5 * cores
    return {"load1": round(load1, 2), "cores": cores, "busy": busy}


def busy_warning(state):
    if state["busy"]:
        return (f"WARNING: load average {state['load1']} on {state['cores']} cores: another "
                f"process held the CPU; absolute times are inflated, ratios less so.")
    return ""
