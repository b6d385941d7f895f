"""The kernel specs (mcuforge.kernels) against the C header they describe, and the checks and
rendering derived from them.

mf_nn.h is parsed with pycparser (after the host C preprocessor strips comments and guards):
every spec'd function must be declared with the spec's name, argument names and C types in the
spec's order; every struct a spec uses must have the spec's fields and types in order; every
`*_get_buffer_size` must take what the spec's scratch rule passes; and every function the
header declares must have a spec.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from mcuforge import kernel_params, runtime_buffers
from mcuforge.kernel_params import KernelCall
from mcuforge.kernels import FAMILIES, SPECS, STRUCTS, check_call, render_call

pycparser = pytest.importorskip("pycparser")
from pycparser import c_ast  # noqa: E402

HEADER = Path(__file__).resolve().parents[1] / "runtime_c" / "include" / "mf_nn.h"
SRC = HEADER.parents[1] / "src"
STDINT = "typedef signed char int8_t; typedef unsigned char uint8_t; typedef short int16_t;\n" \
         "typedef unsigned short uint16_t;\n" \
         "typedef int int32_t; typedef unsigned int uint32_t;\n" \
         "typedef long long int64_t;\n"  # area reductions: mf_layer_norm_params.eps


def type_text(node: c_ast.Node) -> str:
    """A declaration's type as the specs write it: "const mf_dims *", "int32_t[4]"."""
    if isinstance(node, c_ast.TypeDecl):
        quals = "const " if "const" in node.quals else ""
        return quals + " ".join(node.type.names)
    if isinstance(node, c_ast.PtrDecl):
        inner = type_text(node.type)
        return inner + (" *const" if "const" in node.quals else " *")
    if isinstance(node, c_ast.ArrayDecl):
        return f"{type_text(node.type)}[{node.dim.value}]"
    raise TypeError(node)


def norm(t: str) -> str:
    return re.sub(r"\s*\*", " *", t).replace("* const", "*const").strip()


@dataclass
class Header:
    functions: dict[str, tuple[str, list[tuple[str, str]]]] = field(default_factory=dict)
    structs: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


@pytest.fixture(scope="module")
def header() -> Header:
    """mf_nn.h parsed by pycparser after gcc's preprocessor (so its users are in the cbuild tier)."""
    if shutil.which("gcc") is None:
        pytest.skip("gcc not found: cannot preprocess mf_nn.h")
    text = HEADER.read_text().replace("#include <stdint.h>", "")
    pre = subprocess.run(["gcc", "-E", "-P", "-x", "c", "-"], input=STDINT + text, capture_output=True,
                         text=True, check=True).stdout
    ast = pycparser.CParser().parse(pre, filename=str(HEADER))
    h = Header()
    for node in ast.ext:
        if isinstance(node, c_ast.Typedef) and isinstance(node.type.type, c_ast.Struct):
            h.structs[node.name] = [(d.name, norm(type_text(d.type))) for d in node.type.type.decls]
        elif isinstance(node, c_ast.Decl) and isinstance(node.type, c_ast.FuncDecl):
            fn = node.type
            args = [(p.name, norm(type_text(p.type))) for p in fn.args.params] if fn.args else []
            h.functions[node.name] = (norm(type_text(fn.type)), args)
    return h


@pytest.mark.cbuild
def test_header_parses_into_functions_and_structs(header: Header) -> None:
    assert "mf_convolve_s8" in header.functions and "mf_conv_params" in header.structs


@pytest.mark.cbuild
@pytest.mark.parametrize("name", sorted(SPECS))
def test_spec_matches_header(header: Header, name: str) -> None:
    spec = SPECS[name]
    assert name in header.functions, f"{name} is specified but mf_nn.h does not declare it"
    ret, args = header.functions[name]
    assert ret == "mf_status"
    assert args == [(a.name, norm(a.ctype)) for a in spec.args], f"{name}: spec and header differ"
    if spec.scratch is not None:
        ret, args = header.functions[f"{name}_get_buffer_size"]
        assert ret == "int32_t"
        assert args == [(n, norm(t)) for n, t, _ in spec.scratch.args]
    else:
        assert f"{name}_get_buffer_size" not in header.functions, f"{name}: spec lacks its scratch rule"


