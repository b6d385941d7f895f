"""Post-training int8 quantization: calibrate on data, choose encodings, convert the graph,
and measure what was lost."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from mcuforge.errors import MfError
from mcuforge.ir.graph import Graph
from mcuforge.ir.verify import verify
from mcuforge.passes import optimize
from mcuforge.quantize.accuracy import AccuracyReport, compare
from mcuforge.quantize.calibration import collect_stats, load_calibration
from mcuforge.quantize.quantizer import QuantConfig, quantize_graph
from mcuforge.quantize.ranges import DEFAULT_PARAM, METHODS, NEEDS_HISTOGRAM

DEFAULT_METHOD = "minmax"

CalibData = str | Path | np.ndarray | Mapping[str, np.ndarray] | Iterable[np.ndarray]


def quantize(graph: Graph, calib: CalibData, method: str = DEFAULT_METHOD, param: float | None = None,
             progress: bool = False) -> tuple[Graph, AccuracyReport]:
    """Optimize and quantize a float graph to int8; report per-layer SQNR on the calibration set."""
    if method not in METHODS:
        raise MfError(f"unknown calibration method '{method}'; choose one of {', '.join(METHODS)}")
    float_graph = optimize(graph)
    samples = load_calibration(float_graph, calib)
    stats = collect_stats(float_graph, samples, histograms=method in NEEDS_HISTOGRAM, progress=progress)
    config = QuantConfig(method, DEFAULT_PARAM[method] if param is None else param)
    int_graph = quantize_graph(float_graph, stats, config)
    verify(int_graph)
    return int_graph, compare(float_graph, int_graph, samples)


__all__ = ["AccuracyReport", "QuantConfig", "compare", "quantize"]
