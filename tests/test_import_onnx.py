"""ONNX import: float models built with onnx.helper run through our reference and onnxruntime
agree; bad models fail with one clear MfError; QDQ models import as int8 graphs."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from onnx_models import node, qdq_model, rand, save

from mcuforge.errors import MfError
from mcuforge.importers import load_model
from mcuforge.ir.graph import Graph
from mcuforge.ir.layout import from_ir_layout, to_ir_layout
from mcuforge.reference import run


def compare(path: Path, feeds: Mapping[str, np.ndarray], input_shapes: Mapping | None = None) -> Graph:
    """Import, then check our float reference against onnxruntime on `feeds` (ONNX layout)."""
    graph = load_model(path, input_shapes)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    expected = session.run(names, dict(feeds))
    ours = run(graph, {n: to_ir_layout(graph, n, x) for n, x in feeds.items()})
    for name, want in zip(names, expected):
        got = from_ir_layout(graph, name, ours[name])
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5, err_msg=name)
    return graph


def kinds(graph: Graph) -> list[str]:
    return [op.kind for op in graph.ops]


# -- float models --------------------------------------------------------------------------------


def test_small_cnn(tmp_path: Path) -> None:
    nodes = [
        node("Conv", ["x", "w1", "b1"], ["c1"], strides=[2, 2], pads=[1, 1, 1, 1], kernel_shape=[3, 3]),
        node("BatchNormalization", ["c1", "g", "beta", "mean", "var"], ["bn"], epsilon=1e-3),
        node("Relu", ["bn"], ["r1"]),
        node("Conv", ["r1", "w2"], ["c2"], dilations=[2, 2], pads=[2, 2, 2, 2]),
        node("Relu", ["c2"], ["r2"]),
        node("MaxPool", ["r2"], ["mp"], kernel_shape=[2, 2], strides=[2, 2]),
        node("AveragePool", ["mp"], ["ap"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        node("GlobalAveragePool", ["ap"], ["gap"]),
        node("Flatten", ["gap"], ["flat"]),
        node("Gemm", ["flat", "wf", "bf"], ["logits"], transB=1, alpha=0.5, beta=2.0),
        node("Softmax", ["logits"], ["y"], axis=1),
    ]
    inits = {
        "w1": rand(8, 3, 3, 3), "b1": rand(8), "g": rand(8) + 1, "beta": rand(8), "mean": rand(8),
        "var": np.abs(rand(8)) + 0.5, "w2": rand(8, 8, 3, 3), "wf": rand(5, 8), "bf": rand(5),
    }
    path = save(tmp_path, nodes, {"x": [1, 3, 16, 16]}, ["y"], inits)
    graph = compare(path, {"x": rand(1, 3, 16, 16, scale=1)})
    assert "TRANSPOSE" not in kinds(graph)
    assert graph.io_layouts["x"].perm == (0, 2, 3, 1)
    assert graph.io_layouts["x"].source_shape == (1, 3, 16, 16)
    assert graph.tensors["x"].shape == (1, 16, 16, 3)
    assert "y" not in graph.io_layouts


def test_flatten_of_spatial_tensor_transposes_back(tmp_path: Path) -> None:
    nodes = [
        node("Conv", ["x", "w"], ["c"], kernel_shape=[3, 3]),
        node("Flatten", ["c"], ["f"]),
        node("Gemm", ["f", "wf"], ["y"]),
    ]
    path = save(tmp_path, nodes, {"x": [1, 2, 5, 5]}, ["y"], {"w": rand(4, 2, 3, 3), "wf": rand(36, 3)})
    graph = compare(path, {"x": rand(1, 2, 5, 5, scale=1)})
    assert kinds(graph) == ["CONV_2D", "TRANSPOSE", "RESHAPE", "FULLY_CONNECTED"]


def test_depthwise_with_multiplier(tmp_path: Path) -> None:
    nodes = [node("Conv", ["x", "w", "b"], ["y"], group=4, strides=[2, 2], auto_pad="SAME_UPPER",
                  kernel_shape=[3, 3])]
    path = save(tmp_path, nodes, {"x": [1, 4, 9, 9]}, ["y"], {"w": rand(12, 1, 3, 3), "b": rand(12)})
    graph = compare(path, {"x": rand(1, 4, 9, 9, scale=1)})
    (op,) = graph.ops
    assert op.kind == "DEPTHWISE_CONV_2D" and op.attrs["depth_multiplier"] == 3
    assert graph.tensors[op.inputs[1]].shape == (1, 3, 3, 12)
    assert graph.io_layouts["y"].perm == (0, 2, 3, 1)


def test_residual_add(tmp_path: Path) -> None:
    nodes = [
        node("Conv", ["x", "w1"], ["c1"], pads=[1, 1, 1, 1]),
        node("Relu", ["c1"], ["r1"]),
        node("Conv", ["r1", "w2"], ["c2"], pads=[1, 1, 1, 1]),
        node("Add", ["x", "c2"], ["s"]),
        node("Relu", ["s"], ["y"]),
    ]
    path = save(tmp_path, nodes, {"x": [1, 4, 6, 6]}, ["y"], {"w1": rand(4, 4, 3, 3), "w2": rand(4, 4, 3, 3)})
    graph = compare(path, {"x": rand(1, 4, 6, 6, scale=1)})
    assert "TRANSPOSE" not in kinds(graph)


def test_squeeze_excite_mul_and_constant_broadcast(tmp_path: Path) -> None:
    nodes = [
        node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
        node("GlobalAveragePool", ["c"], ["g"]),
        node("Conv", ["g", "w_down"], ["d"]),
        node("Relu", ["d"], ["dr"]),
        node("Conv", ["dr", "w_up"], ["u"]),
        node("Sigmoid", ["u"], ["s"]),
        node("Mul", ["c", "s"], ["m"]),
        node("Mul", ["m", "per_channel"], ["m2"]),
        node("Sub", ["m2", "scalar"], ["y"]),
    ]
    inits = {"w": rand(6, 3, 3, 3), "w_down": rand(2, 6, 1, 1), "w_up": rand(6, 2, 1, 1),
             "per_channel": rand(6, 1, 1), "scalar": np.float32(0.25)}
    path = save(tmp_path, nodes, {"x": [1, 3, 7, 7]}, ["y"], inits)
    graph = compare(path, {"x": rand(1, 3, 7, 7, scale=1)})
    assert "TRANSPOSE" not in kinds(graph)


def test_concat_on_channels_and_pad(tmp_path: Path) -> None:
    nodes = [
        node("Conv", ["x", "w1"], ["a"], pads=[1, 1, 1, 1]),
        node("Conv", ["x", "w2"], ["b"], pads=[1, 1, 1, 1]),
        node("Concat", ["a", "b"], ["cat"], axis=1),
        node("Pad", ["cat", "pads", "value"], ["p"]),
        node("MaxPool", ["p"], ["y"], kernel_shape=[2, 2], strides=[2, 2]),
    ]
    inits = {"w1": rand(3, 2, 3, 3), "w2": rand(5, 2, 3, 3),
             "pads": np.array([0, 0, 1, 2, 0, 0, 2, 1], np.int64), "value": np.float32(0.5)}
    path = save(tmp_path, nodes, {"x": [1, 2, 5, 5]}, ["y"], inits)
    graph = compare(path, {"x": rand(1, 2, 5, 5, scale=1)})
    concat = next(op for op in graph.ops if op.kind == "CONCATENATION")
    assert concat.attrs["axis"] == 3


def test_transpose_is_free_and_feeds_matmul(tmp_path: Path) -> None:
    nodes = [
        node("Conv", ["x", "w"], ["c"]),
        node("Transpose", ["c"], ["t"], perm=[0, 2, 3, 1]),
        node("Reshape", ["t", "shape"], ["r"]),
        node("MatMul", ["r", "wm"], ["y"]),
    ]
    inits = {"w": rand(4, 3, 1, 1), "shape": np.array([1, -1], np.int64), "wm": rand(4 * 4 * 4, 3)}
    path = save(tmp_path, nodes, {"x": [1, 3, 4, 4]}, ["y"], inits)
    graph = compare(path, {"x": rand(1, 3, 4, 4, scale=1)})
    assert kinds(graph) == ["CONV_2D", "RESHAPE", "FULLY_CONNECTED"]


def test_nhwc_model_with_input_transpose_needs_no_runtime_transpose(tmp_path: Path) -> None:
    """tf2onnx style: an NHWC input transposed to NCHW before the first Conv."""
    nodes = [
        node("Transpose", ["x"], ["t"], perm=[0, 3, 1, 2]),
        node("Conv", ["t", "w"], ["c"], pads=[1, 1, 1, 1]),
        node("Transpose", ["c"], ["y"], perm=[0, 2, 3, 1]),
    ]
    path = save(tmp_path, nodes, {"x": [1, 6, 6, 3]}, ["y"], {"w": rand(4, 3, 3, 3)})
    graph = compare(path, {"x": rand(1, 6, 6, 3, scale=1)})
    assert kinds(graph) == ["CONV_2D"]
    assert graph.io_layouts == {}


def test_conv1d_and_pool1d(tmp_path: Path) -> None:
    nodes = [
        node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1]),
        node("LeakyRelu", ["c1"], ["l"], alpha=0.1),
        node("MaxPool", ["l"], ["mp"], kernel_shape=[2], strides=[2]),
        node("Conv", ["mp", "w2"], ["c2"], strides=[2], dilations=[2]),
        node("ReduceMean", ["c2"], ["y"], axes=[2], keepdims=0),
    ]
    inits = {"w1": rand(6, 4, 3), "b1": rand(6), "w2": rand(5, 6, 3)}
    path = save(tmp_path, nodes, {"x": [1, 4, 20]}, ["y"], inits)
    graph = compare(path, {"x": rand(1, 4, 20, scale=1)})
    assert graph.io_layouts["x"].perm == (0, 2, 1)
    assert "TRANSPOSE" not in kinds(graph)


def test_activations_and_channels_last_output(tmp_path: Path) -> None:
    nodes = [
        node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
        node("PRelu", ["c", "slope"], ["p"]),
        node("HardSwish", ["p"], ["h"]),
        node("Clip", ["h", "lo", "hi"], ["cl"]),
        node("Tanh", ["cl"], ["t"]),
        node("Sigmoid", ["t"], ["s"]),
        node("LeakyRelu", ["s"], ["y"], alpha=0.2),
        node("Clip", ["c"], ["y2"]),
    ]
    inits = {"w": rand(5, 3, 3, 3, scale=1), "slope": rand(5, 1, 1), "lo": np.float32(-1.5),
             "hi": np.float32(2.0)}
    path = save(tmp_path, nodes, {"x": [1, 3, 6, 6]}, ["y", "y2"], inits)
    graph = compare(path, {"x": rand(1, 3, 6, 6, scale=1)})
    assert graph.io_layouts["y"].perm == (0, 2, 3, 1)
    assert graph.io_layouts["y"].source_shape == (1, 5, 6, 6)


def test_matmul_rank3_and_softmax_over_channels(tmp_path: Path) -> None:
    nodes = [
        node("MatMul", ["x", "w"], ["m"]),
        node("Add", ["m", "bias"], ["a"]),
        node("Tanh", ["a"], ["y"]),
        node("Conv", ["img", "wc"], ["c"]),
        node("Softmax", ["c"], ["y2"], axis=1),
    ]
    inits = {"w": rand(6, 4), "bias": rand(4), "wc": rand(3, 2, 1, 1)}
    path = save(tmp_path, nodes, {"x": [1, 3, 6], "img": [1, 2, 3, 3]}, ["y", "y2"], inits)
    graph = compare(path, {"x": rand(1, 3, 6, scale=1), "img": rand(1, 2, 3, 3, scale=1)})
    assert "x" not in graph.io_layouts
    assert "TRANSPOSE" not in kinds(graph)


def test_shape_arithmetic_is_folded(tmp_path: Path) -> None:
    """Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1])), as PyTorch exports view(n, -1)."""
    nodes = [
        node("Conv", ["x", "w"], ["c"]),
        node("Shape", ["c"], ["shp"]),
        node("Gather", ["shp", "zero"], ["n"], axis=0),
        node("Unsqueeze", ["n", "axes"], ["n1"]),
        node("Concat", ["n1", "minus1"], ["target"], axis=0),
        node("Reshape", ["c", "target"], ["r"]),
        node("Identity", ["r"], ["i"]),
        node("Dropout", ["i"], ["y"]),
    ]
    inits = {"w": rand(2, 2, 1, 1), "zero": np.array(0, np.int64), "axes": np.array([0], np.int64),
             "minus1": np.array([-1], np.int64)}
    path = save(tmp_path, nodes, {"x": [1, 2, 3, 3]}, ["y"], inits)
    graph = compare(path, {"x": rand(1, 2, 3, 3, scale=1)})
    assert graph.outputs == ["y"]


def test_layout_helpers_accept_a_sample_axis(tmp_path: Path) -> None:
    path = save(tmp_path, [node("Conv", ["x", "w"], ["y"])], {"x": [1, 2, 3, 4]}, ["y"],
                {"w": rand(2, 2, 1, 1)})
    graph = load_model(path)
    batch = rand(5, 1, 2, 3, 4)
    ir = to_ir_layout(graph, "x", batch)
    assert ir.shape == (5, 1, 3, 4, 2)
    np.testing.assert_array_equal(from_ir_layout(graph, "x", ir), batch)


# -- bad models --------------------------------------------------------------------------------


def test_truncated_file(tmp_path: Path) -> None:
    path = save(tmp_path, [node("Relu", ["x"], ["y"])], {"x": [1, 4]}, ["y"], {"pad": rand(64)})
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(MfError, match=r"m\.onnx: not a valid ONNX model") as e:
        load_model(path)
    assert "\n" not in str(e.value)


def test_unsupported_ops_listed_together(tmp_path: Path) -> None:
    nodes = [
        node("Cos", ["x"], ["e"]),
        node("Relu", ["e"], ["r"]),
        node("Sin", ["r"], ["y"]),
    ]
    path = save(tmp_path, nodes, {"x": [1, 4]}, ["y"], {})
    with pytest.raises(MfError) as e:
        load_model(path)
    message = str(e.value)
    assert "2 unsupported node(s)" in message
    assert "'cos_e' (ai.onnx::Cos, opset 17)" in message and "'sin_y' (ai.onnx::Sin, opset 17)" in message
    assert "Add" not in message and "`mcuforge ops`" in message


def test_many_unsupported_nodes_are_listed_once_per_kind(tmp_path: Path) -> None:
    nodes = [node("Cos", ["x" if i == 0 else f"e{i - 1}"], [f"e{i}"]) for i in range(20)]
    nodes.append(node("Sin", ["e19"], ["y"]))
    path = save(tmp_path, nodes, {"x": [1, 4]}, ["y"], {})
    with pytest.raises(MfError) as e:
        load_model(path)
    message = str(e.value)
    assert "21 unsupported node(s): 'cos_e0', 'cos_e1'" in message
    assert "'cos_e7' and 12 more (ai.onnx::Cos, opset 17); 'sin_y' (ai.onnx::Sin, opset 17)" in message
    assert message.count("cos_e") == 8 and "\n" not in message


def test_symbolic_batch_becomes_one_with_a_note(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    nodes = [node("Conv", ["x", "w"], ["c"]), node("Flatten", ["c"], ["y"])]
    path = save(tmp_path, nodes, {"x": ["batch", 3, 4, 4]}, ["y"], {"w": rand(2, 3, 3, 3)})
    assert load_model(path).tensors["x"].shape == (1, 4, 4, 3)
    note = capsys.readouterr().err.strip().splitlines()
    assert len(note) == 1 and "input 'x' has a free batch dimension ('batch')" in note[0]
    graph = compare(path, {"x": rand(2, 3, 4, 4, scale=1)}, {"x": (2, 3, 4, 4)})
    assert graph.tensors["x"].shape == (2, 4, 4, 3)
    with pytest.raises(MfError, match="does not fit the model's shape"):
        load_model(path, {"x": (1, 3, 5, 5)})
    with pytest.raises(MfError, match="the model's inputs are: x"):
        load_model(path, {"image": (1, 3, 4, 4)})


def test_other_dynamic_dims_need_input_shape(tmp_path: Path) -> None:
    nodes = [node("Conv", ["x", "w"], ["y"])]
    path = save(tmp_path, nodes, {"x": ["batch", 3, "h", 4]}, ["y"], {"w": rand(2, 3, 3, 3)})
    with pytest.raises(MfError, match=r"input 'x' dimension 2 is dynamic \('h'\); "
                                      r"fix it with --input-shape x=1,3,1,4"):
        load_model(path)
    assert load_model(path, {"x": (1, 3, 5, 4)}).tensors["x"].shape == (1, 5, 4, 3)


def test_initializer_shape_mismatch(tmp_path: Path) -> None:
    path = save(tmp_path, [node("Conv", ["x", "w"], ["y"])], {"x": [1, 3, 4, 4]}, ["y"],
                {"w": rand(2, 5, 3, 3)})
    with pytest.raises(MfError, match=r"node 'conv_y' \(Conv\): weights \[2, 5, 3, 3\] with group=1 do "
                                      r"not fit input \[1, 3, 4, 4\]"):
        load_model(path)


@pytest.mark.parametrize(("op", "attrs", "message"), [
    ("Conv", {"group": 3}, r"with group=3 do not fit input"),
    ("AveragePool", {"kernel_shape": [2, 2], "dilations": [2, 2]}, "dilations"),
])
def test_unsupported_attributes(tmp_path: Path, op: str, attrs: dict, message: str) -> None:
    inputs = ["x", "w"] if op == "Conv" else ["x"]
    path = save(tmp_path, [node(op, inputs, ["y"], **attrs)], {"x": [1, 4, 4, 4]}, ["y"],
                {"w": rand(4, 2, 1, 1)} if op == "Conv" else {})
    with pytest.raises(MfError, match=message):
        load_model(path)


# -- QDQ models --------------------------------------------------------------------------------


def test_qdq_imports_as_int8_graph(tmp_path: Path) -> None:
    _, path = qdq_model(tmp_path)
    graph = load_model(path)
    assert kinds(graph)[0] == "QUANTIZE" and graph.tensors["x"].dtype == "float32"
    assert all(graph.tensors[n].dtype == "float32" for n in graph.outputs)
    inner = [op for op in graph.ops if graph.producers().get(op.inputs[0]) is not None]
    assert all(graph.tensors[op.inputs[0]].dtype == "int8" for op in inner)
    float_ops = {op.kind for op in graph.ops if graph.tensors[op.outputs[0]].dtype == "float32"}
    assert float_ops == {"DEQUANTIZE"}
    conv, dw = (next(op for op in graph.ops if op.kind == k) for k in ("CONV_2D", "DEPTHWISE_CONV_2D"))
    for op, axis in ((conv, 0), (dw, 3)):
        w, bias = graph.tensors[op.inputs[1]], graph.tensors[op.inputs[2]]
        assert w.dtype == "int8" and w.quant is not None and w.quant.axis == axis
        assert w.quant.scale.size == 8
        assert bias.dtype == "int32" and bias.quant is not None


def test_qdq_int8_reference_close_to_onnxruntime(tmp_path: Path) -> None:
    """The int8 reference rounds like TFLite Micro, onnxruntime like its own QLinear kernels:
    outputs agree to within a few quantization steps (measured over 200 samples: logits 60%
    exact, 98% within one step, at most 3; softmax 80% exact, 98% within one step, at most 3)."""
    _, path = qdq_model(tmp_path)
    graph = load_model(path)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    steps: dict[str, list[np.ndarray]] = {"logits": [], "p": []}
    rng = np.random.default_rng(3)
    for _ in range(50):
        x = rand(1, 3, 16, 16, scale=1, rng=rng)
        want = dict(zip(["logits", "p"], session.run(["logits", "p"], {"x": x})))
        ours = run(graph, {"x": to_ir_layout(graph, "x", x)})
        for name in steps:
            scale, _ = graph.tensors[graph.producers()[name].inputs[0]].scalar_quant()
            steps[name].append(np.abs(ours[name] - want[name]) / scale)
    for name, diffs in steps.items():
        d = np.concatenate([a.ravel() for a in diffs])
        assert np.mean(d <= 1.01) >= 0.9, (name, np.mean(d <= 1.01))
        assert d.max() <= 3.01, (name, d.max())


def test_output_aliasing_an_input_is_copied(tmp_path: Path) -> None:
    nodes = [node("Identity", ["x"], ["y"]), node("Relu", ["x"], ["r"]), node("Transpose", ["r"], ["z"])]
    path = save(tmp_path, nodes, {"x": [2, 3]}, ["y", "z"], {})
    graph = compare(path, {"x": rand(2, 3, scale=1)})
    assert graph.outputs == ["y", "z"]
    assert graph.io_layouts["z"].perm == (1, 0) and graph.io_layouts["z"].source_shape == (3, 2)
