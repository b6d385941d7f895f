"""Delta debugging (Zeller's ddmin) over a failing spec's nodes: the fewest nodes that still
fail with the same outcome and reason. Removing a node rewires its consumers to its first input;
subsets that no longer fit their shapes count as passing."""

from __future__ import annotations

import time
from collections.abc import Callable

from mcuforge.fuzz.generate import remove_nodes
from mcuforge.fuzz.spec import ModelSpec

Test = Callable[[ModelSpec], bool]  # True: still fails the same way


def minimize(spec: ModelSpec, fails: Test, budget_s: float = 120.0, max_tests: int = 40) -> ModelSpec:
    deadline = time.monotonic() + budget_s
    tests = 0
    best = spec
    n = 2
    while len(best.nodes) > 1 and time.monotonic() < deadline and tests < max_tests:
        size = len(best.nodes)
        chunk = max(1, size // n)
        chunks = [list(range(i, min(i + chunk, size))) for i in range(0, size, chunk)]
        reduced = False
        for c in chunks:  # try removing each chunk (ddmin's complement step)
            cand = remove_nodes(best, c)
            if cand is None:
                continue
            tests += 1
            if fails(cand):
                best, n, reduced = cand, max(n - 1, 2), True
                break
            if time.monotonic() >= deadline or tests >= max_tests:
                break
        if not reduced:
            if chunk == 1:
                break
            n = min(size, n * 2)
    return best
