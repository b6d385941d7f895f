"""The overlap shifts of plan.access against brute-force simulations of the kernels' read/write
orders (issue 13), and the verifier against hand-corrupted plans.

A simulation lists, in time order, every input byte a kernel reads and every output byte it writes
(`Trace`: the last time each input byte is read, the time each output byte is written). A shift D
(output D bytes below the input) is safe when no output byte lands on an input byte read after it
is written. The brute-force minimum is the smallest safe D found by trying every D; the declared
pattern's shift must be safe in every simulated order, and no larger than needed for the order it
declares (the worst case of the contract).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcuforge.errors import MfError
from mcuforge.plan.access import Stream, pixelwise, window_rows
from mcuforge.plan.buffers import Buffer
from mcuforge.plan.planner import Overlap, plan_memory, plan_with_overlaps, verify_plan


@dataclass
class Trace:
    last_read: np.ndarray  # per input byte: the last time it is read (-1: never)
    written: np.ndarray  # per output byte: the time it is written


class Recorder:
    def __init__(self, in_bytes: int, out_bytes: int) -> None:
        self.t = 0
        self.last_read = np.full(in_bytes, -1, dtype=np.int64)
        self.written = np.full(out_bytes, -1, dtype=np.int64)

    def read(self, lo: int, hi: int) -> None:
        self.t += 1
        self.last_read[lo:hi] = self.t

    def write(self, lo: int, hi: int) -> None:
        self.t += 1
        self.written[lo:hi] = self.t

    def trace(self) -> Trace:
        assert (self.written >= 0).all(), "the simulation left output bytes unwritten"
        return Trace(self.last_read, self.written)


def safe_in(trace: Trace, shift: int) -> bool:
    j = np.arange(len(trace.written))
    a = j - shift
    hit = (a >= 0) & (a < len(trace.last_read))
    return bool(np.all(trace.last_read[a[hit]] < trace.written[hit]))


def brute_min(traces: list[Trace], step: int = 1) -> int:
    shift = 0
    while not all(safe_in(t, shift) for t in traces):
        shift += step
    return shift


def pixelwise_orders(pixels: int, c_in: int, c_out: int, block: int, worst: bool) -> list[Trace]:
    """Blocks of up to `block` pixels, at every phase. `worst`: the contract's worst case, every
    pixel of the block still read after each pixel is written (more output channels to come);
    otherwise mf_nn_mat_mult_s8's order: per output channel, the block's input pixels read
    again, then that channel written for each pixel of the block."""
    traces = []
    for phase in range(block):
        rec = Recorder(pixels * c_in, pixels * c_out)
        starts = [0, *range(phase or block, pixels, block)] if pixels else []
        for lo, hi in zip(starts, [*starts[1:], pixels]):
            if worst:
                for p in range(lo, hi):
                    rec.read(lo * c_in, hi * c_in)
                    rec.write(p * c_out, (p + 1) * c_out)
                rec.read(lo * c_in, hi * c_in)
                continue
            for o in range(c_out):
                rec.read(lo * c_in, hi * c_in)
                for p in range(lo, hi):
                    rec.write(p * c_out + o, p * c_out + o + 1)
        traces.append(rec.trace())
    return traces


def window_cells(y: int, x: int, geo: dict) -> list[tuple[int, int]]:
    ih, iw, kh, kw, s, pad, dil = (geo[k] for k in ("ih", "iw", "kh", "kw", "stride", "pad", "dil"))
    cells = []
    for ky in range(kh):
        for kx in range(kw):
            iy, ix = y * s[0] - pad[0] + ky * dil[0], x * s[1] - pad[1] + kx * dil[1]
            if 0 <= iy < ih and 0 <= ix < iw:
                cells.append((iy, ix))
    return cells


def window_orders(geo: dict, block: int) -> list[Trace]:
    """Output pixels in row-major blocks of up to `block`, every phase: per channel group of four,
    the group's window taps of every pixel of the block read, then the group written for them."""
    ih, iw, oh, ow, c, co = (geo[k] for k in ("ih", "iw", "oh", "ow", "c", "co"))
    traces = []
    for phase in range(block):
        rec = Recorder(ih * iw * c, oh * ow * co)
        starts = [0, *range(phase or block, oh * ow, block)]
        for lo, hi in zip(starts, [*starts[1:], oh * ow]):
            for g in range(0, co, 4):
                for p in range(lo, hi):
                    for iy, ix in window_cells(p // ow, p % ow, geo):
                        base = (iy * iw + ix) * c
                        rec.read(base, base + c)  # any channel of the cell (conv reads them all)
                for p in range(lo, hi):
                    rec.write(p * co + g, p * co + min(g + 4, co))
        traces.append(rec.trace())
    return traces


def ring_order(geo: dict, rows_per_pass: int) -> Trace:
    """mf_depthwise_conv_rows_s8 (multiplier 1): channel groups of four outermost; per pass of
    output rows, every input row its windows need copied into a ring once (the group's channels,
    the whole row), then the pass's output rows written for the group."""
    ih, iw, oh, ow, c = (geo[k] for k in ("ih", "iw", "oh", "ow", "c"))
    kh, s, pad, dil = geo["kh"], geo["stride"][0], geo["pad"][0], geo["dil"][0]
    ring = (rows_per_pass - 1) * s + (kh - 1) * dil + 1
    rec = Recorder(ih * iw * c, oh * ow * c)
    for g in range(0, c, 4):
        slot_row = [None] * ring
        for oy in range(0, oh, rows_per_pass):
            rows = range(oy, min(oh, oy + rows_per_pass))
            for y in rows:
                for ky in range(kh):
                    iy = y * s - pad + ky * dil
                    if slot_row[iy % ring] != iy:
                        slot_row[iy % ring] = iy
                        if 0 <= iy < ih:
                            for ix in range(iw):
                                base = (iy * iw + ix) * c
                                rec.read(base + g, base + min(g + 4, c))
            for y in rows:
                for x in range(ow):
                    base = (y * ow + x) * c
                    rec.write(base + g, base + min(g + 4, c))
    return rec.trace()


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 12), st.integers(1, 6), st.integers(1, 6), st.integers(1, 4))
def test_pixelwise_shift_is_the_brute_force_minimum(pixels: int, c_in: int, c_out: int, block: int) -> None:
    stream = pixelwise(pixels, c_in, c_out, block)
    shift = stream.min_shift()
    assert all(safe_in(t, shift) for t in pixelwise_orders(pixels, c_in, c_out, block, worst=False))
    assert shift == brute_min(pixelwise_orders(pixels, c_in, c_out, block, worst=True))
    assert stream.safe(shift) and (shift == 0 or not stream.safe(shift - 1))


