"""`mcuforge bench`: instructions per inference under QEMU (`-icount`, see mcuforge.firmware.qemu)
on the Cortex-M boards, for the MLPerf Tiny int8 models, models of the kinds users deploy, the
shared cases and the sequence models (bench.models), beside TensorFlow Lite Micro + CMSIS-NN
measured the same way (bench.anchors), with per-layer instructions per MAC. Writes results.md
(bench.tables) and results.json (every figure, every layer).

Sequence models (LSTM, SVDF) also get instructions per time step and the RAM of their persistent
state; the samples of a stateful model run as consecutive calls, the reference carrying the state.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from mcuforge.bench.measure import bench_model, time_steps
from mcuforge.bench.models import DEFAULT_SETS, SETS, BenchModel, model_set
from mcuforge.bench.tables import markdown, sequence_table
from mcuforge.compile import CompileOptions
from mcuforge.errors import MfError

__all__ = ["main", "run_bench", "sequence_table", "time_steps"]

# Every core QEMU emulates with a board description here: M3, M4, M7, M33, M55, and M0+ code.
BOARDS = ["mps2-an385", "mps2-an386", "mps2-an500", "mps2-an505", "mps3-an547", "mps2-an385-m0plus"]


def run_bench(models: list[str | Path] | None = None, sets: list[str] | None = None,
              boards: list[str] | None = None, samples: int = 1, out_dir: str | Path = "bench_results",
              quiet: bool = False) -> list[dict]:
    """Measure `models` (files; a float model is calibrated on random data) or the model `sets`
    (default: all but "tests") on `boards` (default BOARDS); write results.json and results.md
    into `out_dir` and return the rows (one dict per model: MACs, arena, and per board the
    instructions per sample, per MAC, flash, stack and every layer). Raises MfError for an
    unknown set or board, and what compile raises for a model it refuses."""
    boards = boards or BOARDS
    sets = sets or list(DEFAULT_SETS)
    unknown = sorted(set(sets) - set(SETS))
    if unknown:
        raise MfError(f"unknown model set {', '.join(unknown)}; the sets are {', '.join(SETS)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mcuforge-bench-") as tmp:
        work = Path(tmp)
        given = [BenchModel(Path(m).stem, "given", Path(m), CompileOptions(calib="random"))
                 for m in models or []]
        rows = []
        for model in given or model_set(tuple(sets), work):
            start = time.time()
            rows.append(bench_model(model, boards, samples, work))
            if not quiet:
                counts = ", ".join(f"{b} {d['instructions'][0]:,}" for b, d in rows[-1]["boards"].items())
                print(f"{model.label}: {counts} ({time.time() - start:.1f} s)", file=sys.stderr)
    (out / "results.json").write_text(json.dumps(rows, indent=2) + "\n")
    (out / "results.md").write_text(markdown(rows, boards) + "\n")
    return rows


def main(args: argparse.Namespace) -> int:
    rows = run_bench(args.models, args.set, args.boards, args.samples, args.output)
    print(markdown(rows, args.boards or BOARDS))
    return 0
