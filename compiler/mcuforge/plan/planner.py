"""Offset assignment: one arena, every buffer at a fixed, aligned offset.

Two algorithms behind one interface (`Algorithm`: buffers, alignment -> offsets):

* `greedy_by_size` is TensorFlow Lite Micro's planner: buffers in decreasing size, each placed at
  the lowest offset where it does not collide with an already placed buffer that is live at the
  same time. It is the baseline we report against.
* `best_fit` tries several orderings (size, lifetime length, size x lifetime, start time) and for
  each buffer picks, among the gaps it fits in, the one that wastes least; the best arena of all
  orderings wins. It is never worse than greedy-by-size, because that ordering is one of them.

Overlaps (issue 13): an `Overlap` lets op `op`'s output buffer start `shift` bytes below its
input buffer, which dies at that op (plan.access: the shift comes from the kernel's declared access
pattern). The planner places such pairs, and chains of them, as one group with fixed relative
offsets: the group goes at the lowest base where none of its members collides with a placed buffer
live at the same time.

Ties break on buffer name, so the plan is deterministic. The lower bound is the largest sum of the
aligned sizes of buffers live at one step (an overlapping pair counts its span, input and output at
their shift): no plan for these buffers and overlaps can use less. `verify_plan` proves that no two
buffers live at the same time share a byte, except a declared overlap whose actual shift its access
pattern allows (no input byte overwritten before its last read); it runs on every plan.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from mcuforge.errors import MfError
from mcuforge.plan.access import Stream
from mcuforge.plan.buffers import Buffer


def align_up(n: int, alignment: int) -> int:
    return -(-n // alignment) * alignment


@dataclass(frozen=True)
class Overlap:
    """Op `op` may write its output buffer `output` starting `shift` bytes below its input buffer
    `input` (which no later op reads): `stream` is the kernel's declared access pattern."""

    op: int
    input: str
    output: str
    shift: int
    stream: Stream

    def span(self, alignment: int) -> int:
        return max(self.shift + align_up(self.stream.in_bytes, alignment),
                   align_up(self.stream.out_bytes, alignment))


Algorithm = Callable[[Sequence[Buffer], int, Sequence[Overlap]], dict[str, int]]


@dataclass
class MemoryPlan:
    offsets: dict[str, int]  # buffer name -> byte offset
    buffers: list[Buffer]
    arena_bytes: int
    lower_bound_bytes: int
    alignment: int
    algorithm: str
    overlaps: list[Overlap] = field(default_factory=list)
    arena_no_overlap_bytes: int | None = None  # the same buffers planned without overlaps

    def offset_of_tensor(self) -> dict[str, int]:
        return {t: self.offsets[b.name] for b in self.buffers for t in b.tensors}

    @property
    def ratio(self) -> float:
        return self.arena_bytes / self.lower_bound_bytes if self.lower_bound_bytes else 1.0


def groups_of(overlaps: Sequence[Overlap]) -> dict[str, dict[str, int]]:
    """Each buffer of an overlap -> its group: every member's offset relative to the group's base
    (output = input - shift), the lowest at 0. Buffers in no overlap are in no group."""
    rel: dict[str, dict[str, int]] = {}
    for ov in sorted(overlaps, key=lambda o: o.op):
        a = rel.get(ov.input)
        b = rel.get(ov.output)
        if a is None and b is None:
            g = {ov.input: ov.shift, ov.output: 0}
        elif b is None:
            assert a is not None
            g = a
            g[ov.output] = g[ov.input] - ov.shift
        elif a is None:
            g = b
            g[ov.input] = g[ov.output] + ov.shift
        else:
            if a is b:
                raise PlanError(f"overlaps form a cycle through buffer {ov.input}")
            move = a[ov.input] - ov.shift - b[ov.output]  # b's members shift by this
            g = a
            for name, off in b.items():
                g[name] = off + move
        low = min(g.values())
        for name in g:
            g[name] -= low
            rel[name] = g
    return rel


