"""Host golden tests: models compile to C, build with gcc (-Werror, ASan/UBSan), and the C output
equals the integer reference byte for byte; for int8 TFLite models also TFLite Micro's output."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from model_paths import mlperf_model
from onnx_models import qdq_model, two_inputs_two_outputs
from tflite_models import converted, keras_model, keras_zoo, sample_inputs

from mcuforge.compile import CompileOptions, compile_model
from mcuforge.importers import load_model
from mcuforge.runner import run_model

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "compiler" / "mcuforge" / "examples" / "digits_cnn.onnx"
SAMPLES = 20
MLPERF_INT8 = ["ad_fcae_int8", "kws_dscnn_int8", "ic_resnet8_int8", "vww_mbv1_int8"]


def digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    d = load_digits()
    return (d.images / 16.0).astype(np.float32)[:, None], d.target


def tflm_outputs(model_bytes: bytes, inputs: np.ndarray) -> np.ndarray:
    from tflite_micro.python.tflite_micro import runtime

    interp = runtime.Interpreter.from_bytes(model_bytes)
    outs = []
    for x in inputs:
        interp.set_input(x[None], 0)
        interp.invoke()
        outs.append(interp.get_output(0)[0].copy())
    return np.stack(outs)


def random_int8(model: Path, n: int, seed: int = 0) -> np.ndarray:
    g = load_model(model)
    shape = g.tensors[g.inputs[0]].shape
    return np.random.default_rng(seed).integers(-128, 128, (n, *shape[1:]), dtype=np.int8)


@pytest.mark.cbuild
def test_example_bit_exact_under_sanitizers_and_accurate(tmp_path: Path) -> None:
    x, y = digits()
    result = run_model(EXAMPLE, x[1400:], CompileOptions(calib=x[:200]), out_dir=tmp_path, sanitize=True)
    assert result.samples == len(x) - 1400
    assert result.mismatches == {}
    acc = float(np.mean(result.outputs["probs"].argmax(axis=1) == y[1400:]))
    assert acc > 0.9, acc
    report = result.compiled.report
    assert report["arena_bytes"] >= report["arena_lower_bound_bytes"] > 0
    assert {"arena_bytes", "arena_lower_bound_bytes", "weights_bytes", "macs", "ops"} <= set(report)


@pytest.mark.cbuild
@pytest.mark.slow
@pytest.mark.parametrize("name", MLPERF_INT8)
def test_mlperf_int8_bit_exact_with_reference_and_tflm(name: str, tmp_path: Path) -> None:
    path = mlperf_model(f"{name}.tflite")
    x = random_int8(path, SAMPLES)
    result = run_model(path, x, out_dir=tmp_path)
    assert result.mismatches == {}
    out = next(iter(result.raw.values()))
    np.testing.assert_array_equal(out, tflm_outputs(path.read_bytes(), x))


@pytest.mark.cbuild
@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(keras_zoo()))
def test_tf_int8_zoo_bit_exact(name: str, tmp_path: Path) -> None:
    """TF-converted int8 models: C == reference, and == TFLite Micro except where TFLM is wrong
    (dilated convolutions: the reference follows TFLite's BUILTIN_REF kernels instead)."""
    data = converted(name, int8=True)
    path = tmp_path / f"{name}.tflite"
    path.write_bytes(data)
    x = random_int8(path, SAMPLES)
    result = run_model(path, x, out_dir=tmp_path / "c")
    assert result.mismatches == {}
    if name != "dilated":
        np.testing.assert_array_equal(next(iter(result.raw.values())), tflm_outputs(data, x))


@pytest.mark.cbuild
@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(keras_zoo()))
def test_our_quantization_of_zoo_bit_exact(name: str, tmp_path: Path) -> None:
    """Float models quantized by mcuforge compile to C that equals the reference."""
    path = tmp_path / f"{name}.tflite"
    path.write_bytes(converted(name, int8=False))
    model = keras_model(name)
    calib = sample_inputs(model, 32, seed=1)
    result = run_model(path, sample_inputs(model, SAMPLES, seed=2), CompileOptions(calib=calib),
                       out_dir=tmp_path / "c")
    assert result.mismatches == {}


def test_compile_is_deterministic(tmp_path: Path) -> None:
    x, _ = digits()
    for out in ("a", "b"):
        compile_model(EXAMPLE, tmp_path / out, CompileOptions(calib=x[:50]))
    for f in sorted((tmp_path / "a").rglob("*")):
        if f.is_file():
            assert f.read_bytes() == (tmp_path / "b" / f.relative_to(tmp_path / "a")).read_bytes(), f


@pytest.mark.cbuild
def test_generated_folder_builds_with_its_cmakelists(tmp_path: Path) -> None:
    cmake = shutil.which("cmake") or str(Path(__file__).resolve().parents[1] / ".venv" / "bin" / "cmake")
    x, _ = digits()
    compile_model(EXAMPLE, tmp_path / "src", CompileOptions(calib=x[:50], name="digits"))
    build = tmp_path / "build"
    subprocess.run([cmake, "-S", str(tmp_path / "src"), "-B", str(build)], check=True, capture_output=True)
    subprocess.run([cmake, "--build", str(build)], check=True, capture_output=True)
    proc = subprocess.run([str(build / "digits_example")], capture_output=True, text=True, check=True)
    assert len(proc.stdout.split()) == 10


