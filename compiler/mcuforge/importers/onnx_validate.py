"""Checks of a loaded ONNX model before it is converted (issue 14): text that ONNX's own C++
passes would choke on (strings that are not UTF-8), so a damaged file is refused with one line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mcuforge.errors import MfError


def _strings(graph: Any) -> Iterator[tuple[str, Any]]:
    yield "graph name", graph.name
    for n in graph.node:
        yield "node name", n.name
        yield "op type", n.op_type
        yield "domain", n.domain
        yield from (("node input", s) for s in n.input)
        yield from (("node output", s) for s in n.output)
        for a in n.attribute:
            yield "attribute name", a.name
            yield "attribute value", a.s
            yield from (("attribute value", s) for s in a.strings)
            if a.HasField("g"):
                yield from _strings(a.g)
            for g in a.graphs:
                yield from _strings(g)
    for vi in [*graph.input, *graph.output, *graph.value_info]:
        yield "value name", vi.name
    for t in graph.initializer:
        yield "initializer name", t.name


def validate_onnx(model: Any, path: Path) -> None:
    what = "string"
    try:
        for what, s in _strings(model.graph):
            if isinstance(s, str):
                s.encode("utf-8")
            elif isinstance(s, bytes) and what != "attribute value":
                s.decode("utf-8")
    except (UnicodeDecodeError, UnicodeEncodeError) as e:
        raise MfError(f"{path}: not a valid ONNX model: a {what} is not UTF-8 text ({e.reason})") from None
