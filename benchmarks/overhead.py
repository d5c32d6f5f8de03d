"""Per-call overhead of the engine on tiny tensors: ``python -m benchmarks.overhead [--quick]``.

Kept as its own command for quick checks while working on the engine; it is the ``tiny``
workload of the full benchmark (``python -m benchmarks --only tiny``), run the same way:
each framework in its own process, same thread count, and printed as the same table.
"""
import argparse
import sys

from .cli import run
from .registry import select


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.overhead", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls, for a smoke run")
    parser.add_argument("--threads", type=int, default=2, help="threads for every framework (default 2)")
    args = parser.parse_args(argv)
    _, md = run(select(["tiny"]), args.threads, args.quick, log=lambda msg: print(msg, file=sys.stderr))
    print(md)


if __name__ == "__main__":
    main()
