"""Board descriptions and the firmware tooling that needs no cross compiler: every board's
linker script agrees with its board.json, the RP2040 boot2 checksum, the stack estimator."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mcuforge.errors import MfError
from mcuforge.firmware import list_boards, load_board
from mcuforge.firmware.boot2 import crc32_mpeg2
from mcuforge.firmware.project import qemu_args
from mcuforge.firmware.stack import EXCEPTION_FRAME, LIBRARY_ALLOWANCE, estimate_stack

QEMU_BOARDS = {"mps2-an385": "cortex-m3", "mps2-an386": "cortex-m4", "mps2-an500": "cortex-m7",
               "mps2-an505": "cortex-m33", "mps3-an547": "cortex-m55"}
REAL_BOARDS = {"nucleo-f446re", "stm32f746g-disco", "nrf52840-dk", "rpi-pico"}
# QEMU machines that emulate a microcontroller with its own peripherals (UART consoles)
MCU_QEMU_BOARDS = {"netduinoplus2": ("cortex-m4", 168_000_000), "microbit": ("cortex-m0", 16_000_000)}


def test_boards_listed() -> None:
    assert set(QEMU_BOARDS) | REAL_BOARDS | set(MCU_QEMU_BOARDS) <= set(list_boards())


@pytest.mark.parametrize("name", sorted(set(QEMU_BOARDS) | REAL_BOARDS | set(MCU_QEMU_BOARDS)))
def test_board_description_matches_linker_script(name: str) -> None:
    b = load_board(name)
    assert f"-mcpu={b.cpu}" in b.cflags
    assert (b.qemu_machine is not None) == (name in QEMU_BOARDS or name in MCU_QEMU_BOARDS)
    assert b.qemu_machine or b.flash_tool, "real boards say how to flash them"
    ld = (b.folder / b.linker_script).read_text()
    for r in b.regions:
        m = re.search(rf"{r.name} \(\w+\) : ORIGIN = (0x[0-9A-Fa-f]+), LENGTH = (\d+)(K?)", ld)
        assert m, f"{r.name} missing from {b.linker_script}"
        assert int(m.group(1), 16) == r.origin
        assert int(m.group(2)) * (1024 if m.group(3) else 1) == r.length
    assert "INCLUDE sections.ld" in ld
    for f in b.common_sources():
        assert (b.folder.parent / "common" / f).exists(), f
    if b.features.get("fpu"):
        assert "-mfloat-abi=hard" in b.cflags


def test_qemu_cpus_and_clocks() -> None:
    for name, cpu in QEMU_BOARDS.items():
        b = load_board(name)
        assert b.cpu == cpu and b.exit == "semihosting" and b.counter == "systick"
        assert b.console == ("cmsdk_uart0" if name == "mps2-an385" else "semihosting")
    assert load_board("mps2-an386").ns_per_tick == 40.0  # 25 MHz: one tick is 40 instructions
    for name, (cpu, hz) in MCU_QEMU_BOARDS.items():  # the machine's own clock drives SysTick
        b = load_board(name)
        assert (b.cpu, b.cpu_hz, b.qemu_machine) == (cpu, hz, name)
        assert b.exit == "semihosting" and b.counter == "systick" and b.console != "semihosting"
        args = qemu_args(b)  # the UART console prints on QEMU's stdout
        assert args[args.index("-serial") + 1] == "stdio" and args[args.index("-M") + 1] == name
    an386 = qemu_args(load_board("mps2-an386"))  # semihosting console: no serial port
    assert an386[an386.index("-serial") + 1] == "none"
    assert load_board("mps3-an547").features["mve"] is True


def test_unknown_board_lists_the_known_ones() -> None:
    with pytest.raises(MfError, match=r"unknown board 'nope'; available: host, .*mps2-an386"):
        load_board("nope")


def test_boot2_crc_is_the_mpeg2_crc32() -> None:
    assert crc32_mpeg2(b"123456789") == 0x0376E6E7  # the CRC-32/MPEG-2 check value
    assert crc32_mpeg2(b"") == 0xFFFFFFFF


def test_stack_estimate_follows_the_deepest_chain(tmp_path: Path) -> None:
    (tmp_path / "a.ci").write_text(
        'graph: { title: "a.c"\n'
        'node: { title: "Reset_Handler" label: "Reset_Handler\\na.c:1:1\\n8 bytes (static)" }\n'
        'node: { title: "main" label: "main\\na.c:2:1\\n32 bytes (static)" }\n'
        'node: { title: "a.c:deep" label: "deep\\na.c:3:1\\n200 bytes (static)" }\n'
        'node: { title: "shallow" label: "shallow\\na.c:4:1\\n16 bytes (static)" }\n'
        'node: { title: "SysTick_Handler" label: "SysTick_Handler\\na.c:5:1\\n0 bytes (static)" }\n'
        'node: { title: "Fault_Handler" label: "Fault_Handler\\na.c:6:1\\n24 bytes (static)" }\n'
        'edge: { sourcename: "Reset_Handler" targetname: "main" label: "" }\n'
        'edge: { sourcename: "main" targetname: "a.c:deep" label: "" }\n'
        'edge: { sourcename: "main" targetname: "shallow" label: "" }\n'
        'edge: { sourcename: "a.c:deep" targetname: "memcpy" label: "" }\n'
        'edge: { sourcename: "shallow" targetname: "shallow" label: "" }\n}\n'
    )
    expected = 8 + 32 + 200 + EXCEPTION_FRAME + 24 + LIBRARY_ALLOWANCE
    assert estimate_stack([tmp_path / "a.ci"]) == (expected + 7) // 8 * 8
