"""Small ONNX models built with onnx.helper, shared by the import and compile tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from mcuforge.ops import lookup

RNG = np.random.default_rng(7)
Node = onnx.NodeProto


def rand(*shape: int, scale: float = 0.3, rng: np.random.Generator = RNG) -> np.ndarray:
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def save(
    tmp_path: Path, nodes: Sequence[Node], inputs: Mapping[str, Sequence[int | str]],
    outputs: Sequence[str], inits: Mapping[str, np.ndarray], opset: int = 17, name: str = "m.onnx",
) -> Path:
    """Write a model; output types come from ONNX shape inference."""
    graph = helper.make_graph(
        list(nodes), "test",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(s)) for n, s in inputs.items()],
        [helper.make_empty_tensor_value_info(o) for o in outputs],
        [numpy_helper.from_array(np.asarray(a), n) for n, a in inits.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    inferred = onnx.shape_inference.infer_shapes(model)
    types = {vi.name: vi.type for vi in [*inferred.graph.value_info, *inferred.graph.output]}
    for out in model.graph.output:
        out.type.CopyFrom(types[out.name])
    path = tmp_path / name
    onnx.save(model, path)
    return path


def node(op: str, inputs: list[str], outputs: list[str], **attrs: object) -> Node:
    return helper.make_node(op, inputs, outputs, name=f"{op.lower()}_{outputs[0]}", **attrs)


def qdq_model(tmp_path: Path) -> tuple[Path, Path]:
    """A float CNN and its QDQ version from onnxruntime's static quantizer (per-channel int8)."""
    quantization = pytest.importorskip("onnxruntime.quantization")
    if lookup("CONV_2D").ref_int is None:
        pytest.skip("the integer reference is not in this tree")
    rng = np.random.default_rng(11)  # the thresholds below were measured on these weights
    nodes = [
        node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1], strides=[2, 2]),
        node("Relu", ["c1"], ["r1"]),
        node("Conv", ["r1", "wd", "bd"], ["dw"], pads=[1, 1, 1, 1], group=8),
        node("Relu", ["dw"], ["r2"]),
        node("Add", ["r1", "r2"], ["s"]),
        node("Conv", ["s", "w3"], ["c3"]),
        node("Concat", ["s", "c3"], ["cat"], axis=1),
        node("MaxPool", ["cat"], ["mp"], kernel_shape=[2, 2], strides=[2, 2]),
        node("AveragePool", ["mp"], ["ap"], kernel_shape=[2, 2]),
        node("GlobalAveragePool", ["ap"], ["g"]),
        node("Conv", ["g", "w_se", "b_se"], ["se"]),
        node("Sigmoid", ["se"], ["gate"]),
        node("Mul", ["g", "gate"], ["m"]),
        node("Flatten", ["m"], ["f"]),
        node("Gemm", ["f", "wf", "bf"], ["logits"], transB=1),
        node("Softmax", ["logits"], ["p"]),
    ]
    shapes = {"w1": (8, 3, 3, 3), "b1": (8,), "wd": (8, 1, 3, 3), "bd": (8,), "w3": (4, 8, 1, 1),
              "w_se": (12, 12, 1, 1), "b_se": (12,), "wf": (10, 12), "bf": (10,)}
    inits = {n: rand(*s, rng=rng) for n, s in shapes.items()}
    float_path = save(tmp_path, nodes, {"x": [1, 3, 16, 16]}, ["logits", "p"], inits, name="float.onnx")

    class Reader(quantization.CalibrationDataReader):
        def __init__(self) -> None:
            self.samples = iter([{"x": rand(1, 3, 16, 16, scale=1, rng=rng)} for _ in range(32)])

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.samples, None)

    qdq_path = tmp_path / "qdq.onnx"
    quantization.quantize_static(
        str(float_path), str(qdq_path), Reader(), quant_format=quantization.QuantFormat.QDQ,
        per_channel=True, activation_type=quantization.QuantType.QInt8,
        weight_type=quantization.QuantType.QInt8,
    )
    return float_path, qdq_path


def two_inputs_two_outputs(tmp_path: Path) -> Path:
    """An image branch and a vector input joined by Concat; a dense head with two outputs."""
    rng = np.random.default_rng(5)
    nodes = [
        node("Conv", ["image", "w"], ["c"], pads=[1, 1, 1, 1]),
        node("Relu", ["c"], ["r"]),
        node("GlobalAveragePool", ["r"], ["g"]),
        node("Flatten", ["g"], ["f"]),
        node("Concat", ["f", "extra"], ["joined"], axis=1),
        node("Gemm", ["joined", "wa"], ["scores"], transB=1),
        node("Gemm", ["joined", "wb"], ["z"], transB=1),
        node("Sigmoid", ["z"], ["gate"]),
    ]
    inits = {"w": rand(6, 3, 3, 3, rng=rng), "wa": rand(4, 11, rng=rng), "wb": rand(2, 11, rng=rng)}
    return save(tmp_path, nodes, {"image": [1, 3, 8, 8], "extra": [1, 5]}, ["scores", "gate"], inits,
                name="two_io.onnx")
