"""Pure-Python checks of the data-movement machinery (tflite-import): TFLite's strided-slice
resolution and ONNX's slice ranges against Python's own slicing, the strided-copy plans of every
data-movement op against the op's reference, folding at import, and kernel-shape refusals that
name the node in `inspect` as in `compile`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mcuforge.cli import main
from mcuforge.codegen import lower
from mcuforge.codegen.copy_plan import copies_for, run_copies
from mcuforge.errors import MfError
from mcuforge.importers.fold import fold_op
from mcuforge.importers.onnx_data_ops import onnx_slice_range
from mcuforge.importers.tflite_data_ops import resolve_strided_slice
from mcuforge.ir.graph import Graph, Op, QuantParams, Tensor
from mcuforge.ops.registry import Ctx, infer_shapes
from mcuforge.reference.interpreter import run


@pytest.mark.parametrize("seed", range(200))
def test_strided_slice_resolution_matches_python_slicing(seed: int) -> None:
    """TFLite's rules (negative indices from the end, clamping, masks take the extreme, a shrunk
    axis keeps one element) are Python's for one axis: x[b:e:s], x[:e:s], x[b::s], x[b]."""
    rng = np.random.default_rng(seed)
    d = int(rng.integers(1, 9))
    x = np.arange(d)
    b, e = (int(v) for v in rng.integers(-d - 2, d + 3, size=2))
    s = int(rng.choice([1, 2, 3, -1, -2, -3]))
    begin_mask, end_mask = int(rng.integers(0, 2)), int(rng.integers(0, 2))
    shrink = int(rng.random() < 0.2 and -d <= b < d)
    begin, size, step, shape = resolve_strided_slice((d,), [b], [e], [s], begin_mask, end_mask, shrink)
    got = x[begin[0] + step[0] * np.arange(size[0])].reshape(shape)
    python = slice(None if begin_mask else b, None if end_mask else e, s)
    want = np.asarray(x[b]) if shrink else x[python]
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("seed", range(200))
def test_onnx_slice_range_matches_python_slicing(seed: int) -> None:
    rng = np.random.default_rng(1000 + seed)
    d = int(rng.integers(1, 9))
    b, e = (int(v) for v in rng.integers(-d - 3, d + 4, size=2))
    s = int(rng.choice([1, 2, -1, -3]))
    first, count = onnx_slice_range(d, b, e, s)
    if s < 0 and b < -d:  # ONNX clamps such a start to 0 (Python: before the start, nothing)
        b = 0
    want = np.arange(d)[b:e:s] if not (s < 0 and e < -d) else np.arange(d)[b::s]
    np.testing.assert_array_equal(first + s * np.arange(count), want)


def _graph(kind: str, attrs: dict, shapes: list[tuple[int, ...]], outputs: int = 1,
           dtype: str = "int8") -> tuple[Graph, Op, list[np.ndarray]]:
    rng = np.random.default_rng(7)
    q = QuantParams(np.float32(0.05), 3) if dtype == "int8" else None
    g = Graph()
    xs = []
    for i, shape in enumerate(shapes):
        g.add_tensor(Tensor(f"in{i}", shape, dtype, None, q))
        g.inputs.append(f"in{i}")
        xs.append(rng.integers(-128, 128, shape).astype(dtype))
    op = Op(kind, "op", list(g.inputs), [f"out{j}" for j in range(outputs)], attrs)
    for name, shape in zip(op.outputs, infer_shapes(op, shapes), strict=True):
        g.add_tensor(Tensor(name, shape, dtype, None, q))
    g.add_op(op)
    g.outputs = list(op.outputs)
    return g, op, xs


PLANS = [
    ("STRIDED_SLICE", {"begin": (0, 4, 1), "size": (2, 3, 2), "step": (1, -2, 3), "shape": (2, 3, 2)},
     [(2, 7, 5)], 1),
    ("STRIDED_SLICE", {"begin": (1, 0, 2), "size": (1, 7, 1), "step": (1, 1, 1), "shape": (7,)},
     [(2, 7, 5)], 1),
    ("SPLIT", {"axis": 2, "sizes": (1, 3, 1)}, [(2, 3, 5, 4)], 3),
    ("SPLIT", {"axis": 0, "sizes": (2, 1)}, [(3, 5)], 2),
    ("TILE", {"multiples": (1, 3, 1, 2)}, [(1, 2, 5, 3)], 1),
    ("BROADCAST_TO", {"shape": (2, 4, 5, 3)}, [(4, 1, 3)], 1),
    ("GATHER", {"axis": 1, "indices": [[3, 0], [1, 2]]}, [(2, 4, 3)], 1),
    ("GATHER", {"axis": 3, "indices": 2}, [(1, 2, 3, 4)], 1),
    ("TRANSPOSE", {"perm": (0, 1, 2, 4, 3)}, [(1, 4, 3, 2, 5)], 1),
    ("TRANSPOSE", {"perm": (2, 0, 5, 1, 4, 3)}, [(2, 3, 2, 1, 4, 3)], 1),
    ("CONCATENATION", {"axis": 3, "activation": "NONE"}, [(1, 2, 3, 2, 4), (1, 2, 3, 1, 4)], 1),
    *[("MIRROR_PAD", {"pads": pads, "mode": mode}, [shape], 1)
      for mode, pads, shape in [("REFLECT", ((0, 0), (2, 1), (3, 4), (0, 0)), (1, 4, 5, 3)),
                                ("SYMMETRIC", ((0, 0), (4, 0), (1, 2), (0, 1)), (1, 4, 2, 3)),
                                ("EDGE", ((0, 0), (5, 2), (0, 3), (0, 0)), (1, 1, 3, 2)),
                                ("WRAP", ((1, 0), (2, 3), (3, 3), (0, 0)), (2, 3, 3, 2)),
                                ("REFLECT", ((1, 2),), (4,))]],
]


