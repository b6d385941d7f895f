"""How close the int8 graph is to the float one: per-tensor SQNR, top-1 agreement and accuracy."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mcuforge.ir.graph import Graph
from mcuforge.ops.quantize import affine_quantize
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
    top1_agreement: float | None = None  # int8 argmax == float argmax
    float_accuracy: float | None = None
    int8_accuracy: float | None = None

    def to_json(self) -> dict:
        return {
            "samples": self.samples, "top1_agreement": self.top1_agreement,
            "float_accuracy": self.float_accuracy, "int8_accuracy": self.int8_accuracy,
            "layers": [{"tensor": e.tensor, "op": e.op_kind, "sqnr_db": round(e.sqnr_db, 2)}
                       for e in self.layers],
        }


def dequantize(graph: Graph, name: str, q: np.ndarray) -> np.ndarray:
    t = graph.tensors[name]
    if t.quant is None:
        return q.astype(np.float32)
    shape = t.quant.broadcast_shape(q.ndim)
    return ((q.astype(np.int64) - t.quant.zero_point.reshape(shape)) * t.quant.scale.reshape(shape)).astype(
        np.float32)


def quantize_input(graph: Graph, name: str, x: np.ndarray) -> np.ndarray:
    t = graph.tensors[name]
    assert t.quant is not None
    return affine_quantize(x, t.quant, t.dtype)


def compare(float_graph: Graph, int_graph: Graph, samples: list[Sample],
            labels: np.ndarray | None = None) -> AccuracyReport:
    kinds = {o: op.kind for op in int_graph.ops for o in op.outputs}
    shared = [n for n in kinds if n in float_graph.tensors and int_graph.tensors[n].quant is not None]
    signal = dict.fromkeys(shared, 0.0)
    noise = dict.fromkeys(shared, 0.0)
    agree, f_right, q_right = 0, 0, 0
    out = float_graph.outputs[0]
    for i, sample in enumerate(samples):
        fv = run(float_graph, sample, keep_all=True)
        qfeed = {n: quantize_input(int_graph, n, x) for n, x in sample.items()}
        qv = run(int_graph, qfeed, keep_all=True)
        for n in shared:
            if n in fv and n in qv:
                f = fv[n].astype(np.float64)
                signal[n] += float(np.sum(f ** 2))
                noise[n] += float(np.sum((f - dequantize(int_graph, n, qv[n])) ** 2))
        f_top, q_top = int(np.argmax(fv[out])), int(np.argmax(qv[int_graph.outputs[0]]))
        agree += f_top == q_top
        if labels is not None:
            f_right += f_top == int(labels[i])
            q_right += q_top == int(labels[i])
    layers = [LayerError(n, kinds[n], _db(signal[n], noise[n])) for n in shared]
    layers.sort(key=lambda e: e.sqnr_db)
    n = len(samples)
    return AccuracyReport(
        layers=layers, samples=n, top1_agreement=agree / n if n else None,
        float_accuracy=f_right / n if labels is not None and n else None,
        int8_accuracy=q_right / n if labels is not None and n else None,
    )


def _db(signal: float, noise: float) -> float:
    return float("inf") if noise == 0 else float(10 * np.log10(max(signal, 1e-30) / noise))
