"""ONNX Resize / Upsample in every supported mode, ConvTranspose geometry, grouped Conv and
ceil_mode pools, built with onnx.helper: the float import agrees with onnxruntime; nearest
resizes pick exactly onnxruntime's pixels; bad attributes give one clear MfError."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper, version_converter
from onnx_models import node, rand, save

from mcuforge.errors import MfError
from mcuforge.importers import load_model
from mcuforge.ir.graph import Graph
from mcuforge.ir.layout import from_ir_layout, to_ir_layout
from mcuforge.reference import run


def compare(path: Path, x: np.ndarray, atol: float = 1e-5) -> Graph:
    graph = load_model(path)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (want,) = session.run(["y"], {"x": x})
    got = from_ir_layout(graph, "y", run(graph, {"x": to_ir_layout(graph, "x", x)})["y"])
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=atol)
    return graph


def resize_model(tmp_path: Path, shape: list[int], opset: int, scales: list[float] | None,
                 sizes: list[int] | None, **attrs: object) -> Path:
    inits: dict[str, np.ndarray] = {}
    inputs = ["x", ""]
    if scales is not None:
        inits["scales"] = np.asarray(scales, np.float32)
        inputs.append("scales")
    if sizes is not None:
        inits["sizes"] = np.asarray(sizes, np.int64)
        inputs += ["", "sizes"] if scales is None else ["sizes"]
    return save(tmp_path, [node("Resize", inputs, ["y"], **attrs)], {"x": shape}, ["y"], inits, opset=opset)


COORDINATES = ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn"]
NEAREST = ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]
GEOMETRIES = [  # (input shape, scales, sizes)
    ([1, 3, 5, 6], [1, 1, 2, 2], None),
    ([1, 2, 7, 4], None, [1, 2, 3, 9]),
    ([2, 4, 6, 9], None, [2, 4, 9, 4]),
    ([1, 1, 4, 4], [1, 1, 3, 0.5], None),
]


@pytest.mark.parametrize("geometry", range(len(GEOMETRIES)))
@pytest.mark.parametrize("coordinate", COORDINATES)
@pytest.mark.parametrize("nearest", NEAREST)
def test_resize_nearest_every_mode(tmp_path: Path, geometry: int, coordinate: str, nearest: str) -> None:
    shape, scales, sizes = GEOMETRIES[geometry]
    path = resize_model(tmp_path, shape, 13, scales, sizes, mode="nearest",
                        coordinate_transformation_mode=coordinate, nearest_mode=nearest)
    x = rand(*shape, scale=1.0)
    graph = compare(path, x, atol=0)  # a gather: the very same pixels
    assert [op.kind for op in graph.ops if op.kind.startswith("RESIZE")] == ["RESIZE_NEAREST_NEIGHBOR"]


@pytest.mark.parametrize("geometry", range(len(GEOMETRIES)))
@pytest.mark.parametrize("coordinate", ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric"])
def test_resize_linear_every_mode(tmp_path: Path, geometry: int, coordinate: str) -> None:
    shape, scales, sizes = GEOMETRIES[geometry]
    if scales is not None and any(s % 1 for s in scales) and coordinate != "align_corners":
        pytest.skip("non-integer scales: TFLite's in/out ratio differs from 1/scale (by design)")
    path = resize_model(tmp_path, shape, 13, scales, sizes, mode="linear",
                        coordinate_transformation_mode=coordinate)
    graph = compare(path, rand(*shape, scale=1.0), atol=1e-5)
    assert "RESIZE_BILINEAR" in [op.kind for op in graph.ops]


def test_old_upsample_and_resize10_after_version_conversion(tmp_path: Path) -> None:
    """Opsets below 11 are refused with a hint at onnx.version_converter; the converted model
    (Upsample / Resize-10 become Resize-13 with asymmetric coordinates) imports and agrees with
    onnxruntime on the original model."""
    x = rand(1, 3, 4, 5, scale=1.0)
    scales = numpy_helper.from_array(np.asarray([1, 1, 2, 3], np.float32), "s")
    for opset, op in ((10, "Resize"), (9, "Upsample")):
        for mode in ("nearest",):  # (the converter turns linear into half_pixel, changing it)
            graph = helper.make_graph(
                [helper.make_node(op, ["x", "s"], ["y"], mode=mode)], "g",
                [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 5])],
                [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 8, 15])], [scales])
            model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
            old = tmp_path / f"{op}{opset}{mode}.onnx"
            old.write_bytes(model.SerializeToString())
            (want,) = ort.InferenceSession(str(old), providers=["CPUExecutionProvider"]).run(["y"], {"x": x})
            new = tmp_path / f"{op}{opset}{mode}_13.onnx"
            new.write_bytes(version_converter.convert_version(model, 13).SerializeToString())
            g = load_model(new)
            got = from_ir_layout(g, "y", run(g, {"x": to_ir_layout(g, "x", x)})["y"])
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(("attrs", "message"), [
    ({"mode": "cubic"}, "mode 'cubic' is not supported"),
    ({"mode": "linear", "coordinate_transformation_mode": "tf_half_pixel_for_nn"}, "linear mode with"),
    ({"mode": "nearest", "coordinate_transformation_mode": "tf_crop_and_resize"}, "tf_crop_and_resize"),
])
def test_resize_unsupported_modes(tmp_path: Path, attrs: dict, message: str) -> None:
    path = resize_model(tmp_path, [1, 2, 3, 3], 13, [1, 1, 2, 2], None, **attrs)
    with pytest.raises(MfError, match=message):
        load_model(path)


def test_resize_of_channels_refused(tmp_path: Path) -> None:
    path = resize_model(tmp_path, [1, 2, 3, 3], 13, [1, 2, 2, 2], None, mode="nearest")
    with pytest.raises(MfError, match="only H and W can be resized"):
        load_model(path)


@pytest.mark.parametrize(("c_in", "c_out", "k", "attrs"), [
    (4, 3, 3, {"strides": [2, 2], "pads": [1, 1, 1, 1], "output_padding": [1, 1]}),
    (3, 5, 4, {"strides": [2, 2], "pads": [1, 1, 1, 1]}),
    (2, 2, 2, {"strides": [2, 2]}),
    (5, 4, 3, {"strides": [3, 2], "pads": [0, 1, 2, 0]}),
    (4, 6, 3, {"strides": [2, 2], "group": 2, "pads": [1, 1, 1, 1]}),
    (3, 3, 3, {"strides": [2, 2], "auto_pad": "SAME_UPPER"}),
    (3, 2, 3, {"strides": [2, 2], "output_shape": [10, 12]}),
])
def test_conv_transpose_geometry(tmp_path: Path, c_in: int, c_out: int, k: int, attrs: dict) -> None:
    group = int(attrs.get("group", 1))
    w = rand(c_in, c_out // group, k, k)
    path = save(tmp_path, [node("ConvTranspose", ["x", "w", "b"], ["y"], **attrs)],
                {"x": [1, c_in, 5, 6]}, ["y"], {"w": w, "b": rand(c_out)})
    graph = compare(path, rand(1, c_in, 5, 6, scale=1.0))
    assert "TRANSPOSE_CONV" in [op.kind for op in graph.ops]


def test_conv_transpose_1d(tmp_path: Path) -> None:
    path = save(tmp_path, [node("ConvTranspose", ["x", "w"], ["y"], strides=[2], pads=[1, 0])],
                {"x": [1, 3, 7]}, ["y"], {"w": rand(3, 4, 3)})
    compare(path, rand(1, 3, 7, scale=1.0))


def test_conv_transpose_dilation_refused(tmp_path: Path) -> None:
    path = save(tmp_path, [node("ConvTranspose", ["x", "w"], ["y"], dilations=[2, 2])],
                {"x": [1, 3, 5, 5]}, ["y"], {"w": rand(3, 4, 3, 3)})
    with pytest.raises(MfError, match="dilations"):
        load_model(path)


@pytest.mark.parametrize(("c_in", "c_out", "group"), [(4, 6, 2), (8, 8, 4), (6, 3, 3), (8, 16, 2)])
def test_grouped_conv(tmp_path: Path, c_in: int, c_out: int, group: int) -> None:
    path = save(tmp_path, [node("Conv", ["x", "w", "b"], ["y"], group=group, pads=[1, 1, 1, 1])],
                {"x": [1, c_in, 6, 5]}, ["y"], {"w": rand(c_out, c_in // group, 3, 3), "b": rand(c_out)})
    graph = compare(path, rand(1, c_in, 6, 5, scale=1.0))
    assert [op.kind for op in graph.ops if "CONV" in op.kind] == ["CONV_2D"]


@pytest.mark.parametrize("op", ["MaxPool", "AveragePool"])
@pytest.mark.parametrize(("size", "k", "s", "pads", "include"), [
    ((8, 10), 3, 2, [0, 0, 0, 0], 0), ((7, 9), 2, 2, [0, 0, 0, 0], 1), ((9, 6), 3, 2, [1, 1, 1, 1], 0),
    ((5, 5), 3, 3, [0, 0, 0, 0], 0), ((6, 7), 4, 3, [1, 2, 1, 0], 0), ((9, 6), 3, 2, [1, 1, 1, 1], 1),
    ((6, 7), 4, 3, [1, 2, 1, 0], 1), ((8, 8), 3, 2, [1, 0, 0, 1], 1),
])
def test_ceil_mode_pools(tmp_path: Path, op: str, size: tuple[int, int], k: int, s: int, pads: list[int],
                         include: int) -> None:
    attrs: dict = {"kernel_shape": [k, k], "strides": [s, s], "pads": pads, "ceil_mode": 1}
    if op == "AveragePool":
        attrs["count_include_pad"] = include
    path = save(tmp_path, [node(op, ["x"], ["y"], **attrs)], {"x": [1, 3, *size]}, ["y"], {})
    compare(path, rand(1, 3, *size, scale=1.0))


def test_conv_transpose_qdq_per_channel(tmp_path: Path) -> None:
    """onnxruntime's quantize_static puts per-channel ConvTranspose scales on axis 1 (C_out):
    the imported int8 graph agrees with onnxruntime's QDQ model to within two output steps."""
    quantization = pytest.importorskip("onnxruntime.quantization")
    rng = np.random.default_rng(4)
    path = save(tmp_path, [node("Conv", ["x", "w1", "b1"], ["c"], pads=[1, 1, 1, 1]),
                           node("ConvTranspose", ["c", "w2", "b2"], ["y"], strides=[2, 2], pads=[1, 1, 1, 1],
                                output_padding=[1, 1])],
                {"x": [1, 3, 6, 6]}, ["y"], {"w1": rand(4, 3, 3, 3, rng=rng), "b1": rand(4, rng=rng),
                                             "w2": rand(4, 5, 3, 3, rng=rng), "b2": rand(5, rng=rng)})
    samples = [rand(1, 3, 6, 6, scale=1.0, rng=rng) for _ in range(20)]

    class Reader(quantization.CalibrationDataReader):
        def __init__(self) -> None:
            self.it = iter({"x": s} for s in samples)

        def get_next(self) -> dict | None:
            return next(self.it, None)

    qdq = tmp_path / "qdq.onnx"
    quantization.quantize_static(str(path), str(qdq), Reader(), quant_format=quantization.QuantFormat.QDQ,
                                 per_channel=True, activation_type=quantization.QuantType.QInt8,
                                 weight_type=quantization.QuantType.QInt8)
    graph = load_model(qdq)
    tconv = next(op for op in graph.ops if op.kind == "TRANSPOSE_CONV")
    w = graph.tensors[tconv.inputs[1]]
    assert w.dtype == "int8" and w.quant is not None and w.quant.axis == 0 and w.quant.scale.size == 5
    session = ort.InferenceSession(str(qdq), providers=["CPUExecutionProvider"])
    scale, _ = graph.tensors[graph.producers()["y"].inputs[0]].scalar_quant()
    for x in samples[:5]:
        (want,) = session.run(["y"], {"x": x})
        got = from_ir_layout(graph, "y", run(graph, {"x": to_ir_layout(graph, "x", x)})["y"])
        assert np.abs(got - want).max() <= 2.01 * scale


@pytest.mark.parametrize(("size", "k", "s", "pads"), [
    ((7, 7), 3, 2, [1, 1, 1, 1]), ((6, 9), 3, 1, [1, 0, 2, 1]),
])
def test_average_pool_counting_pads(tmp_path: Path, size: tuple[int, int], k: int, s: int,
                                    pads: list[int]) -> None:
    """count_include_pad=1 (PyTorch's default): the pads become a zero PAD, counted like any cell."""
    attrs = {"kernel_shape": [k, k], "strides": [s, s], "pads": pads, "count_include_pad": 1}
    path = save(tmp_path, [node("AveragePool", ["x"], ["y"], **attrs)], {"x": [1, 3, *size]}, ["y"], {})
    graph = compare(path, rand(1, 3, *size, scale=1.0))
    pool_ops = [op.kind for op in graph.ops if op.kind in ("PAD", "AVERAGE_POOL_2D")]
    assert pool_ops == ["PAD", "AVERAGE_POOL_2D"]
