"""The Cortex-M3/M4 cycle estimate (mcuforge.firmware.cycles): instruction timings by class, and
the walk over a QEMU `-d in_asm,exec,nochain` log (a hand-written log with known cycles)."""

from __future__ import annotations

import pytest

from mcuforge.errors import MfError
from mcuforge.firmware.cycles import MODELS, Instruction, classify, walk

M3, M4 = MODELS["cortex-m3"], MODELS["cortex-m4"]


def _ins(text: str, address: int = 0, size: int = 4) -> Instruction:
    mnemonic, _, operands = text.partition(" ")
    return Instruction(address, size, mnemonic, operands.strip())


@pytest.mark.parametrize(("text", "previous_single", "m4", "m3"), [
    ("add r0, r1, r2", False, 1, 1),
    ("ldr r0, [r1]", False, 2, 2),
    ("ldr r0, [r1, #4]", True, 1, 1),  # pipelined behind another single load or store
    ("strb r0, [r1], #1", True, 1, 1),
    ("ldrd r0, r1, [r2]", False, 3, 3),
    ("push {r4, r5, r6, lr}", False, 5, 5),
    ("pop {r4-r7, pc}", False, 6, 6),
    ("ldm r0!, {r1, r2}", False, 3, 3),
    ("mla r0, r1, r2, r3", False, 1, 2),
    ("smull r0, r1, r2, r3", False, 1, 4),
    ("smlal r0, r1, r2, r3", False, 1, 5),
    ("smlad r0, r1, r2, r3", False, 1, 1),
    ("sdiv r0, r1, r2", False, 7, 7),
    ("bne #0x100", False, 1, 1),  # not taken; the walk adds the refill when taken
    ("itt ge", False, 1, 1),
    ("vldr s0, [r0]", False, 2, 2),
])
def test_instruction_cycles_follow_the_trm_tables(text: str, previous_single: bool, m4: int, m3: int) -> None:
    assert classify(_ins(text), M4, previous_single)[1] == m4
    assert classify(_ins(text), M3, previous_single)[1] == m3


LOG = """\
----------------
IN: main
0x00000100:  f000 f800  bl       #0x200

Trace 0: 0x7f0000000100 [00000000/00000100/00000110/ff000000] main
----------------
IN: net_invoke
0x00000200:  b510       push     {r4, lr}
0x00000202:  6808       ldr      r0, [r1]
0x00000204:  684a       ldr      r2, [r1, #4]
0x00000206:  fb00 f002  mul      r0, r0, r2
0x0000020a:  2800       cmp      r0, #0
0x0000020c:  d1f8       bne      #0x200

Trace 0: 0x7f0000000200 [00000000/00000200/00000110/ff000000] net_invoke
Trace 0: 0x7f0000000200 [00000000/00000200/00000110/ff000000] net_invoke
----------------
IN: net_invoke
0x0000020e:  bd10       pop      {r4, pc}

Trace 0: 0x7f0000000300 [00000000/0000020e/00000110/ff000000] net_invoke
----------------
IN: main
0x00000104:  e7fe       b        #0x104

Trace 0: 0x7f0000000400 [00000000/00000104/00000110/ff000000] main
"""


def test_walk_counts_the_invoke_call_with_taken_branches() -> None:
    est = walk(LOG.splitlines(), "net_invoke", M4)
    # the loop block twice: push 3, ldr 2, ldr 1 (pipelined), mul 1, cmp 1, bne 1 = 9 cycles;
    # its bne taken once (back to 0x200: +2), not taken once (falls through to 0x20e);
    # then pop {r4, pc}: 3 + refill 2. main's blocks are outside the call.
    assert est.instructions == 2 * 6 + 1
    assert est.cycles == 2 * 9 + 2 + 3 + 2
    assert est.by_class["branch"] == 2 + 2 and est.by_class["load_store"] == 2 * 6 + 3 + 2


def test_walk_without_a_complete_call_is_refused() -> None:
    with pytest.raises(MfError, match="no complete call of other_invoke"):
        walk(LOG.splitlines(), "other_invoke", M4)


REWOUND = """\
IN: net_invoke
0x00000200:  b510       push     {r4, lr}
0x00000202:  6808       ldr      r0, [r1]
0x00000204:  3001       adds     r0, #1
0x00000206:  bd10       pop      {r4, pc}

Trace 0: 0x7f0000000200 [00000000/00000200/00000110/ff000000] net_invoke
cpu_io_recompile: rewound execution of TB to 00000202
IN: net_invoke
0x00000202:  6808       ldr      r0, [r1]

Trace 0: 0x7f0000000300 [00000000/00000202/00000110/ff038201] net_invoke
IN: net_invoke
0x00000204:  3001       adds     r0, #1
0x00000206:  bd10       pop      {r4, pc}

Trace 0: 0x7f0000000400 [00000000/00000204/00000110/ff000000] net_invoke
IN: main
0x00000104:  e7fe       b        #0x104

Trace 0: 0x7f0000000500 [00000000/00000104/00000110/ff000000] main
"""


def test_a_block_rewound_at_an_io_access_counts_up_to_it() -> None:
    """Under -icount QEMU stops a block at an I/O access (a counter read) and runs that access in
    a block of its own: the first block's tail must not count twice."""
    est = walk(REWOUND.splitlines(), "net_invoke", M4)
    assert est.instructions == 4  # push, ldr, adds, pop: each once
    # push 3; ldr 2 (alone in its block); adds 1; pop {r4, pc} 3 + refill 2
    assert est.cycles == 3 + 2 + 1 + 3 + 2
