"""Where a framework's step spends its time: ``python -m benchmarks.profiling NAME [--framework F]``.

Runs one step workload (default: deepprimer's) under cProfile in this process, with the
same thread pinning as the benchmark, and prints the functions that take the most time
of their own (tottime) in microseconds per step. Also prints the step's median time
without the profiler, since cProfile inflates Python-heavy code more than NumPy calls.
"""
import argparse
import cProfile
import io
import os
import pstats

from .machine import thread_env


def profile(name, framework, steps, top):
    from .registry import BY_NAME
    from .timing import summarize, time_steps

    workload = BY_NAME[name]
    if workload.kind != "step":
        raise SystemExit(f"{name} is a {workload.kind} workload; profile a step workload")
    step = workload.build(framework)
    plain = summarize(time_steps(step, warmup=10, min_steps=20, budget_s=1.0))["median"]
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(steps):
        step()
    profiler.disable()
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    total = stats.total_tt / steps * 1e6
    print(f"{name} [{framework}]: {plain:.3f} ms/step without profiler; {total:.0f} us/step under cProfile")
    print(f"{'tottime us/step':>16} {'cumtime us/step':>16} {'calls/step':>10}  function")
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    for (filename, line, func), (_, ncalls, tottime, cumtime, _) in rows:
        where = f"{os.path.basename(filename)}:{line}" if line else filename
        print(f"{tottime / steps * 1e6:16.1f} {cumtime / steps * 1e6:16.1f} {ncalls / steps:10.1f}  {func} ({where})")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profiling", description=__doc__.splitlines()[0])
    parser.add_argument("name", help="a step workload, e.g. mlp-small-sgd, cnn, lstm")
    parser.add_argument("--framework", default="deepprimer", help="deepprimer (default), torch or floor")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    # NumPy reads these when it is first imported, which happens in build(), after this
    os.environ.update({k: v for k, v in thread_env(args.threads).items() if k.endswith("_THREADS")})
    profile(args.name, args.framework, args.steps, args.top)


if __name__ == "__main__":
    main()
