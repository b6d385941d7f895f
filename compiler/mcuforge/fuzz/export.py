"""Building a `ModelSpec` in each front end and exporting it the way users do.

tflite: Keras model -> `tf.lite.TFLiteConverter.from_keras_model` at its defaults with
`Optimize.DEFAULT`, a representative dataset and int8 input/output (batch None or 1 per the spec).
keras: the same Keras model saved as .keras (mcuforge quantizes it with the calibration data).
onnx: the graph written directly with `onnx.helper` (float, opset 17; free batch = a symbolic dim).
qdq: that graph quantized by onnxruntime's `quantize_static` at its defaults (QDQ, int8).
torch: a module running the graph, exported with `torch.onnx.export` at its default (the dynamo
exporter, float, opset 18; a dynamic batch axis when the spec's batch is free).
torchscript: the same module through the TorchScript exporter (`dynamo=False`, opset 17).
TensorFlow and torch are imported only when used.
"""

from __future__ import annotations

import contextlib
import io
import logging
from pathlib import Path
from typing import Any

import numpy as np

from mcuforge.fuzz.generate import node_weights, shapes_of
from mcuforge.fuzz.ops import OPS
from mcuforge.fuzz.spec import ModelSpec, Shape

CALIB_SAMPLES = 32
SUFFIX = {"tflite": ".tflite", "keras": ".keras", "onnx": ".onnx", "torch": ".onnx", "torchscript": ".onnx",
          "qdq": ".onnx"}


class ExportError(Exception):
    """The front end itself could not build or export the model (not mcuforge's fault)."""


def calib_data(spec: ModelSpec, count: int = CALIB_SAMPLES, salt: int = 1) -> np.ndarray:
    """Float samples (count, *logical shape), channels-last."""
    rng = np.random.default_rng([spec.seed, 1000 + salt])
    return rng.standard_normal((count, *spec.input_shape)).astype(np.float32)


def to_nchw(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2)) if x.ndim == 4 else x


def from_nchw(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1)) if x.ndim == 4 else x


def model_layout(frontend: str, x: np.ndarray) -> np.ndarray:
    """Samples in the exported model's own input layout."""
    return to_nchw(x) if frontend in ("onnx", "torch", "torchscript", "qdq") else x


def _checked_shapes(spec: ModelSpec) -> list[Shape]:
    shapes = shapes_of(spec)
    if shapes is None:
        raise ExportError("the spec does not fit its shapes")
    return shapes


# -- Keras ------------------------------------------------------------------------------------------


def keras_model(spec: ModelSpec) -> Any:
    from mcuforge.importers.keras_import import quiet_tensorflow

    shapes = _checked_shapes(spec)
    weights = node_weights(spec, shapes)
    with quiet_tensorflow():
        import tensorflow as tf

        k = tf.keras
        inp = k.Input(spec.input_shape, batch_size=None if spec.batch == "free" else 1)
        values = [inp]
        for n, w in zip(spec.nodes, weights):
            values.append(OPS[n.op].keras(k, n.params, [values[j] for j in n.inputs], w))
        return k.Model(inp, values[-1])


def to_tflite(model: Any, calib: np.ndarray) -> bytes:
    from mcuforge.importers.keras_import import quiet_tensorflow

    with quiet_tensorflow():
        import tensorflow as tf

        converter = tf.lite.TFLiteConverter.from_keras_model(model)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([s[None]] for s in calib)
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
        return bytes(converter.convert())


# -- ONNX -------------------------------------------------------------------------------------------


class OnnxBuilder:
    """Nodes and initializers of an NCHW ONNX graph; `shape` gives a value's logical shape."""

    def __init__(self) -> None:
        self.nodes: list[Any] = []
        self.inits: list[Any] = []
        self.shapes: dict[str, Shape] = {}

    def shape(self, name: str) -> Shape:
        return self.shapes[name]

    def node(self, op: str, inputs: list[str], **attrs: Any) -> str:
        from onnx import helper

        out = f"v{len(self.nodes)}_{op.lower()}"
        self.nodes.append(helper.make_node(op, inputs, [out], name=f"n{len(self.nodes)}_{op}", **attrs))
        return out

    def const(self, value: np.ndarray | np.generic) -> str:
        from onnx import numpy_helper

        name = f"c{len(self.inits)}"
        self.inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name


