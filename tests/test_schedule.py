"""The op order with the smallest peak (plan.schedule): exact on hand cases, consistent with the
planner's buffers on random graphs, applied by lowering only where the arena shrinks, and the
reordered model bit-exact in C."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

from mcuforge.compile import CompileOptions, compile_model
from mcuforge.ir.graph import Graph, Op, Tensor
from mcuforge.plan import buffers_for_graph
from mcuforge.plan.planner import lower_bound
from mcuforge.plan.schedule import MAX_STATES, min_peak_order


def two_branches(big: int = 512) -> Graph:
    """x feeds two branches, each a big tensor reduced to a small one; the file's order runs both
    big ones before either reduction (A1, B1, A2, B2, concat)."""
    g = Graph()
    for name, n in (("x", 64), ("a1", big), ("b1", big), ("a2", 8), ("b2", 8), ("y", 16)):
        g.add_tensor(Tensor(name, (1, n), "int8"))
    for name, src in (("a1", "x"), ("b1", "x"), ("a2", "a1"), ("b2", "b1")):
        g.add_op(Op("CLAMP", name, [src], [name], {"min": 0.0, "max": 6.0}))
    g.add_op(Op("CONCATENATION", "y", ["a2", "b2"], ["y"], {"axis": 1}))
    g.inputs, g.outputs = ["x"], ["y"]
    return g


def _peak(g: Graph, order: list[int]) -> int:
    reordered = Graph()
    reordered.tensors = g.tensors
    reordered.ops = [g.ops[i] for i in order]
    reordered.inputs, reordered.outputs = g.inputs, g.outputs
    return lower_bound(buffers_for_graph(reordered), 16)


def test_two_branches_run_one_after_the_other() -> None:
    g = two_branches()
    found = min_peak_order(g, {}, 16)
    assert found is not None
    order, peak = found
    names = [g.ops[i].name for i in order]
    assert names.index("a2") < names.index("b1") or names.index("b2") < names.index("a1")
    assert peak == 64 + 512 + 16 == _peak(g, order)  # x, one big tensor, one small one
    assert _peak(g, list(range(len(g.ops)))) == 64 + 512 + 512


def test_too_many_orders_keep_the_graph_as_it_is() -> None:
    g = Graph()
    g.add_tensor(Tensor("x", (1, 4), "int8"))
    branches = 20  # 2^20 sets of ops run: more than MAX_STATES
    assert 2 ** branches > MAX_STATES
    for i in range(branches):
        g.add_tensor(Tensor(f"t{i}", (1, 4), "int8"))
        g.add_op(Op("CLAMP", f"t{i}", ["x"], [f"t{i}"], {"min": 0.0, "max": 6.0}))
    g.add_tensor(Tensor("y", (1, 4 * branches), "int8"))
    g.add_op(Op("CONCATENATION", "y", [f"t{i}" for i in range(branches)], ["y"], {"axis": 1}))
    g.inputs, g.outputs = ["x"], ["y"]
    assert min_peak_order(g, {}, 16) is None


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_random_graphs_peak_matches_the_planners_bound(data: st.DataObject) -> None:
    """On random DAGs of one-input and two-input ops, the order found is topological, its peak
    is the planner's lower bound for that order, and no worse than the file's order."""
    g = Graph()
    g.add_tensor(Tensor("x", (1, data.draw(st.integers(1, 64))), "int8"))
    names = ["x"]
    for i in range(data.draw(st.integers(1, 9))):
        srcs = data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=2, unique=True))
        n = data.draw(st.integers(1, 200))
        name = f"t{i}"
        g.add_tensor(Tensor(name, (1, n), "int8"))
        kind = "CLAMP" if len(srcs) == 1 else "CONCATENATION"
        if kind == "CONCATENATION":
            g.tensors[name] = Tensor(name, (1, sum(g.tensors[s].shape[1] for s in srcs)), "int8")
        g.add_op(Op(kind, name, srcs, [name], {"min": 0.0, "max": 6.0} if kind == "CLAMP" else {"axis": 1}))
        names.append(name)
    g.inputs, g.outputs = ["x"], [names[-1]]
    found = min_peak_order(g, {}, 16)
    assert found is not None
    order, peak = found
    position = {i: k for k, i in enumerate(order)}
    producer = {op.outputs[0]: i for i, op in enumerate(g.ops)}
    assert all(position[producer[t]] < position[i] for i, op in enumerate(g.ops) for t in op.inputs
               if t in producer)
    assert peak == _peak(g, order) <= _peak(g, list(range(len(g.ops))))


def _branchy_onnx(path: str) -> None:
    """x -> two Gemm branches (64 -> 512 -> 8) -> concat, nodes in the order A1, B1, A2, B2."""
    rng = np.random.default_rng(0)
    inits, nodes = [], []
    for br in "ab":
        for k, (fan_in, fan_out) in enumerate(((64, 512), (512, 8))):
            w = f"{br}{k}_w"
            inits.append(numpy_helper.from_array(rng.normal(0, 0.1, (fan_in, fan_out)).astype(np.float32), w))
    for k in range(2):
        for br in "ab":
            src = "x" if k == 0 else f"{br}0"
            nodes.append(helper.make_node("MatMul", [src, f"{br}{k}_w"], [f"{br}{k}"], name=f"{br}{k}"))
    nodes.append(helper.make_node("Concat", ["a1", "b1"], ["y"], axis=1, name="y"))
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16])
    graph = helper.make_graph(nodes, "branches", [x], [y], inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)


@pytest.mark.cbuild
def test_lowering_reorders_a_branchy_model_and_its_c_stays_bit_exact(tmp_path) -> None:
    from mcuforge.runner import run_model

    path = str(tmp_path / "branches.onnx")
    _branchy_onnx(path)
    compiled = compile_model(path, tmp_path / "c", CompileOptions(calib="random"))
    kinds = [op["name"] for op in compiled.report["ops"]]
    first_branch_done = kinds.index("a1") < kinds.index("b0") or kinds.index("b1") < kinds.index("a0")
    assert first_branch_done
    assert compiled.report["arena_bytes"] == compiled.report["best_order_peak_bytes"] <= 64 + 512 + 16
    x = np.random.default_rng(1).normal(0, 1, (4, 64)).astype(np.float32)
    result = run_model(path, x, CompileOptions(calib="random"))
    assert not result.mismatches