@pytest.mark.cbuild
@pytest.mark.parametrize("name", sorted(STRUCTS))
def test_struct_matches_header(header: Header, name: str) -> None:
    assert header.structs.get(name) == [(f.name, norm(f.ctype)) for f in STRUCTS[name].fields]


@pytest.mark.cbuild
def test_header_array_fields_are_checked(header: Header) -> None:
    """Fixed-size array fields are compared with their size, a macro (MF_COPY_MAX_RANK) expanded."""
    assert ("shape", "int32_t[8]") in header.structs["mf_copy_params"]
    arrays = {f.ctype for s in STRUCTS.values() for f in s.fields if f.ctype.endswith("]")}
    assert {"int32_t[4]", "int32_t[8]"} <= arrays


@pytest.mark.cbuild
def test_every_header_kernel_has_a_spec(header: Header) -> None:
    kernels = {n for n, (ret, _) in header.functions.items() if ret == "mf_status"}
    unspecified = kernels - SPECS.keys()
    assert not unspecified, f"kernels without a spec in mcuforge.kernels: {sorted(unspecified)}"


def test_every_spec_has_its_source_file() -> None:
    """One public function per file, named like the function, in its family's folder."""
    for fam in FAMILIES.values():
        for spec in fam.kernels:
            assert (SRC / fam.folder / f"{spec.name}.c").is_file(), f"{spec.name}.c not in src/{fam.folder}"


# -- checking ------------------------------------------------------------------------------------


def conv_call(**changes: object) -> KernelCall:
    params = {"input_offset": 1, "output_offset": -3, "stride": (1, 1), "padding": (0, 0),
              "dilation": (1, 1), "act_min": -128, "act_max": 127}
    params.update(changes)
    arrays = {"multiplier": np.ones(4, np.int32), "shift": np.zeros(4, np.int32)}
    dims = {"input": (1, 5, 5, 3), "filter": (4, 3, 3, 3), "output": (1, 3, 3, 4)}
    return KernelCall("mf_convolve_s8", {k: v for k, v in params.items() if v is not None}, arrays, dims)


def test_check_call_accepts_a_complete_binding() -> None:
    check_call(conv_call())


