"""A firmware of a board's own files and a hand-written main(): `body` runs between two counter
reads, then the harness's lines (`mcuforge: done`, the ticks) are printed as a model run would."""

from __future__ import annotations

import subprocess
from pathlib import Path

from mcuforge.firmware.boards import boards_dir, load_board


def bare_firmware(board_name: str, tmp_path: Path, body: str) -> Path:
    """The ELF for `board_name`, built with arm-none-eabi-gcc -Wall -Wextra -Werror."""
    board = load_board(board_name)
    common = boards_dir() / "common"
    (tmp_path / "bare.c").write_text(
        '#include "mf_board.h"\nint main(void)\n{\n    uint32_t start;\n    uint32_t ticks;\n'
        "    mf_console_init();\n    mf_counter_init();\n    start = mf_counter_read();\n"
        f"{body}\n    ticks = mf_counter_read() - start;\n"
        '    mf_print("mcuforge: done\\nsample 0 ticks ");\n    mf_print_u32(ticks);\n    mf_print("\\n");\n'
        "    return 0;\n}\n"
    )
    elf = tmp_path / "bare.elf"
    sources = [tmp_path / "bare.c", *(common / f for f in board.common_sources())]
    subprocess.run(["arm-none-eabi-gcc", *board.cflags, "-O2", "-std=c99", "-Wall", "-Wextra", "-Werror",
                    f"-I{common}", *map(str, sources), "-nostartfiles", "--specs=nano.specs", f"-L{common}",
                    "-T", str(board.folder / board.linker_script), "-o", str(elf)],
                   check=True, capture_output=True)
    return elf
