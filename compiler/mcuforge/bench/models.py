"""The benchmark's model set, in groups a run picks with `--set`:

- `mlperf`: the four MLPerf Tiny int8 models (`../shared/models/mlperf_tiny/`);
- `users`: models of the kinds users deploy beyond MLPerf (speech commands, 96x96 grayscale person
  detection, gesture and activity 1-D CNNs, a keyword DNN, a 1-D depthwise-separable audio
  network, a small U-Net; bench/keras_models.py), int8 by TF's converter at its defaults;
- `cases`: every model of `../shared/cases/` (int8 TFLite files run on the first sample of the
  case's input file, float ONNX models quantized by mcuforge with the case's calibration file);
- `sequence`: the keyword-shaped SVDF model and two tf_keras LSTMs (whole sequence, streaming);
- `example`: the bundled digits CNN;
- `tests`: the test suite's Keras zoo (a source checkout only).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mcuforge.bench.anchors import SHARED
from mcuforge.compile import CompileOptions

REPO = Path(__file__).resolve().parents[3]
MLPERF = SHARED / "models" / "mlperf_tiny"
CASES = SHARED / "cases"
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "digits_cnn.onnx"
MLPERF_NAMES = ("kws_dscnn_int8", "vww_mbv1_int8", "ic_resnet8_int8", "ad_fcae_int8")
SETS = ("mlperf", "users", "cases", "sequence", "example", "tests")
DEFAULT_SETS = ("mlperf", "users", "cases", "sequence", "example")


@dataclass(frozen=True)
class BenchModel:
    """One model to measure: a label for the tables, its file, how to compile it, the key of its
    TFLite Micro reference figures (anchors.anchor) and, optionally, int8 inputs (N, ...) to run
    instead of random ones."""
    label: str
    group: str
    path: Path
    opts: CompileOptions = field(default_factory=CompileOptions)
    key: str = ""
    inputs: np.ndarray | None = None


def mlperf(_: Path) -> list[BenchModel]:
    return [BenchModel(name, "mlperf", MLPERF / f"{name}.tflite", key=f"mlperf_tiny/{name}.tflite")
            for name in MLPERF_NAMES if (MLPERF / f"{name}.tflite").exists()]


def users(_: Path) -> list[BenchModel]:
    from mcuforge.bench.keras_models import USER_MODELS, converted

    return [BenchModel(name, "users", converted(name)) for name in USER_MODELS]


def cases(_: Path) -> list[BenchModel]:
    table = CASES / "cases.json"
    out = []
    for case in json.loads(table.read_text()) if table.exists() else []:
        folder = CASES / case["case"]
        key = f"{case['case']}/{case['model']}"
        if case["kind"] == "tflite_int8":
            x = np.load(folder / case["input"])
            out.append(BenchModel(key, "cases", folder / case["model"], key=key, inputs=x[:1]))
        else:
            calib = np.load(folder / case["calib"]) if case.get("calib") else "random"
            out.append(BenchModel(key, "cases", folder / case["model"], CompileOptions(calib=calib), key=key))
    return out


def sequence(work: Path) -> list[BenchModel]:
    from mcuforge.bench.keras_models import lstm

    models = [BenchModel("lstm_seq16", "sequence", lstm(16)), BenchModel("lstm_stream", "sequence", lstm(1))]
    if (REPO / "tests" / "svdf_models.py").exists():
        sys.path.insert(0, str(REPO / "tests"))
        from svdf_models import svdf_model  # a source checkout's test model: the TFLite schema by hand

        path = work / "svdf_keyword.tflite"
        path.write_bytes(svdf_model())
        models.insert(0, BenchModel("svdf_keyword", "sequence", path))
    return models


def example(_: Path) -> list[BenchModel]:
    return [BenchModel("digits_cnn (example)", "example", EXAMPLE, CompileOptions(calib="random"))]


def tests(work: Path) -> list[BenchModel]:
    if not (REPO / "tests" / "tflite_models.py").exists():
        return []
    sys.path.insert(0, str(REPO / "tests"))
    from tflite_models import converted, keras_zoo  # a source checkout's test models

    out = []
    for name in sorted(keras_zoo()):
        path = work / f"{name}.tflite"
        path.write_bytes(converted(name, int8=True))
        out.append(BenchModel(f"{name} (test)", "tests", path))
    return out


GROUPS: dict[str, Callable[[Path], list[BenchModel]]] = {
    "mlperf": mlperf, "users": users, "cases": cases, "sequence": sequence, "example": example,
    "tests": tests,
}


def model_set(groups: tuple[str, ...], work: Path) -> list[BenchModel]:
    """The models of `groups`, in SETS order; groups whose files are absent give none."""
    return [m for g in SETS if g in groups for m in GROUPS[g](work)]