def onnx_model(spec: ModelSpec) -> Any:
    import onnx
    from onnx import TensorProto, helper

    shapes = _checked_shapes(spec)
    weights = node_weights(spec, shapes)
    b = OnnxBuilder()
    batch: int | str = "N" if spec.batch == "free" else 1
    values = ["input"]
    b.shapes["input"] = spec.input_shape
    for i, (n, w) in enumerate(zip(spec.nodes, weights)):
        out = OPS[n.op].onnx(b, n.params, [values[j] for j in n.inputs], w)
        if out in values:  # an op that is the identity in ONNX (never at the moment)
            out = b.node("Identity", [out])
        b.shapes[out] = shapes[i + 1]
        values.append(out)
    nchw = lambda s: [batch, s[2], s[0], s[1]] if len(s) == 3 else [batch, *s]  # noqa: E731
    graph = helper.make_graph(
        b.nodes, "fuzz", [helper.make_tensor_value_info("input", TensorProto.FLOAT, nchw(spec.input_shape))],
        [helper.make_tensor_value_info(values[-1], TensorProto.FLOAT, nchw(shapes[-1]))], b.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


# -- torch ------------------------------------------------------------------------------------------


def torch_export(spec: ModelSpec, path: Path, dynamo: bool = True) -> None:
    """The spec as a torch module through `torch.onnx.export`: the dynamo exporter (torch 2.13's
    default, opset 18) or, with dynamo=False, the TorchScript one (opset 17). A free batch is a
    dynamic axis named N."""
    import torch

    shapes = _checked_shapes(spec)
    weights = node_weights(spec, shapes)

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = [{k: torch.from_numpy(np.ascontiguousarray(v))
                       for k, v in OPS[n.op].torch_weights(w).items()} for n, w in zip(spec.nodes, weights)]

        def forward(self, x: Any) -> Any:
            F = torch.nn.functional
            values = [x]
            for n, w in zip(spec.nodes, self.w):
                p = {**n.params, "_shape": shapes[n.inputs[0]]}
                values.append(OPS[n.op].torch(F, p, [values[j] for j in n.inputs], w))
            return values[-1]

    x = torch.from_numpy(to_nchw(calib_data(spec, 1)))
    dynamic = {"input": {0: "N"}, "output": {0: "N"}} if spec.batch == "free" else None
    with torch.no_grad(), contextlib.redirect_stdout(io.StringIO()):  # dynamo's progress lines
        torch.onnx.export(Net().eval(), (x,), str(path), input_names=["input"], output_names=["output"],
                          dynamic_axes=dynamic, opset_version=18 if dynamo else 17, dynamo=dynamo)


def qdq_export(spec: ModelSpec, path: Path) -> None:
    """The onnx.helper model through onnxruntime's `quantize_static` at its defaults (QDQ format,
    per-tensor int8 weights) on the calibration samples: a QDQ model mcuforge compiles as is."""
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, quantize_static

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.samples = iter([{"input": s[None]} for s in to_nchw(calib_data(spec))])

        def get_next(self) -> dict | None:
            return next(self.samples, None)

    float_path = path.with_name("float.onnx")
    onnx.save(onnx_model(spec), float_path)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # its advice to pre-process, once per model
    try:
        quantize_static(str(float_path), str(path), Reader())
    finally:
        root.setLevel(level)


# -- one entry point --------------------------------------------------------------------------------


def export(spec: ModelSpec, frontend: str, folder: Path) -> Path:
    """Write the model for `frontend` into `folder`; raises ExportError if the front end fails."""
    path = folder / f"model{SUFFIX[frontend]}"
    try:
        if frontend in ("tflite", "keras"):
            model = keras_model(spec)
            if frontend == "tflite":
                path.write_bytes(to_tflite(model, calib_data(spec)))
            else:
                model.save(path)
        elif frontend == "onnx":
            import onnx

            onnx.save(onnx_model(spec), path)
        elif frontend == "qdq":
            qdq_export(spec, path)
        elif frontend in ("torch", "torchscript"):
            torch_export(spec, path, dynamo=frontend == "torch")
        else:
            raise ValueError(f"unknown front end {frontend!r}: one of {', '.join(SUFFIX)}")
    except ExportError:
        raise
    except Exception as e:  # the front end's own failure: an invalid spec for it
        raise ExportError(f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"[:200]) from e
    return path
