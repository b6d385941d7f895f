"""Buffers and their lifetimes over an op schedule.

A buffer is one region of the arena: a tensor (or a group of tensors that alias, such as a
RESHAPE's input and output), or an op's scratch space. Its lifetime is the closed interval of op
indices [first, last] during which it must hold its bytes: from the op that writes it to the last
op that reads it. Graph inputs start at step 0 and graph outputs live to the last step, so that the
caller can write the input before invoking and read the output after.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from mcuforge.ir.graph import Graph
from mcuforge.ops.registry import lookup


@dataclass
class Buffer:
    name: str
    size: int  # bytes, before alignment
    first: int  # first op index that needs the bytes
    last: int  # last op index that needs the bytes
    tensors: list[str] = field(default_factory=list)  # tensors stored here (aliases share)

    def overlaps_in_time(self, other: Buffer) -> bool:
        return self.first <= other.last and other.first <= self.last


def alias_root(graph: Graph, in_place: Collection[int] = ()) -> dict[str, str]:
    """Map each activation tensor to the tensor whose buffer holds it: the output of an alias op
    (`OpDef.alias`: RESHAPE) shares its input's buffer; so does the output of an op in
    `in_place` (op indices whose kernel may overwrite an input) when an input of the same size
    dies at that op and belongs to neither the caller's inputs nor the graph's outputs."""
    root: dict[str, str] = {}
    group: dict[str, list[str]] = {}  # root -> every tensor stored there
    last_read = {n: i for i, op in enumerate(graph.ops) for n in op.inputs if n}
    protected = set(graph.inputs) | set(graph.outputs)

    def join(out: str, src: str) -> None:
        r = root.get(src, src)
        root[out] = r
        group.setdefault(r, [r]).append(out)

    for i, op in enumerate(graph.ops):
        out = op.outputs[0]
        sources = [n for n in op.inputs if n and not graph.tensors[n].is_const]
        if lookup(op.kind).alias and sources and sources[0] not in graph.outputs:
            join(out, sources[0])
        elif i in in_place:
            for src in sources:
                members = group.get(root.get(src, src), [src])
                if (graph.tensors[src].nbytes == graph.tensors[out].nbytes
                        and graph.tensors[src].shape == graph.tensors[out].shape
                        and not protected & set(members)
                        and all(last_read.get(t, -1) <= i for t in members)):
                    join(out, src)
                    break
    return root


def buffers_for_graph(graph: Graph, scratch: Mapping[int, int] | None = None,
                      in_place: Collection[int] = ()) -> list[Buffer]:
    """Buffers for every non-constant tensor of `graph` and each op's scratch bytes
    (`scratch[op_index]`), in a deterministic order."""
    root = alias_root(graph, in_place)
    last_step = max(len(graph.ops) - 1, 0)
    by_root: dict[str, Buffer] = {}

    def touch(name: str, step: int) -> None:
        t = graph.tensors[name]
        if t.is_const:
            return
        key = root.get(name, name)
        buf = by_root.get(key)
        if buf is None:
            buf = by_root[key] = Buffer(key, graph.tensors[key].nbytes, step, step, [])
        buf.first, buf.last = min(buf.first, step), max(buf.last, step)
        if name not in buf.tensors:
            buf.tensors.append(name)

    for name in graph.inputs:
        touch(name, 0)
    for i, op in enumerate(graph.ops):
        for name in op.inputs:
            if name:
                touch(name, i)
        for name in op.outputs:
            touch(name, i)
    for name in graph.outputs:
        touch(name, last_step)
    buffers = list(by_root.values())
    for i, size in sorted((scratch or {}).items()):
        if size > 0:
            buffers.append(Buffer(f"scratch:{graph.ops[i].name}", size, i, i, []))
    return buffers