def _place(buffers: Sequence[Buffer], alignment: int, best: bool,
           overlaps: Sequence[Overlap] = ()) -> dict[str, int]:
    offsets: dict[str, int] = {}
    placed: list[Buffer] = []
    groups = groups_of(overlaps)
    by_name = {b.name: b for b in buffers}
    for buf in buffers:
        if buf.name in offsets:
            continue
        group = groups.get(buf.name)
        if group is not None:
            members = [(by_name[n], off) for n, off in sorted(group.items())]
            base = _group_base(members, placed, offsets, alignment, best)
            for member, off in members:
                offsets[member.name] = base + off
                placed.append(member)
            continue
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


def _group_base(members: list[tuple[Buffer, int]], placed: list[Buffer], offsets: dict[str, int],
                alignment: int, best: bool) -> int:
    """A base at which every member (at base + its relative offset) misses every placed buffer
    live at the same time as it: the lowest (first fit), or the one whose highest member ends
    lowest, then the lowest (best fit)."""
    busy = [[(offsets[p.name], offsets[p.name] + align_up(p.size, alignment))
             for p in placed if p.overlaps_in_time(m)] for m, _ in members]
    bases = {0} | {end - off for (_, off), spans in zip(members, busy) for _, end in spans}
    top = max(off + align_up(m.size, alignment) for m, off in members)
    fits = [base for base in sorted(b for b in bases if b >= 0)
            if all(base + off + align_up(m.size, alignment) <= lo or hi <= base + off
                   for (m, off), spans in zip(members, busy) for lo, hi in spans)]
    assert fits, "above every placed buffer is free"
    if not best:
        return fits[0]
    occupied = max((hi for spans in busy for _, hi in spans), default=0)
    return min(fits, key=lambda b: (max(b + top, occupied), b))


def greedy_by_size(buffers: Sequence[Buffer], alignment: int,
                   overlaps: Sequence[Overlap] = ()) -> dict[str, int]:
    order = sorted(buffers, key=lambda b: (-align_up(b.size, alignment), b.name))
    return _place(order, alignment, False, overlaps)


ORDERINGS: dict[str, Callable[[Buffer], tuple]] = {
    "size": lambda b: (-b.size, b.first, b.name),
    "lifetime": lambda b: (-(b.last - b.first), -b.size, b.name),
    "area": lambda b: (-b.size * (b.last - b.first + 1), b.name),
    "start": lambda b: (b.first, -b.size, b.name),
}


def best_fit(buffers: Sequence[Buffer], alignment: int,
             overlaps: Sequence[Overlap] = ()) -> dict[str, int]:
    best: dict[str, int] | None = None
    best_size = 0
    for key in ORDERINGS.values():
        for fit in (True, False):
            offsets = _place(sorted(buffers, key=key), alignment, fit, overlaps)
            size = arena_size(buffers, offsets, alignment)
            if best is None or size < best_size:
                best, best_size = offsets, size
    assert best is not None or not buffers
    return best or {}


ALGORITHMS: dict[str, Algorithm] = {"greedy": greedy_by_size, "best-fit": best_fit}


def arena_size(buffers: Sequence[Buffer], offsets: dict[str, int], alignment: int) -> int:
    return max((offsets[b.name] + align_up(b.size, alignment) for b in buffers), default=0)


def lower_bound(buffers: Sequence[Buffer], alignment: int, overlaps: Sequence[Overlap] = ()) -> int:
    """The largest sum of aligned sizes live at one step, an overlapping pair counted as its span
    at that op."""
    steps = {b.first for b in buffers}
    saved: dict[int, int] = {}
    size = {b.name: align_up(b.size, alignment) for b in buffers}
    for ov in overlaps:
        saved[ov.op] = saved.get(ov.op, 0) + size[ov.input] + size[ov.output] - ov.span(alignment)
    return max(
        (sum(align_up(b.size, alignment) for b in buffers if b.first <= s <= b.last) - saved.get(s, 0)
         for s in steps),
        default=0,
    )


class PlanError(MfError):
    """Two live buffers share bytes without a declared, safe overlap: a planner bug (or a corrupted
    plan)."""