@pytest.mark.parametrize(("changes", "message"), [
    ({"act_max": None}, "missing parameter.*act_max"),
    ({"ch_mult": 1}, "ch_mult that no C argument takes"),
    ({"stride": (1, 1, 1)}, "3 values"),
    ({"input_offset": 1 << 31}, "outside int32_t"),
    ({"output_offset": 0.5}, "not an integer"),
])
def test_check_call_rejects_what_the_c_would_not_get(changes: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_call(conv_call(**changes))


def test_check_call_rejects_missing_arrays_and_dims() -> None:
    call = conv_call()
    del call.arrays["shift"], call.dims["filter"]
    with pytest.raises(ValueError, match=r"missing dims filter.*missing array.*shift"):
        check_call(call)


def test_pad_value_range_is_int8() -> None:
    call = KernelCall("mf_pad_s8", {"before": [0] * 4, "after": [0] * 4, "value": 200}, {},
                      {"input": (1, 1, 1, 1)})
    with pytest.raises(ValueError, match="outside int8_t"):
        check_call(call)


def test_scratch_and_in_place_come_from_the_specs() -> None:
    call = conv_call()
    # two int16 and two int8 patches of 27 values, each padded to 28 (m4first)
    assert runtime_buffers.scratch_bytes(call.kernel, call.dims, call.params) == 2 * 28 * 2 + 2 * 28
    assert {n for n, s in SPECS.items() if s.in_place} == kernel_params.IN_PLACE_KERNELS
    assert "mf_lut_s8" in kernel_params.IN_PLACE_KERNELS


# -- rendering -----------------------------------------------------------------------------------


@dataclass
class FakeStep:
    call: KernelCall
    inputs: list[str]
    output: str = "arena + 0"
    outputs: list[str] = field(default_factory=lambda: ["arena + 0"])
    consts: dict[str, str] = field(default_factory=dict)
    scratch_offset: int = 64
    scratch_size: int = 0


def test_render_call_lays_out_arguments_in_spec_order() -> None:
    step = FakeStep(conv_call(), ["arena + 16"], consts={"multiplier": "m", "shift": "s",
                                                         "filter": "w"}, scratch_size=162)
    text = render_call(step)
    assert text.splitlines()[-1] == ("MF_CHECK(mf_convolve_s8(&ctx, &params, &quant, &input_dims, "
                                     "arena + 16, &filter_dims, w, NULL, &output_dims, arena + 0));")
    assert "const mf_context ctx = { arena + 64, 162 };" in text
    assert ".stride = { .h = 1, .w = 1 }" in text


def copy_call(*copies: dict) -> KernelCall:
    return KernelCall("mf_strided_copy_s8", {"copies": list(copies)})


def copy_entry(**changes: object) -> dict:
    entry = {"input": 0, "output": 1, "in_offset": 8, "out_offset": 0, "rank": 2, "shape": [144, 8],
             "input_stride": [16, 1], "output_stride": [8, 1]}
    entry.update(changes)
    return {k: v for k, v in entry.items() if v is not None}


def test_each_spec_renders_one_block_per_call() -> None:
    """A step of several calls of one kernel (a SPLIT's copies): one braced block per call, the
    pointer of input/output `input`/`output` plus its offset, array fields giving `rank` values."""
    step = FakeStep(copy_call(copy_entry(output=0, in_offset=0), copy_entry(rank=1, shape=[5],
                              input_stride=[-1], output_stride=[1], out_offset=3)),
                    ["arena + 0"], outputs=["arena + 96", "arena + 200"])
    assert render_call(step).splitlines() == [
        "{",
        "    static const mf_copy_params copy = {",
        "        2, { 144, 8 }, { 16, 1 }, { 8, 1 }",
        "    };",
        "    MF_CHECK(mf_strided_copy_s8(&copy, arena + 0 + 0, arena + 96 + 0));",
        "}",
        "{",
        "    static const mf_copy_params copy = {",
        "        1, { 5 }, { -1 }, { 1 }",
        "    };",
        "    MF_CHECK(mf_strided_copy_s8(&copy, arena + 0 + 8, arena + 200 + 3));",
        "}",
    ]


@pytest.mark.parametrize(("call", "message"), [
    (copy_call(copy_entry(shape=[144])), "'shape': \\[144\\] has 1 values, 'rank' is 2"),
    (copy_call(copy_entry(rank=9, shape=[1] * 9, input_stride=[1] * 9, output_stride=[1] * 9)),
     "'rank' is 9; the C field 'shape' holds 1 to 8"),
    (copy_call(copy_entry(out_offset=None)), "missing parameter.*out_offset"),
    (copy_call(copy_entry(axis=1)), "axis that no C argument takes"),
    (copy_call(), "non-empty list"),
    (KernelCall("mf_strided_copy_s8", {"copies": [copy_entry()], "rank": 2}), "takes exactly 'copies'"),
])
def test_each_spec_checks_every_call(call: KernelCall, message: str) -> None:
    check_call(copy_call(copy_entry(), copy_entry(rank=1, shape=[3], input_stride=[0], output_stride=[1])))
    with pytest.raises(ValueError, match=message):
        check_call(call)


def test_a_binding_without_a_spec_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from mcuforge.ops.registry import Ctx

    class FakeOp:
        kind, name = "FAKE", "f"

    ctx = Ctx(FakeOp(), [], [])  # type: ignore[arg-type]
    monkeypatch.setitem(kernel_params.BINDINGS, "FAKE", lambda _ctx: KernelCall("mf_unknown_s8", {}))
    with pytest.raises(ValueError, match="FAKE 'f': kernel mf_unknown_s8 has no spec"):
        kernel_params.kernel_call(ctx)
