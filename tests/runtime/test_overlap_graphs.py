"""Random chains and small graphs (1x1, depthwise with strides, padding and dilations, residual ADD,
pooling, requantization) lowered with overlapping buffers (issue 13) and executed kernel by kernel
in ONE arena at the planned offsets, in every host variant (portable, emulated DSP, emulated MVE;
ASan/UBSan in the sanitized suite): the output must equal the integer reference bit for bit, the
plan must have passed verify_plan, and its arena must not exceed the plan without overlaps.
"""

from __future__ import annotations

import numpy as np
import pytest
from mfnn import MF_OK, Kernels
from oneop import act_quant, bias, cases, weights

from mcuforge.codegen import lower
from mcuforge.ir.graph import Graph, Op, QuantParams, Tensor
from mcuforge.ops.registry import infer_shapes, lookup
from mcuforge.reference import run


class Builder:
    def __init__(self, rng: np.random.Generator, shape: tuple[int, ...]) -> None:
        self.rng, self.g = rng, Graph()
        q = act_quant(rng)
        self.g.add_tensor(Tensor("x", shape, "int8", None, q))
        self.g.inputs.append("x")
        self.n = 0

    def op(self, kind: str, inputs: list[str], attrs: dict, out_quant: QuantParams | None = None) -> str:
        self.n += 1
        out = f"t{self.n}"
        op = Op(kind, f"op{self.n}", inputs, [out], attrs)
        shape = infer_shapes(op, [self.g.tensors[n].shape for n in inputs])[0]
        q = out_quant or QuantParams(np.float32(self.rng.uniform(0.02, 0.2)),
                                     int(self.rng.integers(-100, 100)))
        self.g.add_tensor(Tensor(out, shape, "int8", None, q))
        self.g.add_op(op)
        return out

    def conv(self, x: str, cout: int, k: tuple[int, int] = (1, 1), strides: tuple[int, int] = (1, 1),
             pads: tuple[int, ...] = (0, 0, 0, 0), dil: tuple[int, int] = (1, 1)) -> str:
        cin = self.g.tensors[x].shape[-1]
        xq = self.g.tensors[x].quant
        wt, wq = weights(self.rng, (cout, *k, cin), axis=0)
        w = self.g.add_const("w", wt, wq)
        b = self.g.add_const("b", *bias(self.rng, float(xq.scale[0]), wq.scale))
        return self.op("CONV_2D", [x, w, b], {"strides": strides, "dilations": dil, "pads": pads,
                                               "activation": "RELU"})

    def depthwise(self, x: str, k: tuple[int, int], strides: tuple[int, int], pads: tuple[int, ...],
                  dil: tuple[int, int]) -> str:
        c = self.g.tensors[x].shape[-1]
        xq = self.g.tensors[x].quant
        wt, wq = weights(self.rng, (1, *k, c), axis=3)
        w = self.g.add_const("w", wt, wq)
        b = self.g.add_const("b", *bias(self.rng, float(xq.scale[0]), wq.scale))
        return self.op("DEPTHWISE_CONV_2D", [x, w, b], {"strides": strides, "dilations": dil, "pads": pads,
                                                         "activation": "RELU6", "depth_multiplier": 1})


