"""Firmware for Cortex-M boards: board descriptions, firmware projects (startup, linker script,
a harness that runs the model on embedded test vectors), cross builds with a memory budget
check, and runs under QEMU with deterministic instruction counts.

    make_firmware(compiled, "mps2-an386", inputs)   -> project folder + ELF + memory use
    run_on_board(model, inputs, "mps2-an386")       -> outputs, instructions per inference
"""

from mcuforge.firmware.boards import HOST, Board, list_boards, load_board
from mcuforge.firmware.build import Firmware, build_firmware
from mcuforge.firmware.run import BoardResult, make_firmware, run_on_board

__all__ = ["HOST", "Board", "BoardResult", "Firmware", "build_firmware", "list_boards", "load_board",
           "make_firmware", "run_on_board"]
