"""What each importer supports, read from the importers themselves (`mcuforge ops`).

Nothing here is a hand-kept list: the ops are the keys of the importer tables (ONNX `TABLE`,
TFLite `CONVERTERS`); for each, the IR ops it can become are the registry kinds its converter's
source names, the attributes it takes are its signature's keyword parameters, and its
constraints are the first docstring line and the refusals (`fail`/`error`/`MfError`/`ValueError`
messages) in its source and in the module functions it calls. Whether an IR op runs in C comes
from `kernel_params.BINDINGS` and the registry's `lut` trait, its meaning from the registry's `doc`.
"""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from types import ModuleType
from typing import Any

REFUSALS = {"fail", "error", "MfError", "ValueError"}
KIND = re.compile(r"""["']([A-Z][A-Z0-9_]+)["']""")


@dataclass
class OpSupport:
    op: str  # the importer's name: ONNX op type or TFLite builtin
    ir: list[str]  # IR op kinds it can become
    attributes: list[str] = field(default_factory=list)
    constraints: list[str] = field(default_factory=list)
    c_kernel: str = ""  # "kernel", "lookup table", "none (reference only)", "" when it emits nothing


@dataclass
class Importer:
    name: str
    summary: str
    ops: list[OpSupport]
    notes: list[str] = field(default_factory=list)
    via: str | None = None  # another importer whose op list applies


def _source_tree(fn: Callable[..., Any]) -> ast.AST | None:
    try:
        return ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return None


