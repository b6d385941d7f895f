"""Text from a model never reaches the generated C unsanitized: hostile tensor, node and model
names compile to safe C that builds with -Werror and still runs bit-exactly."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from mcuforge.codegen.sanitize import C_KEYWORDS, c_identifier, c_text
from mcuforge.compile import CompileOptions
from mcuforge.runner import run_model

HOSTILE = [
    "x */ int evil = 1; /*", 'quote"d', "back\\slash", "new\nline\r\n", "#include <stdlib.h>",
    "ünïcödé→名前", "int", "while", "??/", "a//b", "*/", "\x00nul", "",
]


def hostile_model() -> onnx.ModelProto:
    rng = np.random.default_rng(0)
    names = HOSTILE
    w1 = numpy_helper.from_array(rng.standard_normal((4, 2, 3, 3)).astype(np.float32), names[1])
    w2 = numpy_helper.from_array(rng.standard_normal((3, 4 * 4 * 4)).astype(np.float32), names[2])
    nodes = [
        helper.make_node("Conv", [names[0], names[1]], [names[3]], names[4], kernel_shape=[3, 3]),
        helper.make_node("Relu", [names[3]], [names[5]], names[6]),
        helper.make_node("Flatten", [names[5]], [names[7]], names[8]),
        helper.make_node("Gemm", [names[7], names[2]], [names[9]], names[10], transB=1),
    ]
    graph = helper.make_graph(
        nodes, "*/ graph \n name",
        [helper.make_tensor_value_info(names[0], TensorProto.FLOAT, [1, 2, 6, 6])],
        [helper.make_tensor_value_info(names[9], TensorProto.FLOAT, [1, 3])], [w1, w2],
        doc_string="*/ #error doc */",
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.doc_string = "*/\n#error from doc string\n/*"
    return model


@pytest.mark.cbuild
def test_hostile_names_compile_to_safe_c(tmp_path: Path) -> None:
    path = tmp_path / "evil *x model#include.onnx"
    onnx.save(hostile_model(), path)
    x = np.random.default_rng(1).standard_normal((20, 2, 6, 6)).astype(np.float32)
    result = run_model(path, x, CompileOptions(calib=x, name="int"), out_dir=tmp_path / "c", sanitize=True)
    assert result.mismatches == {}
    assert result.compiled.name == "m_int"
    for f in (tmp_path / "c").glob("*.[ch]"):
        assert f.read_text().isascii(), f
        # What the compiler sees once comments are gone: no model text may survive there.
        code = subprocess.run(["gcc", "-fpreprocessed", "-dD", "-E", "-P", str(f)], check=True,
                              capture_output=True, text=True).stdout
        for bad in ("evil", "#error", "stdlib", "slash", "quote", "line", "??", "//", "graph"):
            assert bad not in code, (f.name, bad)


@pytest.mark.parametrize("name", [*HOSTILE, "0abc", "__reserved", "_Upper", "ok_name"])
def test_c_identifier_is_valid(name: str) -> None:
    ident = c_identifier(name)
    assert ident.isidentifier() and ident.isascii()
    assert ident not in C_KEYWORDS
    assert not ident.startswith("__") and not (ident.startswith("_") and ident[1:2].isupper())


@pytest.mark.parametrize("text", HOSTILE)
def test_c_text_cannot_break_out_of_comments_or_strings(text: str) -> None:
    safe = c_text(text)
    for bad in ("*/", "/*", "//", '"', "\\", "\n", "\r", "??", "\x00"):
        assert bad not in safe
    assert safe.isascii()
