"""What mcuforge's benchmark compares with: TensorFlow Lite Micro + CMSIS-NN measured under QEMU
the same way (`../shared/models/tflm_reference.json`), and STMicroelectronics' X-CUBE-AI silicon
cycle counts from the MLPerf Tiny results.

tflm_reference.json (read, never copied into the repository): for each model, keyed by its path
below `../shared/models/` or `../shared/cases/`, and each board, `instr` (guest instructions inside
`Invoke()`, QEMU `-icount shift=0`) and `arena` (bytes, `arena_used_bytes()`), or a `note` where
TFLite Micro could not run the model. Its `method` field says how it was measured.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SHARED = Path(__file__).resolve().parents[3].parent / "shared"
REFERENCE = SHARED / "models" / "tflm_reference.json"

# Issue 12's targets: mcuforge instructions / TFLite Micro + CMSIS-NN instructions per model.
TARGET_RATIO = {"mps2-an386": 0.50, "mps3-an547": 0.60, "mps2-an385": 0.70}

# X-CUBE-AI 9 on an STM32L4R5 (Cortex-M4, 120 MHz), MLPerf Tiny v1.2 closed division:
# 43.15 / 88.85 / 164.96 ms for KWS / VWW / IC, i.e. cycles = ms x 120,000; the anomaly
# detection figure (about 0.49 M cycles) is Plumerai's on the same board. On a Cortex-M4 a
# cycle is never less than an instruction, so these cycles bound the instructions from above.
XCUBE_M4_CYCLES = {"mlperf_tiny/kws_dscnn_int8.tflite": 5.178e6, "mlperf_tiny/vww_mbv1_int8.tflite": 10.662e6,
                   "mlperf_tiny/ic_resnet8_int8.tflite": 19.795e6, "mlperf_tiny/ad_fcae_int8.tflite": 0.49e6}


@dataclass(frozen=True)
class Anchor:
    """TFLite Micro + CMSIS-NN on one board: instructions per inference and arena bytes, or None
    with the reason (`note`) where it could not run the model."""
    instructions: int | None
    arena: int | None
    note: str = ""


@cache
def _reference() -> dict:
    return json.loads(REFERENCE.read_text()) if REFERENCE.exists() else {}


def anchor(key: str, board: str) -> Anchor | None:
    """TFLite Micro's figures for the model at `key` ("mlperf_tiny/NAME.tflite" or
    "CASE/NAME.tflite") on `board`; None where the reference has nothing for that pair."""
    ref = _reference()
    group, _, name = key.partition("/")
    entry = (ref.get("mlperf_tiny", {}) if group == "mlperf_tiny" else ref.get("cases", {}).get(key)) or {}
    if group == "mlperf_tiny":
        entry = entry.get(name) or {}
    if board in entry:
        return Anchor(entry[board].get("instr"), entry[board].get("arena"), entry.get("note", ""))
    if "note" in entry:
        return Anchor(None, None, entry["note"])
    return None


def method() -> str:
    """How the reference figures were measured (the file's own description), or '' without it."""
    return str(_reference().get("method", ""))