def _message(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = []
        for v in node.values:
            if isinstance(v, ast.Constant):
                parts.append(str(v.value))
            elif isinstance(v, ast.FormattedValue):
                parts.append(f"{{{v.value.id}}}" if isinstance(v.value, ast.Name) else "{...}")
        return "".join(parts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _message(node.left), _message(node.right)
        return None if left is None or right is None else left + right
    return None


def _called_name(call: ast.Call) -> str | None:
    f = call.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None


def _walk(fn: Callable[..., Any], module: ModuleType, depth: int, seen: set[int],
          refusals: list[str], kinds: list[str]) -> None:
    """Refusal messages and quoted op kinds in `fn` and the functions of `module` it calls."""
    if id(fn) in seen:
        return
    seen.add(id(fn))
    tree = _source_tree(fn)
    if tree is None:
        return
    kinds.extend(m for m in KIND.findall(ast.unparse(tree)) if m not in kinds)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _called_name(node)
        if name in REFUSALS and node.args:
            text = _message(node.args[0])
            if text and text not in refusals:
                refusals.append(text.strip())
        elif depth > 0 and name and isinstance(getattr(module, name, None), Callable):  # type: ignore[arg-type]
            target = getattr(module, name)
            if inspect.isfunction(target) and target.__module__ == module.__name__:
                _walk(target, module, depth - 1, seen, refusals, kinds)


def _needs_no_kernel(kind: str) -> bool:
    """Alias ops (RESHAPE) only rename bytes; float<->int8 conversions at the graph's edges are
    done by the generated header's helpers, and inside a QDQ graph they fold into the integer ops."""
    from mcuforge.ops.quantize import DEQUANTIZE
    from mcuforge.ops.registry import REGISTRY

    return kind in REGISTRY and (REGISTRY[kind].alias or kind == DEQUANTIZE.kind)


def _kernel(kinds: list[str]) -> str:
    from mcuforge.kernel_params import BINDINGS
    from mcuforge.ops.registry import lookup

    computing = [k for k in kinds if not _needs_no_kernel(k)]
    if not computing:
        return "no kernel needed" if kinds else ""
    if all(k in BINDINGS for k in computing):
        return "lookup table" if all(lookup(k).lut for k in computing) else "C kernel"
    missing = [k for k in computing if k not in BINDINGS]
    return f"reference only ({', '.join(missing)} has no C kernel)"


def _describe(name: str, fn: Callable[..., Any], module: ModuleType,
              own_kind: str | None = None) -> OpSupport:
    from mcuforge.ops.registry import REGISTRY

    refusals: list[str] = []
    kinds: list[str] = []
    _walk(fn, module, 2, set(), refusals, kinds)
    ir = [k for k in kinds if k in REGISTRY]
    if own_kind in REGISTRY and own_kind not in ir:
        ir.insert(0, own_kind)
    try:
        params = inspect.signature(fn).parameters.values()
        attributes = [p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY]
    except (TypeError, ValueError):
        attributes = []
    doc = (inspect.getdoc(fn) or "").strip().split("\n\n")[0].replace("\n", " ")
    constraints = ([doc] if doc else []) + refusals
    return OpSupport(name, ir, attributes, constraints, _kernel(ir))


def onnx_support() -> Importer:
    from mcuforge.importers import onnx_import, onnx_nn_ops, onnx_ops

    ops = []
    for name, fn in sorted(onnx_ops.TABLE.items()):
        module = onnx_nn_ops if fn.__module__ == onnx_nn_ops.__name__ else onnx_ops
        if fn.__module__ not in (onnx_ops.__name__, onnx_nn_ops.__name__):
            module = inspect.getmodule(fn) or onnx_ops
        ops.append(_describe(name, fn, module))
    notes = [
        f"opsets {onnx_import.MIN_OPSET} and later; a free batch dimension (dimension 0) is compiled as 1, "
        "other dynamic dimensions need --input-shape",
        f"folded at import: {', '.join(sorted(onnx_import.SHAPE_OF))} of a static-shaped tensor, and any "
        "ai.onnx node whose inputs are all constants (evaluated by onnx.reference.ReferenceEvaluator: "
        "Gather, Slice, Concat, Unsqueeze, Squeeze, ConstantOfShape, Range, Cast, Expand, Equal, Where, "
        "Sqrt, ... on shapes)",
        "QDQ models: QuantizeLinear/DequantizeLinear pairs fold into integer ops with the model's scales; "
        "ops the quantizer left in float are quantized from --calib where the model gave no scale",
    ]
    return Importer("onnx", "ONNX (.onnx)", ops, notes)


def tflite_support() -> Importer:
    import sys

    from mcuforge.importers import tflite_import  # noqa: F401  (adds the recurrent converters)
    from mcuforge.importers.tflite_ops import CONVERTERS

    ops = [_describe(name, fn, sys.modules[fn.__module__], name) for name, fn in sorted(CONVERTERS.items())]
    return Importer("tflite", "TFLite (.tflite), float or int8", ops)


def keras_support(tflite: Importer) -> Importer:
    return Importer("keras", "Keras (.keras, .h5, SavedModel): converted by TensorFlow's TFLiteConverter, "
                    "then imported as TFLite; a layer is supported when the TFLite ops it becomes are",
                    [], [f"the TFLite list applies ({len(tflite.ops)} ops)"], via=tflite.name)


def all_support() -> list[Importer]:
    tflite = tflite_support()
    return [onnx_support(), tflite, keras_support(tflite)]


def to_json(importers: list[Importer]) -> dict[str, Any]:
    return {i.name: {"summary": i.summary, "notes": i.notes, "via": i.via, "ops": [asdict(o) for o in i.ops]}
            for i in importers}


def lines(importers: list[Importer], ir_docs: Mapping[str, str] | None = None) -> list[str]:
    if ir_docs is None:
        from mcuforge.ops.registry import REGISTRY

        ir_docs = {k: d.doc for k, d in REGISTRY.items()}
    out: list[str] = []
    for imp in importers:
        out.append(f"{imp.summary}" + (f": {len(imp.ops)} ops" if imp.ops else ""))
        out.extend(f"  note: {n}" for n in imp.notes)
        for o in imp.ops:
            ir = ", ".join(f"{k} ({ir_docs[k]})" if ir_docs.get(k) else k for k in o.ir)
            out.append(f"  {o.op:<24} -> {ir or 'nothing (folded or passed through)'}"
                       + (f"; {o.c_kernel}" if o.c_kernel else ""))
            if o.attributes:
                out.append(f"      attributes: {', '.join(o.attributes)}")
            out.extend(f"      - {c}" for c in o.constraints)
        out.append("")
    return out
