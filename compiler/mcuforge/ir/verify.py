"""The graph verifier: references, topological order, shapes and dtypes against the op rules.

Run after import and after every pass; a failure is a compiler bug, not a user error, so it
raises `GraphError` listing every problem found.

The IR sits below the ops: this module does not import the op registry. The rules of each op
kind (input count, attributes, shape rule, dtype rule: the `OpRules` protocol, which
`mcuforge.ops.registry.OpDef` satisfies) come either as the `rules` argument or from the table
the registry installs with `use_op_rules` when `mcuforge.ops` is imported (every stage that
builds or rewrites graphs imports it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from mcuforge.ir.graph import DTYPES, Graph, Op, Shape


class GraphError(Exception):
    pass


class OpRules(Protocol):
    """What the verifier needs to know about an op kind."""

    @property
    def num_inputs(self) -> tuple[int, int]: ...  # (min, max)
    @property
    def attrs(self) -> Sequence[str]: ...  # required attribute names
    @property
    def shape(self) -> Callable[[Op, list[Shape | None]], list[Shape]]: ...
    @property
    def same_dtype(self) -> bool: ...  # first input and all outputs share a dtype


_OP_RULES: Mapping[str, OpRules] = {}


def use_op_rules(rules: Mapping[str, OpRules]) -> None:
    """Install the op kinds' rules `verify` uses by default (the op registry, a live mapping)."""
    global _OP_RULES
    _OP_RULES = rules


def verify(graph: Graph, rules: Mapping[str, OpRules] | None = None) -> None:
    registry = _OP_RULES if rules is None else rules
    problems: list[str] = []
    defined = set(graph.inputs) | {n for n, t in graph.tensors.items() if t.is_const}
    for name in graph.inputs:
        if name not in graph.tensors:
            problems.append(f"graph input '{name}' has no tensor")
    for name, t in graph.tensors.items():
        if t.dtype not in DTYPES:
            problems.append(f"tensor '{name}' has unknown dtype {t.dtype}")
        if t.is_const and t.data is not None and tuple(t.data.shape) != tuple(t.shape):
            problems.append(f"constant '{name}' data shape {t.data.shape} != declared {t.shape}")
    for op in graph.ops:
        where = f"{op.kind} '{op.name}'"
        before = len(problems)
        opdef = registry.get(op.kind)
        if opdef is None:
            hint = "" if registry else " (no op rules installed: import mcuforge.ops)"
            problems.append(f"{where}: unknown op kind{hint}")
            continue
        lo, hi = opdef.num_inputs
        if not lo <= len(op.inputs) <= hi:
            problems.append(f"{where}: {len(op.inputs)} inputs, expected {lo}..{hi}")
        missing = [a for a in opdef.attrs if a not in op.attrs]
        if missing:
            problems.append(f"{where}: missing attributes {missing}")
        bad_refs = [n for n in op.inputs if n and n not in defined]
        if bad_refs:
            problems.append(f"{where}: inputs {bad_refs} are not defined before use")
            continue
        for out in op.outputs:
            if out in defined:
                problems.append(f"{where}: output '{out}' is defined twice")
            if out not in graph.tensors:
                problems.append(f"{where}: output '{out}' has no tensor")
        if len(problems) > before:
            continue
        ins = [graph.tensors[n].shape if n else None for n in op.inputs]
        try:
            shapes = opdef.shape(op, ins)
        except (ValueError, KeyError, IndexError, TypeError) as e:
            problems.append(f"{where}: shape rule failed: {e}")
            shapes = []
        for out, shape in zip(op.outputs, shapes):
            declared = graph.tensors[out].shape
            if tuple(declared) != tuple(shape):
                problems.append(f"{where}: output '{out}' declared {declared}, rule gives {shape}")
        first = graph.tensors[op.inputs[0]] if op.inputs and op.inputs[0] else None
        if opdef.same_dtype and first is not None:
            for out in op.outputs:
                if graph.tensors[out].dtype != first.dtype:
                    problems.append(
                        f"{where}: output '{out}' is {graph.tensors[out].dtype}, input is {first.dtype}"
                    )
        defined.update(op.outputs)
    for name in graph.outputs:
        if name not in defined:
            problems.append(f"graph output '{name}' is never produced")
    if problems:
        raise GraphError("graph verification failed:\n  " + "\n  ".join(problems))
