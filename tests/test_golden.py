"""Golden generated C: a change to lowering, planning or templates that alters the output of a
real model shows up as a diff a person has to accept.

Regenerate after an intended change: MCUFORGE_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_golden.py
The model is an int8 TFLite file, so no float arithmetic (and no BLAS) sits between the model and
the C; the weights file is pinned by its SHA-256 to keep the repository small.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from model_paths import mlperf_model

from mcuforge.compile import CompileOptions, compile_model

GOLDEN = Path(__file__).resolve().parent / "golden" / "kws_dscnn"
TEXT_FILES = ["kws.h", "kws.c", "kws_weights.h", "main.c", "CMakeLists.txt"]
HASHED = "kws_weights.c"


def test_kws_generated_c_matches_golden(tmp_path: Path) -> None:
    compile_model(mlperf_model("kws_dscnn_int8.tflite"), tmp_path, CompileOptions(name="kws"))
    digest = hashlib.sha256((tmp_path / HASHED).read_bytes()).hexdigest()
    if os.environ.get("MCUFORGE_UPDATE_GOLDEN"):
        GOLDEN.mkdir(parents=True, exist_ok=True)
        for name in TEXT_FILES:
            (GOLDEN / name).write_text((tmp_path / name).read_text())
        (GOLDEN / f"{HASHED}.sha256").write_text(digest + "\n")
        pytest.skip("golden files regenerated")
    for name in TEXT_FILES:
        assert (tmp_path / name).read_text() == (GOLDEN / name).read_text(), (
            f"{name} changed; review the diff and regenerate with MCUFORGE_UPDATE_GOLDEN=1")
    assert digest == (GOLDEN / f"{HASHED}.sha256").read_text().strip()
