"""The machine a benchmark ran on, and how busy other programs kept it meanwhile.

This machine is shared, and a step that takes 3 ms on a quiet box takes 30 ms when another
process holds both cores (2-thread BLAS collapses under contention). So every measurement
records the load average and, more precisely, how many cores *other* processes used while
it ran: the whole machine's busy CPU time from /proc/stat minus our own children's CPU time.
"""
import os
import platform
import resource
import time

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def thread_env(threads):
    """Environment for a worker process: every BLAS/OpenMP pool pinned to ``threads``.

    These must be set before NumPy or torch is imported, which is why each measurement runs
    in a fresh process started with this environment.
    """
    env = dict(os.environ)
    for var in THREAD_VARS:
        env[var] = str(threads)
    return env


def _busy_seconds():
    """Seconds of CPU the whole machine spent busy since boot (all cores, all processes)."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except OSError:
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class CpuWatch:
    """Context manager: how many cores other processes kept busy while the block ran.

    Our own worker processes count as ours only once they have exited and been waited for,
    which is how the runner uses this (one watch around each ``subprocess.run``).
    """

    def __enter__(self):
        self.start = (time.perf_counter(), _busy_seconds(), _children_cpu(), os.getloadavg()[0])
        return self

    def __exit__(self, *exc):
        wall0, busy0, ours0, _ = self.start
        wall, busy, ours = time.perf_counter() - wall0, _busy_seconds(), _children_cpu()
        self.wall = wall
        self.load1 = os.getloadavg()[0]
        if busy is None or busy0 is None or wall <= 0:
            self.other_cores = None
        else:
            self.other_cores = max(0.0, ((busy - busy0) - (ours - ours0)) / wall)
        return False


def snapshot():
    """Load averages, cores and versions, for the report's header."""
    load1, load5, load15 = os.getloadavg()
    return {
        "load": [round(load1, 2), round(load5, 2), round(load15, 2)],
        "cores": os.cpu_count() or 1,
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "time": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def _cpu_model():
    """Model name, family/model numbers and widest vector unit: 'AMD EPYC' alone says little,
    and whether AVX-512 is there decides which BLAS kernels can run."""
    info = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key in ("model name", "cpu family", "model", "flags") and key not in info:
                    info[key] = value.strip()
                if not line.strip() and info:
                    break
    except OSError:
        return platform.processor() or "unknown"
    flags = info.get("flags", "").split()
    vector = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    return f"{info.get('model name', 'unknown')} (family {info.get('cpu family', '?')} model {info.get('model', '?')}, {vector})"


def is_busy(load1, cores, other_cores=None):
    """Busy: other programs used at least a quarter of the cores, or the load says so."""
    if other_cores is not None:
        return other_cores > 0.25 * cores
    return load1 > 0.5 * cores


def busy_warning(load1, cores, other_cores=None):
    if not is_busy(load1, cores, other_cores):
        return ""
    others = f", other processes used {other_cores:.2f} cores on average" if other_cores is not None else ""
    return (f"WARNING: the machine was busy (load average {load1:.2f} on {cores} cores{others}): "
            f"absolute times are inflated; ratios from the same run are more trustworthy.")
