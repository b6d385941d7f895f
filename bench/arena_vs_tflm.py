"""Arena bytes: mcuforge's planner against TensorFlow Lite Micro's, on the same int8 models.

Run: .venv/bin/python bench/arena_vs_tflm.py [MODEL.tflite ...]
(default: the int8 MLPerf Tiny models in ../shared/models/mlperf_tiny)

TFLM's figures come from its own RecordingMicroAllocator (the `tflite-micro` package's
interpreter, reference kernels): "head" is the planned activation/scratch region, "tail" the
persistent metadata it also keeps in RAM (tensor structs, per-channel multipliers, ...). mcuforge
keeps everything but the arena in flash, so its RAM for the model is the arena alone.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from mcuforge.codegen import lower
from mcuforge.compile import strip_io_conversions
from mcuforge.importers import load_model
from mcuforge.passes import optimize
from mcuforge.plan import plan_memory

MLPERF = Path(__file__).resolve().parents[2] / "shared" / "models" / "mlperf_tiny"

_PROBE = """
from tflite_micro.python.tflite_micro import runtime
runtime.Interpreter.from_file({path!r}).print_allocations()
"""


def tflm_arena(path: Path) -> dict[str, int]:
    # TFLM prints from C++ straight to the process's own streams, so ask a child process.
    proc = subprocess.run([sys.executable, "-c", _PROBE.format(path=str(path))],
                          capture_output=True, text=True, check=True)
    out = proc.stdout + proc.stderr
    figures = dict(re.findall(r"Arena allocation (total|head|tail) (\d+) bytes", out))
    return {k: int(v) for k, v in figures.items()}


def ours(path: Path) -> dict[str, int]:
    graph = strip_io_conversions(optimize(load_model(path)))
    program = lower(graph, "m")
    greedy = plan_memory(program.plan.buffers, program.plan.alignment, "greedy")
    return {"arena": program.plan.arena_bytes, "greedy": greedy.arena_bytes,
            "bound": program.plan.lower_bound_bytes}


def main(paths: list[Path]) -> None:
    print("| model | mcuforge arena | greedy-by-size | lower bound | TFLM head | TFLM total "
          "| ours / TFLM total |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for path in paths:
        o, t = ours(path), tflm_arena(path)
        print(f"| {path.stem} | {o['arena']:,} | {o['greedy']:,} | {o['bound']:,} | {t['head']:,} | "
              f"{t['total']:,} | {o['arena'] / t['total']:.2f} |")


if __name__ == "__main__":
    args = [Path(a) for a in sys.argv[1:]] or sorted(MLPERF.glob("*_int8.tflite"))
    main(args)