def verify_plan(plan: MemoryPlan) -> None:
    declared = {frozenset((ov.input, ov.output)): ov for ov in plan.overlaps}
    by_name = {b.name: b for b in plan.buffers}
    for ov in plan.overlaps:
        a, b = by_name.get(ov.input), by_name.get(ov.output)
        if a is None or b is None or a.last != ov.op or b.first != ov.op:
            raise PlanError(f"overlap at op {ov.op}: {ov.input} must die and {ov.output} be born at that op")
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
            if not a.overlaps_in_time(b):
                continue
            ov = declared.get(frozenset((a.name, b.name)))
            if ov is None:
                raise PlanError(
                    f"buffers {a.name} [{a_lo}, {a_hi}) and {b.name} at {b_lo} overlap while both live, "
                    "and no overlap of an output over its input is declared between them"
                )
            _check_overlap(plan, ov)


def _check_overlap(plan: MemoryPlan, ov: Overlap) -> None:
    """The output at its planned place overwrites no input byte before the kernel's last read of it
    (ov.stream's closed form, checked at every output pixel)."""
    shift = plan.offsets[ov.input] - plan.offsets[ov.output]
    if not ov.stream.safe(shift):
        need = ov.stream.min_shift()
        raise PlanError(
            f"op {ov.op}: output {ov.output} starts {shift} bytes below input {ov.input}, but its "
            f"access pattern '{ov.stream.pattern}' overwrites input bytes before their last read "
            f"unless the shift is at least {need} (a multiple of {ov.stream.step})"
        )


def plan_memory(buffers: Sequence[Buffer], alignment: int = 16, algorithm: str = "best-fit",
                overlaps: Sequence[Overlap] = ()) -> MemoryPlan:
    """The plan of `buffers` with `overlaps` (all of them used), verified."""
    if alignment <= 0 or alignment & (alignment - 1):
        raise ValueError(f"alignment must be a power of two, got {alignment}")
    offsets = ALGORITHMS[algorithm](buffers, alignment, overlaps)
    plan = MemoryPlan(
        offsets=offsets, buffers=list(buffers),
        arena_bytes=arena_size(buffers, offsets, alignment),
        lower_bound_bytes=lower_bound(buffers, alignment, overlaps),
        alignment=alignment, algorithm=algorithm, overlaps=list(overlaps),
    )
    verify_plan(plan)
    return plan


def plan_with_overlaps(buffers: Sequence[Buffer], alignment: int = 16, algorithm: str = "best-fit",
                       candidates: Sequence[Overlap] = (), max_plans: int = 64) -> MemoryPlan:
    """The plan of the overlaps that pay. An overlap chain shifts every later output further
    down, so taking all of them can cost more than it saves, and a chain of equal layers only
    shrinks the arena when all of them overlap; so three greedy searches, the smallest arena
    winning (ties: the fewest overlaps, then the plan without any): all candidates, then each
    dropped in op order where that does not grow the arena; and from none, candidates in
    decreasing bytes saved at their op, each kept if the arena shrinks, over passes until none
    is added. At most `max_plans` plans per search. `arena_no_overlap_bytes` is set."""
    plain = plan_memory(buffers, alignment, algorithm)
    plain.arena_no_overlap_bytes = plain.arena_bytes
    if not candidates:
        return plain
    size = {b.name: align_up(b.size, alignment) for b in buffers}
    by_op = sorted(candidates, key=lambda o: o.op)
    by_gain = sorted(candidates, key=lambda o: (o.span(alignment) - size[o.input] - size[o.output], o.op))
    results = [plain]

    kept = list(by_op)  # all, then pruned
    plan = plan_memory(buffers, alignment, algorithm, kept)
    for ov in by_op[:max_plans]:
        trial = [o for o in kept if o is not ov]
        other = plan_memory(buffers, alignment, algorithm, trial)
        if other.arena_bytes <= plan.arena_bytes:
            kept, plan = trial, other
    results.append(plan)

    plan, kept, tries, changed = plain, [], 0, True  # none, then grown
    while changed and tries < max_plans:
        changed = False
        for ov in by_gain:
            if ov in kept or tries >= max_plans:
                continue
            tries += 1
            trial = sorted([*kept, ov], key=lambda o: o.op)
            other = plan_memory(buffers, alignment, algorithm, trial)
            if other.arena_bytes < plan.arena_bytes:
                plan, kept, changed = other, trial, True
    results.append(plan)
    best = min(results, key=lambda p: (p.arena_bytes, len(p.overlaps)))
    best.arena_no_overlap_bytes = plain.arena_bytes
    return best