@pytest.mark.parametrize(("kind", "attrs", "shapes", "outputs"), PLANS)
def test_copy_plan_equals_reference(kind: str, attrs: dict, shapes: list, outputs: int) -> None:
    g, op, xs = _graph(kind, attrs, shapes, outputs)
    want = run(g, dict(zip(g.inputs, xs, strict=True)))
    copies = copies_for(Ctx.of(g, op))
    got = run_copies(copies, xs, [g.tensors[o].size for o in op.outputs])
    for name, y in zip(op.outputs, got, strict=True):
        np.testing.assert_array_equal(y.reshape(g.tensors[name].shape), want[name])


@pytest.mark.parametrize(("mode", "pad", "limit"), [("REFLECT", 4, 3), ("SYMMETRIC", 5, 4), ("WRAP", 5, 4)])
def test_mirror_pad_beyond_the_mode_is_one_line(mode: str, pad: int, limit: int) -> None:
    with pytest.raises(ValueError, match=rf"pads \(0, {pad}\) on axis 1 of 4 elements; {mode} takes 0 to "
                                         rf"{limit} on each side"):
        _graph("MIRROR_PAD", {"pads": ((0, 0), (0, pad)), "mode": mode}, [(2, 4)])


def test_int32_shape_arithmetic_folds() -> None:
    g = Graph()
    g.add_tensor(Tensor("s", (4,), "int32", np.array([1, 5, 5, 16], np.int32)))
    g.add_tensor(Tensor("n", (), "int32"))
    g.add_tensor(Tensor("prod", (), "int32"))
    g.add_tensor(Tensor("packed", (2,), "int32"))
    first = {"begin": (0,), "size": (1,), "step": (1,), "shape": ()}
    slice_op = Op("STRIDED_SLICE", "n", ["s"], ["n"], first)
    prod_op = Op("REDUCE_PROD", "prod", ["s"], ["prod"], {"axes": (0,), "keepdims": False})
    for op in (slice_op, prod_op):
        assert fold_op(g, op)
    assert int(g.tensors["n"].data) == 1 and int(g.tensors["prod"].data) == 400
    g.add_tensor(Tensor("a", (1,), "int32"))
    g.add_tensor(Tensor("b", (1,), "int32"))
    for src, dst in (("n", "a"), ("prod", "b")):
        assert fold_op(g, Op("RESHAPE", dst, [src], [dst], {"shape": (1,)}))
    concat = Op("CONCATENATION", "packed", ["a", "b"], ["packed"], {"axis": 0, "activation": "NONE"})
    assert fold_op(g, concat)
    assert g.tensors["packed"].data.tolist() == [1, 400] and g.tensors["packed"].data.dtype == np.int32
    div = Op("FLOOR_DIV", "d", ["packed", "packed"], ["d"], {})
    g.add_tensor(Tensor("d", (2,), "int32"))
    assert fold_op(g, div) and g.tensors["d"].data.tolist() == [1, 1]


def test_rank5_add_is_refused_by_name_for_int8() -> None:
    g, _, _ = _graph("ADD", {"activation": "NONE"}, [(1, 2, 3, 4, 5), (1, 2, 3, 4, 5)])
    with pytest.raises(MfError, match=r"^ADD 'op': .*rank 5"):
        lower(g, "m")


def test_inspect_refuses_what_compile_refuses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A 5-D Add (no kernel takes it) in a float ONNX model: inspect names the node and exits 2."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    shape = numpy_helper.from_array(np.array([1, 2, 3, 4, 5], np.int64), "shape")
    nodes = [helper.make_node("Reshape", ["x", "shape"], ["r"]),
             helper.make_node("Add", ["r", "r"], ["y"], name="add5d")]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 120])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 3, 4, 5])
    graph = helper.make_graph(nodes, "g", [x], [y], [shape])
    path = tmp_path / "add5d.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    assert main(["inspect", str(path)]) == 2
    err = capsys.readouterr().err
    assert "ADD 'y'" in err and "rank 5" in err and err.count("\n") == 1
