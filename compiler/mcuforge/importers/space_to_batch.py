"""SPACE_TO_BATCH_ND -> conv -> BATCH_TO_SPACE_ND into one dilated convolution (tflite-import area).

TensorFlow writes a dilated convolution of a model with a free batch as
`SPACE_TO_BATCH_ND(block B, pads P) -> [RESHAPE] -> CONV_2D/DEPTHWISE_CONV_2D (VALID, stride 1)
-> [RESHAPE] -> BATCH_TO_SPACE_ND(block B, crops K)` (the reshapes are the EXPAND_DIMS/SQUEEZE
of a Conv1D). The valid convolution of every phase of the padded input, put back together, is
the convolution with dilation B of the padded input, and cropping its output is padding less:
the chain is one convolution with dilation B and pads P - K, when P >= K. The padded cells hold
the zero point (real 0) in both forms, as in TFLite's reference kernels.

What does not match the pattern is lowered to PAD / RESHAPE / TRANSPOSE / STRIDED_SLICE, which
have C kernels.
"""

from __future__ import annotations

import math

from mcuforge.ir.graph import Graph, Op, Tensor

CONVS = ("CONV_2D", "DEPTHWISE_CONV_2D")


def rewrite_space_to_batch(graph: Graph) -> Graph:
    for op in [op for op in graph.ops if op.kind == "SPACE_TO_BATCH_ND"]:
        if op in graph.ops:
            _fuse(graph, op)
    for op in [op for op in graph.ops if op.kind in ("SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND")]:
        _lower(graph, op)
    graph.prune_unused_tensors()
    return graph


def sole_consumer(graph: Graph, tensor: str) -> Op | None:
    """The one op reading `tensor`, if exactly one does and the tensor is not a graph output."""
    if tensor in graph.outputs:
        return None
    users = [op for op in graph.ops if tensor in op.inputs]
    return users[0] if len(users) == 1 else None


def _chain(graph: Graph, s2b: Op) -> list[Op] | None:
    """[s2b, reshape?, conv, reshape?, b2s] when the pattern holds, each op the sole reader."""
    chain = [s2b]
    op = sole_consumer(graph, s2b.outputs[0])
    if op is not None and op.kind == "RESHAPE":
        chain.append(op)
        op = sole_consumer(graph, op.outputs[0])
    if op is None or op.kind not in CONVS or op.inputs[0] != chain[-1].outputs[0]:
        return None
    chain.append(op)
    op = sole_consumer(graph, op.outputs[0])
    if op is not None and op.kind == "RESHAPE":
        chain.append(op)
        op = sole_consumer(graph, op.outputs[0])
    if op is None or op.kind != "BATCH_TO_SPACE_ND":
        return None
    chain.append(op)
    return chain


def _fuse(graph: Graph, s2b: Op) -> None:
    chain = _chain(graph, s2b)
    if chain is None:
        return
    conv, b2s = next(op for op in chain if op.kind in CONVS), chain[-1]
    a = conv.attrs
    block, pads, crops = list(s2b.attrs["block"]), list(s2b.attrs["pads"]), list(b2s.attrs["crops"])
    cropped_too_much = any(p[0] < c[0] or p[1] < c[1] for p, c in zip(pads, crops, strict=True))
    if (tuple(b2s.attrs["block"]) != tuple(block) or any(a["pads"]) or tuple(a["strides"]) != (1, 1)
            or tuple(a["dilations"]) != (1, 1) or cropped_too_much):
        return
    x = graph.tensors[s2b.inputs[0]]
    y = graph.tensors[b2s.outputs[0]]
    conv_in = graph.tensors[conv.inputs[0]].shape  # 4-D, batch prod(block) * N
    if len(block) == 2 and len(x.shape) == 4:
        axes = [1, 2]
        x4 = x.shape
    elif len(block) == 1 and len(x.shape) == 3 and len(conv_in) == 4 and 1 in conv_in[1:3]:
        axes = [2] if conv_in[1] == 1 else [1]  # which of H, W the sequence runs along
        n, length, c = x.shape
        x4 = (n, 1, length, c) if axes == [2] else (n, length, 1, c)
    else:
        return
    dilations, new_pads = [1, 1], [0, 0, 0, 0]  # (top, left, bottom, right)
    for k, axis in enumerate(axes):
        dilations[axis - 1] = block[k]
        new_pads[axis - 1] = pads[k][0] - crops[k][0]
        new_pads[axis + 1] = pads[k][1] - crops[k][1]
    ops: list[Op] = []
    src = x.name
    if x4 != x.shape:
        src = graph.unique_name(f"{x.name}/expanded")
        graph.add_tensor(Tensor(src, x4, x.dtype, quant=x.quant))
        ops.append(Op("RESHAPE", src, [x.name], [src], {"shape": x4}))
    out = y.name
    conv_out = graph.tensors[conv.outputs[0]].shape
    out4 = (y.shape[0], *([1, y.shape[1]] if axes == [2] else [y.shape[1], 1]), conv_out[-1]) \
        if len(y.shape) == 3 else y.shape
    if out4 != y.shape:
        out = graph.add_tensor(Tensor(graph.unique_name(f"{y.name}/4d"), out4, y.dtype, quant=y.quant)).name
    attrs = {**a, "dilations": tuple(dilations), "pads": tuple(new_pads)}
    ops.append(Op(conv.kind, conv.name, [src, *conv.inputs[1:]], [out], attrs))
    if out != y.name:
        ops.append(Op("RESHAPE", y.name, [out], [y.name], {"shape": y.shape}))
    at = graph.ops.index(b2s)
    graph.ops[at:at + 1] = ops
    for op in chain[:-1]:
        graph.ops.remove(op)


