"""Firmware for Cortex-M boards: board descriptions, firmware projects (startup, linker script,
a harness that runs the model on embedded test vectors), cross builds with a memory budget
check, and runs under QEMU with deterministic instruction counts.

    make_firmware(compiled, "mps2-an386", inputs)   -> project folder + ELF + memory use

Running a model on a board and checking its outputs (`run_on_board`) is the driver's:
mcuforge.runner. This stage takes the compiled artifact (mcuforge.artifact.Compiled) and never
imports the compiler driver.
"""

from mcuforge.firmware.boards import HOST, Board, list_boards, load_board
from mcuforge.firmware.build import Firmware, build_firmware
from mcuforge.firmware.run import make_firmware

__all__ = ["HOST", "Board", "Firmware", "build_firmware", "list_boards", "load_board", "make_firmware"]
