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

__all__ = ["main", "sequence_table", "time_steps"]

# Every core QEMU emulates with a board description here: M3, M4, M7, M33, M55, and M0+ code.
BOARDS = ["mps2-an385", "mps2-an386", "mps2-an500", "mps2-an505", "mps3-an547", "mps2-an385-m0plus"]


def main(args: argparse.Namespace) -> int:
    args.boards = args.boards or BOARDS
    args.set = args.set or list(DEFAULT_SETS)
    unknown = sorted(set(args.set) - set(SETS))
    if unknown:
        raise MfError(f"unknown model set {', '.join(unknown)}; the sets are {', '.join(SETS)}")
    out_dir = Path(args.output)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mcuforge-bench-") as tmp:
        work = Path(tmp)
        given = [BenchModel(Path(m).stem, "given", Path(m), CompileOptions(calib="random"))
                 for m in args.models or []]
        models = given or model_set(tuple(args.set), work)
        rows = []
        for model in models:
            start = time.time()
            rows.append(bench_model(model, args.boards, args.samples, work))
            counts = ", ".join(f"{b} {d['instructions'][0]:,}" for b, d in rows[-1]["boards"].items())
            print(f"{model.label}: {counts} ({time.time() - start:.1f} s)", file=sys.stderr)
    (out_dir / "results.json").write_text(json.dumps(rows, indent=2) + "\n")
    text = markdown(rows, args.boards)
    (out_dir / "results.md").write_text(text + "\n")
    print(text)
    return 0
