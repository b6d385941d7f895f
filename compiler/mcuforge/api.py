"""mcuforge's Python API: what the command line does, as functions (`import mcuforge`).

    import mcuforge
    graph = mcuforge.load("model.onnx")                          # the float IR graph
    compiled = mcuforge.compile("model.onnx", "out/", calib="calib.npy")
    result = mcuforge.run("model.onnx", "x.npy", calib="calib.npy")  # C on the host, checked
    check = mcuforge.validate("model.onnx", "x.npy", "y.npy", calib="calib.npy")
    print(check.lines())

Models are files: ONNX (.onnx), TFLite (.tflite), Keras (.keras, .h5, a SavedModel folder) or
mcuforge IR (.mfir). Samples are arrays or .npy files, (N, *input shape) in the model's own layout
(NCHW for an ONNX image model, NHWC for TFLite and Keras), float32 (quantized on the way in) or
already int8. Every function raises mcuforge.MfError, with a one-line message naming the file,
op or value and what would work, for input it cannot take; any other exception is a bug.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from mcuforge.artifact import Compiled
from mcuforge.compile import CompileOptions, compile_model
from mcuforge.importers import load_model
from mcuforge.ir.graph import Graph, Shape
from mcuforge.quantize import AccuracyReport, CalibData, QuantOptions
from mcuforge.quantize import quantize as quantize_graph
from mcuforge.runner import BoardResult, RunResult, run_model, run_on_board
from mcuforge.validate import Validation
from mcuforge.validate import validate as validate_model

Samples = str | Path | np.ndarray | Mapping[str, np.ndarray]


def load(model: str | Path, input_shapes: Mapping[str, Shape] | None = None) -> Graph:
    """The model as mcuforge's float (or, for an integer TFLite file, int8) IR graph, NHWC inside.
    `input_shapes` fixes free dimensions by input name, in the model's own layout (a free batch
    becomes 1 without it)."""
    return load_model(model, dict(input_shapes or {}))


def quantize(model: str | Path | Graph, calib: CalibData, mode: str = "int8", method: str | None = None,
             bias_correction: bool = False) -> tuple[Graph, AccuracyReport]:
    """The int8 graph of a float model (mode "16x8": int16 activations, int8 weights), calibrated
    on `calib` (samples as for `run`, or "random"), with the per-layer SQNR report against float.
    `method`: the calibration range method (`mcuforge quantize --help` lists them)."""
    graph = model if isinstance(model, Graph) else load(model)
    opts = QuantOptions(mode=mode, bias_correction=bias_correction)
    if method is not None:
        opts.method = method
    return quantize_graph(graph, calib, opts)


def compile(model: str | Path, out_dir: str | Path, calib: CalibData | None = None, board: str = "host",
            **options: Any) -> Compiled:
    """C for `model` in `out_dir`: NAME.c/.h, weights, the runtime's CMake project, report.json and
    report.html; with a `board`, also its firmware project and ELF. `options` are CompileOptions
    fields (name, method, alignment, input_shapes, int16_layers, weights="int4", sparse, ...).
    Returns the compiled artifact: its int8 graph, program (memory plan, kernel calls) and report."""
    opts = CompileOptions(calib=calib, board=board, **options)
    return compile_model(model, out_dir, opts)


def run(model: str | Path, inputs: Samples, board: str = "host", calib: CalibData | None = None,
        profile: bool = False, out_dir: str | Path | None = None, **options: Any) -> RunResult | BoardResult:
    """Compile `model`, build the C (host compiler, or a QEMU board's firmware) and run it on
    `inputs`. `result.outputs` holds the dequantized float outputs by name in the model's layout,
    `result.raw` the int8 bytes, `result.mismatches` the samples whose bytes differ from the
    integer reference (empty: bit-exact); on a board also instructions per inference (QEMU
    -icount) and, with `profile`, per layer."""
    opts = CompileOptions(calib=calib, **options)
    if board == "host":
        return run_model(model, inputs, opts, out_dir=out_dir)
    return run_on_board(model, inputs, board, opts, out_dir=out_dir, profile=profile)


def validate(model: str | Path, data: str | Path | np.ndarray, labels: str | Path | np.ndarray | None = None,
             calib: CalibData | None = None, board: str = "host", out_dir: str | Path | None = None,
             **options: Any) -> Validation:
    """The original model (onnxruntime, TFLite's interpreter or Keras) against the generated C on
    `data`: per output the absolute errors, RMSE, SQNR, cosine similarity and top-1 agreement,
    and with `labels` the accuracy of both (`.lines()` prints them, `.drop_points` is the loss)."""
    opts = CompileOptions(calib=calib, **options)
    return validate_model(model, data, labels, opts, board=board, out_dir=out_dir)


def bench(models: list[str | Path] | None = None, sets: list[str] | None = None,
          boards: list[str] | None = None, out_dir: str | Path = "bench_results") -> list[dict]:
    """Instructions per inference under QEMU on each board for `models` or the benchmark's model
    sets, beside TFLite Micro + CMSIS-NN; writes results.md and results.json into `out_dir` and
    returns the rows (see mcuforge.bench)."""
    from mcuforge.bench import run_bench

    return run_bench(models, sets, boards, out_dir=out_dir, quiet=True)


__all__ = ["bench", "compile", "load", "quantize", "run", "validate"]
