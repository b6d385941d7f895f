"""The kernel specs (mcuforge.kernels) against the C header they describe, and the checks and
rendering derived from them.

mf_nn.h is parsed with pycparser (after the host C preprocessor strips comments and guards):
every spec'd function must be declared with the spec's name, argument names and C types in the
spec's order; every struct a spec uses must have the spec's fields and types in order; every
`*_get_buffer_size` must take what the spec's scratch rule passes; and every function the
header declares must have a spec (or be on the temporary legacy list).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import numpy as np
import pytest

from mcuforge import kernel_params, runtime_buffers
from mcuforge.codegen.render import environment
from mcuforge.kernel_params import KernelCall
from mcuforge.kernels import FAMILIES, SPECS, STRUCTS, check_call, render_call
from mcuforge.resources import resource_dir

pycparser = pytest.importorskip("pycparser")
from pycparser import c_ast  # noqa: E402

HEADER = Path(__file__).resolve().parents[1] / "runtime_c" / "include" / "mf_nn.h"
SRC = HEADER.parents[1] / "src"
STDINT = "typedef signed char int8_t; typedef unsigned char uint8_t; typedef short int16_t;\n" \
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
def test_every_header_kernel_has_a_spec(header: Header) -> None:
    kernels = {n for n, (ret, _) in header.functions.items() if ret == "mf_status"}
    unspecified = kernels - SPECS.keys() - kernel_params.LEGACY_KERNELS
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
    assert runtime_buffers.scratch_bytes(call.kernel, call.dims, call.params) == 2 * 27 * 2 + 2 * 27
    assert {n for n, s in SPECS.items() if s.in_place} == kernel_params.IN_PLACE_KERNELS
    assert "mf_lut_s8" in kernel_params.IN_PLACE_KERNELS


# -- rendering and the temporary legacy path -----------------------------------------------------


@dataclass
class FakeStep:
    call: KernelCall
    inputs: list[str]
    output: str = "arena + 0"
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


def test_legacy_kernel_renders_through_its_macro(monkeypatch: pytest.MonkeyPatch) -> None:
    """A kernel bound the old way (no spec) still compiles, rendered by its macro, as long as it
    is on LEGACY_KERNELS; off the list it is an error naming it."""
    call = KernelCall("mf_legacy_s8", {"size": 7})
    macro = ("{%- macro mf_legacy_s8(s) -%}\n    MF_CHECK(mf_legacy_s8({{ s.call.params.size }}));\n"
             "{%- endmacro -%}\n")
    base = environment()
    kernels_c = base.loader.get_source(base, "kernels.c.j2")[0] + macro  # type: ignore[union-attr]
    loader = jinja2.ChoiceLoader([jinja2.DictLoader({"kernels.c.j2": kernels_c}), base.loader])
    env = base.overlay(loader=loader)
    block = env.from_string('{%- import "kernels.c.j2" as k -%}{% if s.call.kernel in kernel_specs %}'
                            '{{ render_call(s) }}{% else %}{{ k[s.call.kernel](s) }}{% endif %}')
    assert block.render(s=FakeStep(call, ["x"])) == "MF_CHECK(mf_legacy_s8(7));"
    model = (resource_dir("templates") / "model.c.j2").read_text()
    assert "k[s.call.kernel](s)" in model and "render_call(s)" in model

    from mcuforge.ops.registry import Ctx

    class FakeOp:
        kind, name = "FAKE", "f"

    ctx = Ctx(FakeOp(), [], [])  # type: ignore[arg-type]
    monkeypatch.setitem(kernel_params.BINDINGS, "FAKE", lambda _ctx: call)
    with pytest.raises(ValueError, match="mf_legacy_s8 has no spec"):
        kernel_params.kernel_call(ctx)
    monkeypatch.setattr(kernel_params, "LEGACY_KERNELS", frozenset({"mf_legacy_s8"}))
    assert kernel_params.kernel_call(ctx) is call