def random_graph(seed: int) -> Graph:
    rng = np.random.default_rng(18000 + seed)
    h, w, c = int(rng.integers(6, 20)), int(rng.integers(4, 16)), int(rng.choice((4, 8, 16)))
    b = Builder(rng, (1, h, w, 3))
    t = b.conv("x", c, (3, 3), (1, 1), (1, 1, 1, 1))
    for _ in range(int(rng.integers(2, 6))):
        step = int(rng.integers(0, 6))
        if step == 0:  # depthwise, any stride / padding / dilation
            dil = (int(rng.integers(1, 3)), 1) if rng.random() < 0.3 else (1, 1)
            s = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
            if b.g.tensors[t].shape[1] < 6:
                s = (1, 1)
            t = b.depthwise(t, (3, 3), s, (dil[0], 1, dil[0], 1), dil)
        elif step == 1:  # 1x1, wider or narrower
            t = b.conv(t, int(rng.choice((4, 8, 16, 24))))
        elif step == 2:  # residual block: 1x1 -> depthwise -> ADD over the shortcut
            cc = b.g.tensors[t].shape[-1]
            u = b.conv(t, cc)
            u = b.depthwise(u, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1))
            t = b.op("ADD", [t, u], {"activation": "NONE"})
        elif step == 3 and b.g.tensors[t].shape[1] >= 4:  # pooling
            kind = str(rng.choice(["AVERAGE_POOL_2D", "MAX_POOL_2D"]))
            t = b.op(kind, [t], {"kernel": (2, 2), "strides": (2, 2), "pads": (0, 0, 0, 0),
                                 "activation": "NONE"}, b.g.tensors[t].quant)
        elif step == 4:  # requantization (int8 -> int8)
            t = b.op("QUANTIZE", [t], {})
        else:  # strided 3x3 convolution
            t = b.conv(t, int(rng.choice((8, 16))), (3, 3), (1, 1), (1, 1, 1, 1))
    b.g.outputs.append(t)
    return b.g


def run_in_arena(mf: Kernels, graph: Graph, feeds: dict[str, np.ndarray], overlap: bool
                 ) -> tuple[dict[str, np.ndarray], int, int]:
    """Every op's kernel on views of one arena at the planned offsets: the graph outputs, the
    arena bytes and the number of overlaps taken."""
    program = lower(graph, "t", 16, overlap=overlap)
    offsets = program.tensor_offsets
    arena = np.full(program.plan.arena_bytes + 64, 0x5A, dtype=np.int8)

    def view(name: str) -> np.ndarray:
        t = graph.tensors[name]
        return arena[offsets[name]: offsets[name] + t.nbytes].view(t.dtype).reshape(t.shape)

    for name, x in feeds.items():
        view(name)[...] = x
    for op, step in zip(graph.ops, program.steps):
        if step.call is None:  # an alias (or a copy)
            if offsets[op.outputs[0]] != offsets[op.inputs[0]]:
                view(op.outputs[0])[...] = view(op.inputs[0]).reshape(graph.tensors[op.outputs[0]].shape)
            continue
        xs = [None if not n else graph.tensors[n].data if graph.tensors[n].is_const else view(n)
              for n in op.inputs]
        assert mf.invoke_outputs(step.call, xs, [view(op.outputs[0])]) == MF_OK, op.name
    assert (arena[program.plan.arena_bytes:] == 0x5A).all()
    return ({n: view(n).copy() for n in graph.outputs}, program.plan.arena_bytes,
            len(program.plan.overlaps))


@pytest.mark.parametrize("seed", cases(30))
def test_random_graph_overlapped_in_one_arena(mf: Kernels, seed: int) -> None:
    graph = random_graph(seed)
    rng = np.random.default_rng(seed)
    feeds = {"x": rng.integers(-128, 128, size=graph.tensors["x"].shape, dtype=np.int8)}
    expected = run(graph, feeds)
    got, arena, _ = run_in_arena(mf, graph, feeds, overlap=True)
    plain, arena_off, taken = run_in_arena(mf, random_graph(seed), feeds, overlap=False)
    assert taken == 0
    assert arena <= arena_off
    for name, y in got.items():
        np.testing.assert_array_equal(y, expected[name])
        np.testing.assert_array_equal(plain[name], expected[name])


def test_random_graphs_take_overlaps() -> None:
    """The check above is not vacuous: most random graphs get an overlap and a smaller arena."""
    smaller = 0
    for seed in range(10):
        g = random_graph(seed)
        plan = lower(g, "t", 16).plan
        assert not any(lookup(op.kind).alias for op in g.ops)
        assert plan.arena_no_overlap_bytes is not None
        smaller += bool(plan.overlaps) and plan.arena_bytes < plan.arena_no_overlap_bytes
    assert smaller >= 5
