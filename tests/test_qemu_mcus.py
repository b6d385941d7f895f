"""Real microcontrollers under QEMU: the netduinoplus2 machine (STM32F405, Cortex-M4F) and the
microbit machine (nRF51822, Cortex-M0) emulate the chips with their own peripherals, so the
register-level console (STM32 USART1, nRF51 UART0), the SysTick counter and the startup code run
as on the real parts. The digits example and the KWS model (on both, the nRF51822's 16 KB of RAM
included) run bit-exactly with instruction counts. Marked `qemu`; skipped without the Arm
toolchain or QEMU."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from bare_firmware import bare_firmware
from model_paths import mlperf_model

from mcuforge.compile import CompileOptions, compile_model
from mcuforge.errors import MfError
from mcuforge.firmware.boards import load_board
from mcuforge.firmware.qemu import run_qemu
from mcuforge.importers import load_model
from mcuforge.runner import run_on_board

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "compiler" / "mcuforge" / "examples" / "digits_cnn.onnx"
MCUS = ["netduinoplus2", "microbit"]

pytestmark = [
    pytest.mark.qemu,
    pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc not installed"),
    pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="qemu-system-arm not installed"),
]


def digits() -> np.ndarray:
    from sklearn.datasets import load_digits

    return (load_digits().images / 16.0).astype(np.float32)[:, None]


def random_int8(model: Path, n: int, seed: int = 0) -> np.ndarray:
    g = load_model(model)
    shape = g.tensors[g.inputs[0]].shape
    return np.random.default_rng(seed).integers(-128, 128, (n, *shape[1:]), dtype=np.int8)


@pytest.mark.parametrize("board", MCUS)
def test_digits_example_bit_exact_with_layer_counts(board: str, tmp_path: Path) -> None:
    x = digits()
    result = run_on_board(EXAMPLE, x[1700:1703], board, CompileOptions(calib=x[:100]),
                          out_dir=tmp_path, profile=True)
    assert result.mismatches == {} and result.samples == 3
    layers = result.layer_instructions[0]
    assert sorted(layers) == list(range(len(result.compiled.program.steps)))
    assert all(n > 0 for n in result.instructions)
    # the layers add up to the inference, give or take the counter's readings and one tick each
    tick = load_board(board).ns_per_tick
    assert 0 <= result.instructions[0] - sum(layers.values()) < (60 + tick) * (len(layers) + 2)


def test_m4_counts_agree_with_the_mps2_m4(tmp_path: Path) -> None:
    """The same Cortex-M4F code on the STM32F405 machine (SysTick at 168 MHz) and on MPS2 AN386
    (25 MHz): the same instruction counts to within one tick of each counter, which checks the
    board's clock figure."""
    x = digits()
    opts = CompileOptions(calib=x[:100])
    nd = run_on_board(EXAMPLE, x[1700:1702], "netduinoplus2", opts, out_dir=tmp_path / "nd")
    an = run_on_board(EXAMPLE, x[1700:1702], "mps2-an386", opts, out_dir=tmp_path / "an")
    slack = load_board("netduinoplus2").ns_per_tick + load_board("mps2-an386").ns_per_tick
    for a, b in zip(nd.instructions, an.instructions):
        assert abs(a - b) <= slack, (nd.instructions, an.instructions)


def test_kws_bit_exact_on_netduinoplus2(tmp_path: Path) -> None:
    path = mlperf_model("kws_dscnn_int8.tflite")
    result = run_on_board(path, random_int8(path, 2), "netduinoplus2", out_dir=tmp_path)
    assert result.mismatches == {}
    assert 1_000_000 < result.instructions[0] < 100_000_000  # a sanity band, not a speed target
    fw = result.compiled.report["firmware"]
    assert fw["fits"] and fw["regions"]["RAM"]["used"] <= 131_072


def test_kws_bit_exact_on_microbit(tmp_path: Path) -> None:
    """KWS on the nRF51822's 16 KB of RAM (Cortex-M0): its outputs written over their inputs make
    the arena 11 KB (TFLite Micro's arena for it is 22.8 KB), so it fits with the stack."""
    path = mlperf_model("kws_dscnn_int8.tflite")
    result = run_on_board(path, random_int8(path, 2), "microbit", out_dir=tmp_path)
    assert result.mismatches == {}
    fw = result.compiled.report["firmware"]
    assert fw["fits"] and fw["regions"]["RAM"]["used"] <= 16_384


def test_resnet8_refused_on_microbit_in_one_line(tmp_path: Path) -> None:
    """IC ResNet-8's arena (25 KB) is more than the nRF51822's 16 KB of RAM: the fit check says so,
    with figures."""
    path = mlperf_model("ic_resnet8_int8.tflite")
    with pytest.raises(MfError) as e:
        compile_model(path, tmp_path, CompileOptions(board="microbit"))
    msg = str(e.value)
    assert "\n" not in msg
    assert "does not fit microbit: RAM needs" in msg and "but has 16,384: over by" in msg and "--force" in msg


@pytest.mark.parametrize("board", MCUS)
def test_counter_measures_a_known_instruction_count(board: str, tmp_path: Path) -> None:
    """A loop of exactly 2 x 1,000,000 instructions reads as 2,000,000 within a tick and the reads."""
    b = load_board(board)
    # GCC passes Thumb-1 inline assembly in divided syntax, where SUB on a low register sets the flags
    sub = "sub r0, #1" if b.arch == "armv6-m" else "subs r0, r0, #1"
    elf = bare_firmware(board, tmp_path, f'    __asm__ volatile("ldr r0, =1000000\\n1: {sub}\\n'
                                         ' bne 1b" ::: "r0", "cc");')
    run = run_qemu(elf, b)
    assert "mcuforge: done" in run.log  # printed over the board's own UART
    instructions = run.ticks[0] * b.ns_per_tick
    assert abs(instructions - 2_000_000) <= 2 * b.ns_per_tick + 40, instructions


@pytest.mark.parametrize("board", MCUS)
def test_fault_is_reported_over_the_uart(board: str, tmp_path: Path) -> None:
    # an undefined instruction (QEMU's nRF51 answers every address of its private 0xF0000000 region)
    elf = bare_firmware(board, tmp_path, '    __asm__ volatile("udf #0");')
    with pytest.raises(MfError, match=r"(?s)faulted under qemu-system-arm.*HardFault.*pc 0x"):
        run_qemu(elf, load_board(board))


@pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake not installed")
@pytest.mark.parametrize("board", MCUS)
def test_generated_firmware_project_runs_with_cmake(board: str, tmp_path: Path) -> None:
    """The firmware project compile writes: cmake builds the same ELF and `--target run` runs it
    under QEMU with the UART on the terminal."""
    x = digits()
    compile_model(EXAMPLE, tmp_path / "src", CompileOptions(calib=x[:100], board=board, name="digits"))
    build = tmp_path / "build"
    subprocess.run(["cmake", "-S", str(tmp_path / "src"), "-B", str(build)], check=True, capture_output=True)
    subprocess.run(["cmake", "--build", str(build)], check=True, capture_output=True)
    proc = subprocess.run(["cmake", "--build", str(build), "--target", "run"], capture_output=True, text=True,
                          timeout=300)
    log = proc.stdout + proc.stderr
    assert f"mcuforge: digits on {board}, 1 sample(s)" in log and "mcuforge: done" in log, log[-2000:]
