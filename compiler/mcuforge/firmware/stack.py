"""Worst-case stack depth from GCC's -fcallgraph-info=su files (one .ci per object).

Each function node carries its own frame size ("N bytes (static)"); edges are direct calls.
The estimate is the deepest call chain from Reset_Handler, plus the deepest interrupt handler
stacked on top of it with an exception frame (26 words with the FPU's lazy context), plus an
allowance for the C library functions (memcpy, memmove, memset) whose sizes GCC does not know.
Indirect calls would escape this; the generated code and the runtime make none.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

EXCEPTION_FRAME = 104
LIBRARY_ALLOWANCE = 64
ENTRY = "Reset_Handler"
HANDLERS = ("SysTick_Handler", "Fault_Handler", "Default_Handler")

_NODE = re.compile(r'node: \{ title: "([^"]+)" label: "([^"]*)"')
_EDGE = re.compile(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"')
_BYTES = re.compile(r"(\d+) bytes \((static|dynamic|dynamic,bounded)\)")


def read_callgraph(files: Iterable[Path]) -> tuple[dict[str, int], dict[str, set[str]]]:
    frames: dict[str, int] = {}
    calls: dict[str, set[str]] = {}
    for f in files:
        text = f.read_text()
        for title, label in _NODE.findall(text):
            m = _BYTES.search(label)
            if m:
                frames[title] = max(frames.get(title, 0), int(m.group(1)))
        for src, dst in _EDGE.findall(text):
            calls.setdefault(src, set()).add(dst)
    return frames, calls


def deepest(fn: str, frames: dict[str, int], calls: dict[str, set[str]],
            memo: dict[str, int], active: set[str]) -> int:
    if fn in memo:
        return memo[fn]
    if fn in active:  # recursion: count the cycle once
        return 0
    active.add(fn)
    below = max((deepest(c, frames, calls, memo, active) for c in calls.get(fn, ())), default=0)
    active.discard(fn)
    memo[fn] = frames.get(fn, 0) + below
    return memo[fn]


def estimate_stack(ci_files: Iterable[Path]) -> int:
    """Bytes of stack the firmware needs at most, rounded up to 8."""
    frames, calls = read_callgraph(ci_files)
    memo: dict[str, int] = {}
    main_path = deepest(ENTRY, frames, calls, memo, set())
    handler = max(deepest(h, frames, calls, memo, set()) for h in HANDLERS)
    total = main_path + EXCEPTION_FRAME + handler + LIBRARY_ALLOWANCE
    return (total + 7) // 8 * 8
