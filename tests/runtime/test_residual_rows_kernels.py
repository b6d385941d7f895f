"""mf_residual_rows_s8 (ic area, issue 13): a conv -> conv -> add residual block computed row by
row, bit-exact against the unfused graph's references (CONV_2D, CONV_2D, ADD), on random shapes
(H, W, C, the middle depth, K = 1 / 3 / 5 for each convolution and 2 / 4 with TF's uneven SAME
padding, activations, the add's operand order, batch), with its output in its own buffer and
written over its input (in place), in every host variant (portable, emulated DSP, emulated MVE;
under ASan/UBSan with MF_SANITIZE=1)."""

from __future__ import annotations

import numpy as np
import pytest
from mfnn import MF_ARG_ERROR, MF_OK, Kernels
from oneop import ACTIVATIONS, act_data, act_quant, bias, cases, out_quant_for, weights

from mcuforge.codegen.residual_rows import find_blocks, fuse, last_reads
from mcuforge.ir.graph import Graph, Op, Tensor
from mcuforge.kernel_params import kernel_call
from mcuforge.ops.registry import Ctx
from mcuforge.reference import run

GUARD = 32


def block_graph(rng: np.random.Generator, n: int, h: int, w: int, c: int, cm: int, ka: int, kb: int,
                shortcut_first: bool) -> tuple[Graph, np.ndarray]:
    """x -> CONV_2D (ka x ka, SAME, cm channels) -> CONV_2D (kb x kb, SAME, c channels) -> ADD with x."""
    g = Graph()
    xq = act_quant(rng)
    x = act_data(rng, (n, h, w, c))
    g.add_tensor(Tensor("x", x.shape, "int8", None, xq))
    g.inputs = ["x"]
    src, src_q, depth = "x", xq, c
    for tag, k, cout in (("a", ka, cm), ("b", kb, c)):
        wt, wq = weights(rng, (cout, k, k, depth), axis=0)
        bt, bq = bias(rng, float(src_q.scale[0]), wq.scale)
        oq = out_quant_for(rng, float(src_q.scale[0]), float(wq.scale.mean()), k * k * depth)
        g.add_tensor(Tensor(f"w{tag}", wt.shape, "int8", wt, wq))
        g.add_tensor(Tensor(f"b{tag}", bt.shape, "int32", bt, bq))
        g.add_tensor(Tensor(tag, (n, h, w, cout), "int8", None, oq))
        p = (k - 1) // 2
        g.add_op(Op("CONV_2D", tag, [src, f"w{tag}", f"b{tag}"], [tag],
                    {"strides": (1, 1), "dilations": (1, 1), "pads": (p, p, k - 1 - p, k - 1 - p),
                     "activation": str(rng.choice(ACTIVATIONS))}))
        src, src_q, depth = tag, oq, cout
    g.add_tensor(Tensor("y", (n, h, w, c), "int8", None, act_quant(rng)))
    g.add_op(Op("ADD", "y", ["x", "b"] if shortcut_first else ["b", "x"], ["y"],
                {"activation": str(rng.choice(ACTIVATIONS))}))
    g.outputs = ["y"]
    return g, x


def test_in_place_write_follows_the_last_read_of_each_row() -> None:
    """Output row r goes over x's row r only after every read of it (the add's, just before):
    no later step reads an x row at or above r when pad_a <= pad_b; with pad_a > pad_b, some
    later conv-A row still reads it (so find_blocks refuses those blocks)."""
    for h in range(1, 12):
        for ka in (1, 3, 5):
            for kb in (1, 3, 5):
                pa, pb = (ka - 1) // 2, (kb - 1) // 2
                rows = last_reads(h, ka, pa, kb, pb)
                assert [r for _, r in rows] == list(range(h))
                if pa <= pb:
                    assert all(first > r for first, r in rows), (h, ka, kb)
                elif h > pb + 1:  # a conv-A row computed after output row 0 still reads x row 0
                    assert not all(first > r for first, r in rows), (h, ka, kb)


@pytest.mark.parametrize("seed", cases(48))
def test_residual_rows_bit_exact(mf: Kernels, seed: int) -> None:
    rng = np.random.default_rng(91300 + seed)
    n, h, w = int(rng.integers(1, 3)), int(rng.integers(1, 11)), int(rng.integers(1, 10))
    c, cm = int(rng.choice((1, 3, 4, 8, 16))), int(rng.choice((1, 4, 5, 8, 16)))
    ka, kb = int(rng.choice((1, 3, 5, 2, 4))), int(rng.choice((1, 3, 5, 2, 4)))  # even: pads 0/1, 1/2
    g, x = block_graph(rng, n, h, w, c, cm, ka, kb, bool(seed % 2))
    expected = run(g, {"x": x})["y"]
    blocks = find_blocks(g)
    if (ka - 1) // 2 > (kb - 1) // 2:
        assert blocks == []  # conv A would still read rows the block has written over
        return
    assert blocks == [(0, 1, 2)]
    fused = fuse(g, blocks[0])
    assert [op.kind for op in fused.ops] == ["RESIDUAL_ROWS"]
    assert (run(fused, {"x": x})["y"] == expected).all()  # the composed reference
    call = kernel_call(Ctx.of(fused, fused.ops[0]))
    status, y = mf.invoke(call, [x], expected.shape)
    assert status == MF_OK
    assert (y == expected).all()
    arena = np.full(x.nbytes + 2 * GUARD, 0x5A, dtype=np.int8)  # in place: output = input
    view = arena[GUARD:GUARD + x.nbytes].reshape(x.shape)
    view[...] = x
    assert mf.invoke_outputs(call, [view], [view]) == MF_OK
    assert (view == expected).all()
    assert (arena[:GUARD] == 0x5A).all() and (arena[GUARD + x.nbytes:] == 0x5A).all()


def test_residual_rows_refuses_pad_a_above_pad_b(mf: Kernels) -> None:
    rng = np.random.default_rng(7)
    g, x = block_graph(rng, 1, 6, 5, 4, 4, 3, 3, True)
    call = kernel_call(Ctx.of(fuse(g, (0, 1, 2)), fuse(g, (0, 1, 2)).ops[0]))
    call.params["a_pad_h"] = 2
    call.params["b_pad_h"] = 1
    status, _ = mf.invoke(call, [x], x.shape)
    assert status == MF_ARG_ERROR
