"""Firmware end to end: models cross-built for the QEMU boards run under qemu-system-arm with
-icount, their outputs equal the integer reference byte for byte, and instruction counts are
the same on every run. Real boards are built (not run). Marked `qemu`; skipped without the
Arm toolchain or QEMU."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import onnx
import pytest
from bare_firmware import bare_firmware
from model_paths import mlperf_model
from onnx import TensorProto, helper, numpy_helper
from tflite_models import converted, keras_zoo

from mcuforge.cli import main
from mcuforge.compile import CompileOptions, compile_model
from mcuforge.errors import MfError
from mcuforge.importers import load_model
from mcuforge.quantize.calibration import AccuracyWarning
from mcuforge.runner import run_on_board

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "compiler" / "mcuforge" / "examples" / "digits_cnn.onnx"
MLPERF_INT8 = ["ad_fcae_int8", "kws_dscnn_int8", "ic_resnet8_int8", "vww_mbv1_int8"]

pytestmark = [
    pytest.mark.qemu,
    pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc not installed"),
    pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="qemu-system-arm not installed"),
]


def random_int8(model: Path, n: int, seed: int = 0) -> np.ndarray:
    g = load_model(model)
    shape = g.tensors[g.inputs[0]].shape
    return np.random.default_rng(seed).integers(-128, 128, (n, *shape[1:]), dtype=np.int8)


def zoo_model(name: str, tmp_path: Path) -> Path:
    path = tmp_path / f"{name}.tflite"
    path.write_bytes(converted(name, int8=True))
    return path


@pytest.mark.parametrize("name", sorted(keras_zoo()))
def test_zoo_bit_exact_on_an386(name: str, tmp_path: Path) -> None:
    path = zoo_model(name, tmp_path)
    result = run_on_board(path, random_int8(path, 3), "mps2-an386", out_dir=tmp_path / "fw")
    assert result.mismatches == {}
    assert result.samples == 3 and all(n > 0 for n in result.instructions)


def test_example_bit_exact_on_an386_with_profile(tmp_path: Path) -> None:
    from sklearn.datasets import load_digits

    x = (load_digits().images / 16.0).astype(np.float32)[:, None]
    result = run_on_board(EXAMPLE, x[1700:1704], "mps2-an386", CompileOptions(calib=x[:100]),
                          out_dir=tmp_path, profile=True)
    assert result.mismatches == {}
    layers = result.layer_instructions[0]
    assert sorted(layers) == list(range(len(result.compiled.program.steps)))
    # the per-layer counts add up to the whole inference, give or take the counter readings
    assert 0 <= result.instructions[0] - sum(layers.values()) < 60 * (len(layers) + 2)


@pytest.mark.parametrize("name", MLPERF_INT8)
def test_mlperf_bit_exact_on_an386(name: str, tmp_path: Path) -> None:
    path = mlperf_model(f"{name}.tflite")
    n = 1 if name == "vww_mbv1_int8" else 2
    result = run_on_board(path, random_int8(path, n), "mps2-an386", out_dir=tmp_path)
    assert result.mismatches == {}
    fw = result.firmware
    assert fw.fits and fw.arena_bytes == result.compiled.report["arena_bytes"]
    assert fw.regions["RAM"].parts[".bss"] >= fw.arena_bytes


@pytest.mark.parametrize("board", ["mps2-an385", "mps2-an500", "mps2-an505", "mps3-an547"])
def test_kws_bit_exact_on_other_cores(board: str, tmp_path: Path) -> None:
    path = mlperf_model("kws_dscnn_int8.tflite")
    result = run_on_board(path, random_int8(path, 1), board, out_dir=tmp_path)
    assert result.mismatches == {}
    assert 1_000_000 < result.instructions[0] < 100_000_000  # a sanity band, not a speed target


def test_instruction_counts_are_deterministic(tmp_path: Path) -> None:
    """The same ELF twice, and a rebuild from scratch: the same counts, layer by layer."""
    from mcuforge.firmware.boards import load_board
    from mcuforge.firmware.qemu import run_qemu

    path = mlperf_model("ad_fcae_int8.tflite")
    x = random_int8(path, 2)
    first = run_on_board(path, x, "mps2-an386", out_dir=tmp_path / "a", profile=True)
    again = run_on_board(path, x, "mps2-an386", out_dir=tmp_path / "b", profile=True)
    assert first.instructions == again.instructions
    assert first.layer_instructions == again.layer_instructions
    rerun = run_qemu(first.firmware.elf, load_board("mps2-an386"))
    assert [round(t * 40) for t in rerun.ticks] == first.instructions


def test_counter_measures_a_known_instruction_count(tmp_path: Path) -> None:
    """A loop of exactly 2 x 1,000,000 instructions reads as 2,000,000 within one 40-instruction tick."""
    from mcuforge.firmware.boards import load_board
    from mcuforge.firmware.qemu import run_qemu

    loop = '    __asm__ volatile("ldr r0, =1000000\\n1: subs r0, r0, #1\\n bne 1b" ::: "r0", "cc");'
    elf = bare_firmware("mps2-an386", tmp_path, loop)
    instructions = run_qemu(elf, load_board("mps2-an386")).ticks[0] * 40
    assert abs(instructions - 2_000_000) <= 80, instructions


def test_fault_is_reported_with_registers(tmp_path: Path) -> None:
    from mcuforge.firmware.boards import load_board
    from mcuforge.firmware.qemu import run_qemu

    elf = bare_firmware("mps2-an386", tmp_path,
                        "    (void)*(volatile uint32_t *)0xF0000000u;  /* no memory there */")
    with pytest.raises(MfError, match=r"(?s)faulted under qemu-system-arm.*HardFault.*pc 0x.*bfar"):
        run_qemu(elf, load_board("mps2-an386"))


def big_activation_model(path: Path) -> Path:
    """A conv whose 64x64x40 int8 output (160 KB) cannot fit a 128 KB RAM."""
    w = numpy_helper.from_array(np.full((40, 3, 3, 3), 0.1, np.float32), "w")
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"], "conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 64, 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 40, 64, 64])], [w],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    return path


def test_memory_budget_fails_with_figures_and_force_overrides(tmp_path: Path) -> None:
    model = big_activation_model(tmp_path / "big.onnx")
    opts = CompileOptions(calib="random", board="nucleo-f446re")
    with pytest.raises(MfError, match=r"does not fit nucleo-f446re: RAM needs [\d,]+ bytes .* but has "
                                      r"131,072: over by [\d,]+ bytes .*--force"), \
            pytest.warns(AccuracyWarning, match="random data"):
        compile_model(model, tmp_path / "a", opts)
    opts.force = True
    with pytest.warns(AccuracyWarning, match="random data"):
        compiled = compile_model(model, tmp_path / "b", opts)
    fw = compiled.report["firmware"]
    assert not fw["fits"] and fw["arena_bytes"] > 131_072
    assert fw["regions"]["RAM"]["used"] == fw["regions"]["RAM"]["parts"][".bss"] + fw["stack_estimate_bytes"]


@pytest.mark.parametrize("board", ["nucleo-f446re", "stm32f746g-disco", "nrf52840-dk", "rpi-pico"])
def test_real_boards_build(board: str, tmp_path: Path) -> None:
    path = mlperf_model("kws_dscnn_int8.tflite")
    compiled = compile_model(path, tmp_path, CompileOptions(board=board, profile=True))
    fw = compiled.report["firmware"]
    assert fw["fits"] and (tmp_path / "build_firmware" / fw["elf"]).exists()
    assert fw["stack_estimate_bytes"] > 0
    if board == "rpi-pico":
        image = (tmp_path / "board" / "boot2_image.c").read_text()
        assert "section(\".boot2\")" in image
        assert fw["regions"]["BOOT2"]["used"] == 256


def test_generated_firmware_builds_with_cmake(tmp_path: Path) -> None:
    cmake = shutil.which("cmake") or str(REPO / ".venv" / "bin" / "cmake")
    path = mlperf_model("ad_fcae_int8.tflite")
    compile_model(path, tmp_path / "src", CompileOptions(board="mps2-an386", name="ad"))
    build = tmp_path / "build"
    subprocess.run([cmake, "-S", str(tmp_path / "src"), "-B", str(build)], check=True, capture_output=True)
    subprocess.run([cmake, "--build", str(build)], check=True, capture_output=True)
    proc = subprocess.run([cmake, "--build", str(build), "--target", "run"], capture_output=True, text=True)
    assert "mcuforge: done" in proc.stdout + proc.stderr


def test_cli_run_on_board_prints_instructions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = mlperf_model("ad_fcae_int8.tflite")
    np.save(tmp_path / "x.npy", random_int8(path, 2))
    code = main(["run", str(path), "--board", "mps2-an386", "--input", str(tmp_path / "x.npy"),
                 "--output", str(tmp_path / "y.npy"), "--raw"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.count("instructions: ") == 2 and "bit-exact" in out
    assert np.load(tmp_path / "y.npy").shape[0] == 2


def test_relative_output_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    path = mlperf_model("ad_fcae_int8.tflite")
    compiled = compile_model(path, "out", CompileOptions(board="mps2-an386"))
    assert compiled.report["firmware"]["fits"]
    result = run_on_board(path, random_int8(path, 1), "mps2-an386", out_dir="fw")
    assert result.mismatches == {}