def geometry(draw: st.DrawFn, depthwise: bool) -> dict:
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dil = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    pad = (draw(st.integers(0, (kh - 1) * dil[0])), draw(st.integers(0, (kw - 1) * dil[1])))
    ih = draw(st.integers((kh - 1) * dil[0] + 1, 9))
    iw = draw(st.integers((kw - 1) * dil[1] + 1, 7))
    c = draw(st.integers(1, 9))
    co = c if depthwise else draw(st.integers(1, 9))
    oh = (ih + pad[0] - (kh - 1) * dil[0] - 1) // stride[0] + 1  # bottom padding as much as top
    ow = (iw + pad[1] - (kw - 1) * dil[1] - 1) // stride[1] + 1
    return {"ih": ih, "iw": iw, "kh": kh, "kw": kw, "stride": stride, "pad": pad, "dil": dil,
            "c": c, "co": co, "oh": max(oh, 1), "ow": max(ow, 1)}


@st.composite
def spatial(draw: st.DrawFn) -> dict:
    return geometry(draw, depthwise=False)


@st.composite
def depthwise(draw: st.DrawFn) -> dict:
    return geometry(draw, depthwise=True)


def stream_of(geo: dict, step: int = 1, block: int = 2) -> Stream:
    return window_rows((1, geo["ih"], geo["iw"], geo["c"]), (1, geo["oh"], geo["ow"], geo["co"]),
                       geo["stride"], geo["pad"], block, step)


@settings(max_examples=60, deadline=None)
@given(spatial())
def test_window_shift_is_safe_and_tight(geo: dict) -> None:
    stream = stream_of(geo)
    traces = window_orders(geo, 2)
    shift = stream.min_shift()
    assert all(safe_in(t, shift) for t in traces)
    # the pattern does not track the channel groups inside a pixel, nor the window cells a
    # dilation skips: within a window row and an output pixel of the brute-force minimum
    assert shift - brute_min(traces) <= 2 * geo["co"] + geo["c"] * geo["iw"] * geo["kh"] * geo["dil"][0]
    assert stream.safe(shift) and (shift == 0 or not stream.safe(shift - 1))


