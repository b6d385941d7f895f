"""Post-training quantization: calibrate on data, choose encodings, convert the graph,
and measure what was lost."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mcuforge.errors import MfError
from mcuforge.ir.graph import Graph
from mcuforge.ir.verify import verify
from mcuforge.passes import optimize
from mcuforge.quantize.accuracy import AccuracyReport, compare, evaluate
from mcuforge.quantize.bias_correction import correct_biases
from mcuforge.quantize.calibration import collect_stats, load_calibration, load_labels
from mcuforge.quantize.quantizer import MODES, QuantConfig, check_float, quantize_graph
from mcuforge.quantize.ranges import DEFAULT_PARAM, METHODS, NEEDS_HISTOGRAM

DEFAULT_METHOD = "minmax"

CalibData = str | Path | np.ndarray | Mapping[str, np.ndarray] | Iterable[np.ndarray]
Labels = str | Path | np.ndarray


@dataclass
class QuantOptions:
    method: str = DEFAULT_METHOD
    param: float | None = None  # the method's parameter: the percentile; None for its default
    mode: str = "int8"  # or "16x8"
    bias_correction: bool = False
    progress: bool = False  # a progress bar on stderr
    int16_layers: tuple[str, ...] = ()  # layers kept at int16 activations in an int8 graph (issue 11)


def quantize(graph: Graph, calib: CalibData, opts: QuantOptions | None = None,
             eval_data: tuple[CalibData, Labels] | None = None) -> tuple[Graph, AccuracyReport]:
    """Optimize and quantize a float graph; report per-layer SQNR and top-1 agreement on the
    calibration set, and float vs quantized top-1 accuracy on labelled `eval_data` (x, y)."""
    opts = opts or QuantOptions()
    if opts.method not in METHODS:
        raise MfError(f"unknown calibration method '{opts.method}'; choose one of {', '.join(METHODS)}")
    if opts.mode not in MODES:
        raise MfError(f"unknown quantization mode '{opts.mode}'; choose one of {', '.join(MODES)}")
    check_float(graph)
    float_graph = optimize(graph)
    samples = load_calibration(float_graph, calib)
    evals = None
    if eval_data is not None:  # validated before the slow part
        evals = load_calibration(float_graph, eval_data[0], what="evaluation data")
        labels = load_labels(eval_data[1], len(evals))
    target, shifts = correct_biases(float_graph, samples) if opts.bias_correction else (float_graph, None)
    stats = collect_stats(target, samples, histograms=opts.method in NEEDS_HISTOGRAM, progress=opts.progress)
    param = DEFAULT_PARAM[opts.method] if opts.param is None else opts.param
    int_graph = quantize_graph(target, stats, QuantConfig(opts.method, param, opts.mode, opts.int16_layers))
    verify(int_graph)
    report = compare(float_graph, int_graph, samples)
    report.method, report.mode, report.bias_shifts = opts.method, opts.mode, shifts
    if evals is not None:
        report.eval_samples = len(evals)
        report.float_accuracy, report.int8_accuracy = evaluate(float_graph, int_graph, evals, labels)
    return int_graph, report


__all__ = ["DEFAULT_METHOD", "AccuracyReport", "CalibData", "Labels", "QuantConfig", "QuantOptions",
           "compare", "quantize"]
