"""Offset assignment: one arena, every buffer at a fixed, aligned offset.

Two algorithms behind one interface (`Algorithm`: buffers, alignment -> offsets):

* `greedy_by_size` is TensorFlow Lite Micro's planner: buffers in decreasing size, each placed at
  the lowest offset where it does not collide with an already placed buffer that is live at the
  same time. It is the baseline we report against.
* `best_fit` tries several orderings (size, lifetime length, size x lifetime, start time) and for
  each buffer picks, among the gaps it fits in, the one that wastes least; the best arena of all
  orderings wins. It is never worse than greedy-by-size, because that ordering is one of them.

Ties break on buffer name, so the plan is deterministic. The lower bound is the largest sum of the
aligned sizes of buffers live at one step: no plan for this schedule can use less. `verify_plan`
proves that no two buffers live at the same time share a byte; it runs on every plan.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mcuforge.plan.buffers import Buffer

Algorithm = Callable[[Sequence[Buffer], int], dict[str, int]]


def align_up(n: int, alignment: int) -> int:
    return -(-n // alignment) * alignment


@dataclass
class MemoryPlan:
    offsets: dict[str, int]  # buffer name -> byte offset
    buffers: list[Buffer]
    arena_bytes: int
    lower_bound_bytes: int
    alignment: int
    algorithm: str

    def offset_of_tensor(self) -> dict[str, int]:
        return {t: self.offsets[b.name] for b in self.buffers for t in b.tensors}

    @property
    def ratio(self) -> float:
        return self.arena_bytes / self.lower_bound_bytes if self.lower_bound_bytes else 1.0


def _place(buffers: Sequence[Buffer], alignment: int, best: bool) -> dict[str, int]:
    offsets: dict[str, int] = {}
    placed: list[Buffer] = []
    for buf in buffers:
        size = align_up(buf.size, alignment)
        busy = sorted(
            (offsets[p.name], offsets[p.name] + align_up(p.size, alignment))
            for p in placed if p.overlaps_in_time(buf)
        )
        candidates: list[tuple[int, int]] = []  # (waste, offset)
        cursor = 0
        for start, end in busy:
            if start - cursor >= size:
                candidates.append((start - cursor - size, cursor))
            cursor = max(cursor, end)
        candidates.append((1 << 62, cursor))  # the open space above everything
        offsets[buf.name] = min(candidates)[1] if best else candidates[0][1]
        placed.append(buf)
    return offsets


def greedy_by_size(buffers: Sequence[Buffer], alignment: int) -> dict[str, int]:
    order = sorted(buffers, key=lambda b: (-align_up(b.size, alignment), b.name))
    return _place(order, alignment, best=False)


ORDERINGS: dict[str, Callable[[Buffer], tuple]] = {
    "size": lambda b: (-b.size, b.first, b.name),
    "lifetime": lambda b: (-(b.last - b.first), -b.size, b.name),
    "area": lambda b: (-b.size * (b.last - b.first + 1), b.name),
    "start": lambda b: (b.first, -b.size, b.name),
}


def best_fit(buffers: Sequence[Buffer], alignment: int) -> dict[str, int]:
    best: dict[str, int] | None = None
    best_size = 0
    for key in ORDERINGS.values():
        for fit in (True, False):
            offsets = _place(sorted(buffers, key=key), alignment, best=fit)
            size = arena_size(buffers, offsets, alignment)
            if best is None or size < best_size:
                best, best_size = offsets, size
    assert best is not None or not buffers
    return best or {}


ALGORITHMS: dict[str, Algorithm] = {"greedy": greedy_by_size, "best-fit": best_fit}


def arena_size(buffers: Sequence[Buffer], offsets: dict[str, int], alignment: int) -> int:
    return max((offsets[b.name] + align_up(b.size, alignment) for b in buffers), default=0)


def lower_bound(buffers: Sequence[Buffer], alignment: int) -> int:
    steps = {b.first for b in buffers}
    return max(
        (sum(align_up(b.size, alignment) for b in buffers if b.first <= s <= b.last) for s in steps),
        default=0,
    )


class PlanError(Exception):
    """Two live buffers overlap: a planner bug."""


def verify_plan(plan: MemoryPlan) -> None:
    bufs = sorted(plan.buffers, key=lambda b: plan.offsets[b.name])
    for i, a in enumerate(bufs):
        a_lo = plan.offsets[a.name]
        a_hi = a_lo + a.size
        if a_lo % plan.alignment:
            raise PlanError(f"buffer {a.name} at {a_lo} is not {plan.alignment}-byte aligned")
        if a_hi > plan.arena_bytes:
            raise PlanError(f"buffer {a.name} ends at {a_hi}, past the arena ({plan.arena_bytes})")
        for b in bufs[i + 1:]:
            b_lo = plan.offsets[b.name]
            if b_lo >= a_hi:
                break
            if a.overlaps_in_time(b):
                raise PlanError(
                    f"buffers {a.name} [{a_lo}, {a_hi}) and {b.name} at {b_lo} overlap while both live"
                )


def plan_memory(buffers: Sequence[Buffer], alignment: int = 16, algorithm: str = "best-fit") -> MemoryPlan:
    if alignment <= 0 or alignment & (alignment - 1):
        raise ValueError(f"alignment must be a power of two, got {alignment}")
    offsets = ALGORITHMS[algorithm](buffers, alignment)
    plan = MemoryPlan(
        offsets=offsets, buffers=list(buffers),
        arena_bytes=arena_size(buffers, offsets, alignment),
        lower_bound_bytes=lower_bound(buffers, alignment),
        alignment=alignment, algorithm=algorithm,
    )
    verify_plan(plan)
    return plan