@pytest.mark.cbuild
@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc not installed")
def test_generated_c_cross_compiles_for_cortex_m4(tmp_path: Path) -> None:
    x, _ = digits()
    compile_model(EXAMPLE, tmp_path, CompileOptions(calib=x[:50], name="digits"))
    runtime = sorted(str(p) for p in (tmp_path / "mf_nn" / "src").rglob("*.c"))
    for src in ["digits.c", "digits_weights.c", *runtime]:
        subprocess.run(
            ["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16",
             "-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", "-I.", "-Imf_nn/include", "-c", src,
             "-o", "/dev/null"],
            cwd=tmp_path, check=True, capture_output=True,
        )


@pytest.mark.cbuild
@pytest.mark.slow
def test_onnx_float_and_qdq_models_bit_exact(tmp_path: Path) -> None:
    """The same CNN quantized by mcuforge and by onnxruntime (QDQ, two outputs) compiles to C
    that equals the reference; inputs are fed in the model's own NCHW layout."""
    float_path, qdq_path = qdq_model(tmp_path)
    x = np.random.default_rng(3).standard_normal((SAMPLES, 3, 16, 16)).astype(np.float32)
    ours = run_model(float_path, x, CompileOptions(calib=x), out_dir=tmp_path / "ours")
    assert ours.mismatches == {}
    theirs = run_model(qdq_path, x, out_dir=tmp_path / "qdq")
    assert theirs.mismatches == {}
    assert set(theirs.outputs) == {"logits", "p"}
    assert theirs.outputs["p"].shape == (SAMPLES, 10)
    agree = np.mean(ours.outputs["p"].argmax(1) == theirs.outputs["p"].argmax(1))
    assert agree >= 0.8, agree


@pytest.mark.cbuild
def test_cli_run_with_npz_inputs_and_outputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from mcuforge.cli import main

    path = two_inputs_two_outputs(tmp_path)
    rng = np.random.default_rng(4)
    data = {"image": rng.standard_normal((SAMPLES, 3, 8, 8)).astype(np.float32),
            "extra": rng.standard_normal((SAMPLES, 5)).astype(np.float32)}
    np.savez(tmp_path / "x.npz", **data)
    code = main(["run", str(path), "--calib", str(tmp_path / "x.npz"), "--input", str(tmp_path / "x.npz"),
                 "--output", str(tmp_path / "y.npz")])
    out = capsys.readouterr().out
    assert code == 0 and "bit-exact" in out
    with np.load(tmp_path / "y.npz") as y:
        assert y["scores"].shape == (SAMPLES, 4) and y["gate"].shape == (SAMPLES, 2)
        assert y["gate"].min() >= 0 and y["gate"].max() <= 1
    code = main(["run", str(path), "--calib", str(tmp_path / "x.npz"), "--input", str(tmp_path / "x.npz"),
                 "--output", str(tmp_path / "raw.npz"), "--raw"])
    with np.load(tmp_path / "raw.npz") as y:
        assert y["scores"].dtype == np.int8


@pytest.mark.cbuild
def test_c_quantize_helpers_match_python(tmp_path: Path) -> None:
    """<name>_quantize_input takes float data in the model's own layout (NCHW here) and must give
    the bytes `mcuforge run` feeds; <name>_dequantize_output the floats it reports."""
    from mcuforge.build import host_compiler
    from mcuforge.ir.layout import to_ir_layout
    from mcuforge.ops.quantize import affine_quantize

    x, _ = digits()
    compiled = compile_model(EXAMPLE, tmp_path, CompileOptions(calib=x[:50], name="d"))
    g = compiled.graph
    sample = (x[7] * 3 - 1).astype(np.float32)  # values beyond the calibrated range saturate
    (tmp_path / "probe.c").write_text(PROBE)
    exe = tmp_path / "probe"
    runtime = sorted(str(p) for p in (tmp_path / "mf_nn" / "src").rglob("*.c"))
    subprocess.run([host_compiler(), "-std=c99", "-Wall", "-Wextra", "-Werror", "-I.", "-Imf_nn/include",
                    "probe.c", "d.c", "d_weights.c", *runtime, "-lm", "-o", str(exe)],
                   cwd=tmp_path, check=True, capture_output=True)
    proc = subprocess.run([str(exe)], input=sample.tobytes(), capture_output=True, check=True)
    q = np.frombuffer(proc.stdout[:64], dtype=np.int8)
    ir = to_ir_layout(g, g.inputs[0], sample[None]).reshape(g.tensors[g.inputs[0]].shape)
    want = affine_quantize(ir, g.tensors[g.inputs[0]].quant, "int8").reshape(-1)
    np.testing.assert_array_equal(q, want)
    probs = np.frombuffer(proc.stdout[64:], dtype=np.float32)
    scale, zp = g.tensors[g.outputs[0]].scalar_quant()
    np.testing.assert_array_equal(probs, (np.arange(-128, -118) - zp).astype(np.float32) * np.float32(scale))


PROBE = r"""
#include <stdio.h>
#include "d.h"
int main(void)
{
    float x[64];
    int8_t q[64];
    int8_t out[10];
    float y[10];
    int i;
    if (fread(x, sizeof(float), 64, stdin) != 64) return 1;
    d_quantize_input0(x, q);
    fwrite(q, 1, 64, stdout);
    for (i = 0; i < 10; ++i) out[i] = (int8_t)(-128 + i);
    d_dequantize_output0(out, y);
    fwrite(y, sizeof(float), 10, stdout);
    return 0;
}
"""
