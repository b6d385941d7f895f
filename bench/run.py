"""Benchmark entry point: `python bench/run.py [options]` is `mcuforge bench [options]`
(see compiler/bench.py)."""

import sys

from mcuforge.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
