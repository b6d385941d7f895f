"""How close the quantized graph is to the float one: per-tensor SQNR and top-1 agreement on the
calibration set, top-1 accuracy of both on labelled evaluation data."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from mcuforge.ir.graph import Graph
from mcuforge.ir.quant_scheme import dequantize_values
from mcuforge.ops.quantize import affine_quantize
from mcuforge.quantize.bias_correction import BiasShift
from mcuforge.quantize.calibration import Sample
from mcuforge.reference.interpreter import run


@dataclass
class LayerError:
    tensor: str
    op_kind: str
    sqnr_db: float


@dataclass
class AccuracyReport:
    layers: list[LayerError] = field(default_factory=list)  # worst first
    samples: int = 0
    top1_agreement: float | None = None  # quantized argmax == float argmax, calibration set
    eval_samples: int = 0
    float_accuracy: float | None = None  # on the labelled evaluation data
    int8_accuracy: float | None = None  # the quantized graph's (int16 activations in 16x8 mode)
    method: str = ""
    mode: str = "int8"
    bias_shifts: list[BiasShift] | None = None  # None: bias correction off

    def to_json(self) -> dict:
        out: dict = {
            "method": self.method, "mode": self.mode,
            "samples": self.samples, "top1_agreement": self.top1_agreement,
            "eval_samples": self.eval_samples,
            "float_accuracy": self.float_accuracy, "int8_accuracy": self.int8_accuracy,
            "layers": [{"tensor": e.tensor, "op": e.op_kind, "sqnr_db": round(e.sqnr_db, 2)}
                       for e in self.layers],
        }
        if self.bias_shifts is not None:
            out["bias_correction"] = [{"op": s.op, "kind": s.kind, "max_shift": s.max_shift,
                                       "relative_to_rms": s.relative} for s in self.bias_shifts]
        return out

    def lines(self) -> list[str]:
        """The report as text: worst layer first, then agreement and accuracy."""
        out = [f"per-layer SQNR, {self.mode} vs float on {self.samples} calibration samples "
               f"({self.method}), worst first:"]
        width = max((len(e.tensor) for e in self.layers), default=6)
        out += [f"  {e.sqnr_db:7.2f} dB  {e.tensor:<{width}}  {e.op_kind}" for e in self.layers]
        if self.top1_agreement is not None:
            out.append(f"top-1 agreement with float: {self.top1_agreement:.4f} on {self.samples} samples")
        if self.float_accuracy is not None and self.int8_accuracy is not None:
            out.append(f"top-1 accuracy on {self.eval_samples} labelled samples: float "
                       f"{self.float_accuracy:.4f}, {self.mode} {self.int8_accuracy:.4f}")
        if self.bias_shifts:
            top = self.bias_shifts[0]
            out.append(f"bias correction: {len(self.bias_shifts)} layers corrected; largest shift "
                       f"{top.max_shift:.3g} ({top.relative:.2%} of output RMS) in {top.kind} '{top.op}'")
        return out


def dequantize(graph: Graph, name: str, q: np.ndarray) -> np.ndarray:
    """A tensor's integer values as reals (floats pass through)."""
    t = graph.tensors[name]
    return q.astype(np.float32) if t.quant is None else dequantize_values(q, t.quant)


def quantize_input(graph: Graph, name: str, x: np.ndarray) -> np.ndarray:
    t = graph.tensors[name]
    assert t.quant is not None
    return affine_quantize(x, t.quant, t.dtype)


def _pairs(float_graph: Graph, int_graph: Graph, samples: list[Sample],
           keep_all: bool) -> Iterator[tuple[dict[str, np.ndarray], dict[str, np.ndarray]]]:
    for sample in samples:
        qfeed = {n: quantize_input(int_graph, n, x) for n, x in sample.items()}
        yield run(float_graph, sample, keep_all=keep_all), run(int_graph, qfeed, keep_all=keep_all)


def compare(float_graph: Graph, int_graph: Graph, samples: list[Sample]) -> AccuracyReport:
    """Per-tensor SQNR and top-1 agreement of `int_graph` against `float_graph` (same names)."""
    kinds = {o: op.kind for op in int_graph.ops for o in op.outputs}
    shared = [n for n in kinds if n in float_graph.tensors and int_graph.tensors[n].quant is not None]
    signal = dict.fromkeys(shared, 0.0)
    noise = dict.fromkeys(shared, 0.0)
    agree = 0
    for fv, qv in _pairs(float_graph, int_graph, samples, keep_all=True):
        for n in shared:
            if n in fv and n in qv:
                f = fv[n].astype(np.float64)
                signal[n] += float(np.sum(f ** 2))
                noise[n] += float(np.sum((f - dequantize(int_graph, n, qv[n])) ** 2))
        agree += _top1(fv[float_graph.outputs[0]]) == _top1(qv[int_graph.outputs[0]])
    layers = [LayerError(n, kinds[n], _db(signal[n], noise[n])) for n in shared]
    layers.sort(key=lambda e: e.sqnr_db)
    n = len(samples)
    return AccuracyReport(layers=layers, samples=n, top1_agreement=agree / n if n else None)


def evaluate(float_graph: Graph, int_graph: Graph, samples: list[Sample],
             labels: np.ndarray) -> tuple[float, float]:
    """Top-1 accuracy of the float and the quantized graph on labelled samples."""
    f_right = q_right = 0
    for (fv, qv), label in zip(_pairs(float_graph, int_graph, samples, keep_all=False), labels):
        f_right += _top1(fv[float_graph.outputs[0]]) == int(label)
        q_right += _top1(qv[int_graph.outputs[0]]) == int(label)
    return f_right / len(samples), q_right / len(samples)


def _top1(y: np.ndarray) -> int:
    return int(np.argmax(y))


def _db(signal: float, noise: float) -> float:
    return float("inf") if noise == 0 else float(10 * np.log10(max(signal, 1e-30) / noise))