@settings(max_examples=60, deadline=None)
@given(depthwise(), st.integers(1, 4))
def test_depthwise_ring_kernel_is_safe_at_the_declared_shift(geo: dict, rows: int) -> None:
    """mf_depthwise_conv_rows_s8's channel-group order is safe at the declared shift (a multiple
    of C), and so are the pixel-pair orders MVE builds take for the same call."""
    stream = stream_of(geo, step=geo["c"])
    shift = stream.min_shift()
    assert shift % geo["c"] == 0
    assert safe_in(ring_order(geo, rows), shift)
    assert all(safe_in(t, shift) for t in window_orders(geo, 2))


def test_shift_not_a_multiple_of_the_channels_breaks_the_ring_kernel() -> None:
    """Why step = C: the channel-group order overwrites another group's channels otherwise, where
    the pixel orders would be safe."""
    geo = {"ih": 6, "iw": 5, "kh": 3, "kw": 3, "stride": (1, 1), "pad": (1, 1), "dil": (1, 1),
           "c": 8, "co": 8, "oh": 6, "ow": 5}
    stream = stream_of(geo, step=8)
    shift = stream.min_shift()
    assert safe_in(ring_order(geo, 2), shift)
    for odd in range(shift + 1, shift + 8):
        assert all(safe_in(t, odd) for t in window_orders(geo, 2))
        assert not safe_in(ring_order(geo, 2), odd)
        assert not stream.safe(odd)


# -- the planner and the verifier ----------------------------------------------------------------

def chain(n: int = 4, pixels: int = 64, c: int = 8) -> tuple[list[Buffer], list[Overlap]]:
    """Op i of a chain of 1x1 layers reads t_i and writes t_(i+1); t0 is the graph input, so the
    ops from 1 on may write over their input."""
    bufs = [Buffer("t0", 16, 0, 0, ["t0"])]  # a small graph input
    bufs += [Buffer(f"t{i}", pixels * c, i - 1, min(i, n - 1), [f"t{i}"]) for i in range(1, n + 1)]
    stream = pixelwise(pixels, c, c)
    ovs = [Overlap(i, f"t{i}", f"t{i + 1}", stream.min_shift(16), stream) for i in range(1, n)]
    return bufs, ovs


def test_planner_places_an_overlap_chain_and_its_lower_bound() -> None:
    bufs, ovs = chain()
    plan = plan_with_overlaps(bufs, 16, "best-fit", ovs)
    plain = plan_memory(bufs, 16)
    assert plan.arena_bytes < plain.arena_bytes == plan.arena_no_overlap_bytes
    assert plan.lower_bound_bytes <= plan.arena_bytes
    for ov in plan.overlaps:
        assert plan.offsets[ov.input] - plan.offsets[ov.output] == ov.shift
    verify_plan(plan)
    # deterministic
    again = plan_with_overlaps(bufs, 16, "best-fit", ovs)
    assert again.offsets == plan.offsets and again.overlaps == plan.overlaps


def test_verifier_rejects_a_shift_one_pixel_too_small() -> None:
    bufs, ovs = chain()
    plan = plan_with_overlaps(bufs, 16, "best-fit", ovs)
    ov = plan.overlaps[0]
    bad = replace(plan, offsets={**plan.offsets, ov.output: plan.offsets[ov.output] + 16})
    with pytest.raises(MfError, match=r"op \d+: output t\d starts \d+ bytes below input t\d.*at least") as e:
        verify_plan(bad)
    assert "\n" not in str(e.value)


def test_verifier_rejects_an_undeclared_overlap() -> None:
    bufs, ovs = chain()
    plan = plan_with_overlaps(bufs, 16, "best-fit", ovs)
    assert plan.overlaps
    bad = replace(plan, overlaps=plan.overlaps[1:])
    with pytest.raises(MfError, match=r"overlap while both live, and no overlap .* is declared") as e:
        verify_plan(bad)
    assert "\n" not in str(e.value)


def test_verifier_rejects_an_overlap_whose_input_lives_on() -> None:
    bufs, ovs = chain()
    plan = plan_with_overlaps(bufs, 16, "best-fit", ovs)
    ov = plan.overlaps[0]
    longer = [replace(b, last=b.last + 1) if b.name == ov.input else b for b in plan.buffers]
    with pytest.raises(MfError, match="must die"):
        verify_plan(replace(plan, buffers=longer))