def _lower(graph: Graph, op: Op) -> None:
    """A standalone SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND as PAD, RESHAPE, TRANSPOSE, STRIDED_SLICE."""
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    block = list(op.attrs["block"])
    m = len(block)
    rest = list(x.shape[1 + m:])
    new: list[Op] = []

    def temp(tag: str) -> str:
        name = graph.unique_name(f"{op.name}/{tag}")
        return graph.add_tensor(Tensor(name, (), x.dtype, quant=x.quant)).name

    def add(kind: str, src: str, dst: str, attrs: dict, shape: tuple[int, ...]) -> None:
        new.append(Op(kind, dst if dst != y.name else op.name, [src], [dst], attrs))
        graph.tensors[dst].shape = shape

    if op.kind == "SPACE_TO_BATCH_ND":
        pads = [tuple(p) for p in op.attrs["pads"]]
        src = x.name
        padded = list(x.shape)
        if any(lo or hi for lo, hi in pads):
            src = temp("padded")
            padded = [x.shape[0]] + [d + lo + hi for d, (lo, hi) in zip(x.shape[1:1 + m], pads)] + rest
            add("PAD", x.name, src, {"pads": ((0, 0), *pads, *((0, 0),) * len(rest)), "value": 0.0},
                tuple(padded))
        n = padded[0]
        split = [n]
        for d, b in zip(padded[1:1 + m], block, strict=True):
            split += [d // b, b]
        perm = [2 + 2 * k for k in range(m)] + [0] + [1 + 2 * k for k in range(m)]
        perm += list(range(1 + 2 * m, 1 + 2 * m + len(rest)))
        a, b_ = temp("blocks"), temp("moved")
        add("RESHAPE", src, a, {"shape": tuple(split + rest)}, tuple(split + rest))
        moved = tuple((split + rest)[p] for p in perm)
        add("TRANSPOSE", a, b_, {"perm": tuple(perm)}, moved)
        add("RESHAPE", b_, y.name, {"shape": y.shape}, y.shape)
    else:
        crops = [tuple(c) for c in op.attrs["crops"]]
        n = x.shape[0] // math.prod(block)
        split = [*block, n, *list(x.shape[1:])]
        perm = [m]
        for k in range(m):
            perm += [m + 1 + k, k]
        perm += list(range(2 * m + 1, 2 * m + 1 + len(rest)))
        full = [n] + [d * b for d, b in zip(x.shape[1:1 + m], block, strict=True)] + rest
        a, b_ = temp("blocks"), temp("moved")
        add("RESHAPE", x.name, a, {"shape": tuple(split)}, tuple(split))
        add("TRANSPOSE", a, b_, {"perm": tuple(perm)}, tuple(split[p] for p in perm))
        if any(lo or hi for lo, hi in crops):
            c = temp("uncropped")
            add("RESHAPE", b_, c, {"shape": tuple(full)}, tuple(full))
            begin = [0] + [lo for lo, _ in crops] + [0] * len(rest)
            add("STRIDED_SLICE", c, y.name, {"begin": tuple(begin), "size": y.shape,
                                              "step": (1,) * len(full), "shape": y.shape}, y.shape)
        else:
            add("RESHAPE", b_, y.name, {"shape": y.shape}, y.shape)
    at = graph.ops.index(op)
    graph.ops[at:at + 1] = new
