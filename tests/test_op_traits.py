"""Op traits live in the registry entry: every registered op carries the traits the passes,
codegen, planner, compression and summary read, and no code outside the op entries, the
importers' mappings and the kernel bindings names an op kind by a string literal (a misspelt
literal would never match and silently skip the op)."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

import mcuforge.ops  # registers every op
from mcuforge.kernel_params import BINDINGS, lut
from mcuforge.ops.common import same_shape
from mcuforge.ops.registry import REGISTRY, OpDef, lookup, trait_problems

PACKAGE = Path(mcuforge.ops.__file__).parent.parent
# Where a kind may be spelled as a string: its op entry, the importers' mappings from source
# formats, the kernel specs (kernels/) and the kernel bindings.
KIND_STRINGS_ALLOWED = ("ops/", "importers/", "kernels/", "kernel_params.py",
                        "kernel_params_",  # split-out binding modules (kernel_params_reduce.py)
                        "fuzz/check.py")  # TFLite builtin names: which oracle runs a TFLite model


@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_registered_op_traits_are_consistent(kind: str) -> None:
    assert trait_problems(REGISTRY[kind]) == []


def _op(**kw: object) -> OpDef:
    return OpDef(kind="FAKE", shape=same_shape, ref_float=lambda ctx, xs: xs, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("kw", "problem"), [
    ({"attrs": ("activation",)}, "fused_activation"),
    ({"fused_activation": True}, "fused_activation"),
    ({"attrs": ("activation",), "fused_activation": True, "folds_batch_norm": True}, "folds_batch_norm"),
    ({"absorbs_pad": True, "weight_axes": {1: 0}}, "absorbs_pad"),
    ({"weight_formats": frozenset({"int4"})}, "weight_formats"),
    ({"weight_axes": {1: 0}, "weight_formats": frozenset({"int3"})}, "unknown weight formats"),
    ({"lut": True}, "lookup-table"),
    ({"num_inputs": (2, 2), "ref_int": lambda ctx, xs: xs}, "data operands"),
    ({"alias": True}, "alias"),
])
def test_a_missing_or_unbacked_trait_is_reported(kw: dict, problem: str) -> None:
    problems = trait_problems(_op(**kw))
    assert problems and problem in problems[0]


def test_trait_defaults_are_the_safe_answer() -> None:
    plain = _op()
    assert trait_problems(plain) == []
    traits = {"fused_activation", "absorbs_pad", "folds_batch_norm", "data_operands", "alias", "lut"}
    assert not any(getattr(plain, t) for t in traits)
    assert plain.identity is None and plain.weight_formats == frozenset()
    assert traits <= {f.name for f in dataclasses.fields(OpDef)}


def test_lookup_table_ops_bind_to_the_lut_kernel() -> None:
    luts = {k for k, d in REGISTRY.items() if d.lut}
    assert luts and all(BINDINGS[k] is lut for k in luts)
    assert not {k for k, b in BINDINGS.items() if b is lut} - luts


def test_a_misspelt_kind_does_not_match() -> None:
    with pytest.raises(KeyError, match="unknown op kind 'DEPTHWISECONV_2D'"):
        lookup("DEPTHWISECONV_2D")


def _kind_literals(path: Path, root: Path = PACKAGE) -> list[str]:
    """`file:line 'KIND'` for each string literal equal to a registered kind, and each string
    compared with an `.kind` attribute (a misspelling is reported too)."""
    tree = ast.parse(path.read_text())
    where = str(path.relative_to(root))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in REGISTRY:
            found.append(f"{where}:{node.lineno} '{node.value}'")
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(isinstance(s, ast.Attribute) and s.attr == "kind" for s in sides):
                for s in sides:
                    elts = s.elts if isinstance(s, ast.Tuple | ast.List | ast.Set) else [s]
                    found += [f"{where}:{e.lineno} {e.value!r} compared with .kind" for e in elts
                              if isinstance(e, ast.Constant) and isinstance(e.value, str)
                              and e.value not in REGISTRY]
    return found


def test_kinds_are_spelled_only_in_op_entries_importers_and_bindings() -> None:
    # Docstrings naming a kind are prose, not code; only literals used as values count.
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.startswith(KIND_STRINGS_ALLOWED):
            continue
        found += _kind_literals(path)
    assert not found, "op kinds spelled as strings (use OPDEF.kind or a trait):\n  " + "\n  ".join(found)


def test_the_checker_sees_literals(tmp_path: Path) -> None:
    bad = tmp_path / "probe.py"
    bad.write_text('def f(op):\n    return op.kind == "CONV_2D" or op.kind in ("DEPTHWISE_CONV2D",)\n')
    found = _kind_literals(bad, tmp_path)
    assert len(found) == 2 and any("DEPTHWISE_CONV2D" in f for f in found)
