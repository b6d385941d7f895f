"""The benchmark's Markdown: a summary over boards with the ratios to TFLite Micro + CMSIS-NN, the
issue-12 targets, one table per board, instructions per MAC by layer class, sequence models, and
each model's costliest layers. `rows` are bench.measure.bench_model's results."""

from __future__ import annotations

from collections import defaultdict

from mcuforge.bench.anchors import TARGET_RATIO, XCUBE_M4_CYCLES, Anchor, anchor, method
from mcuforge.bench.measure import M4_LAYER_TARGETS

TOP_LAYERS = 5
M4 = "mps2-an386"


def _m(n: float) -> str:
    return f"{n / 1e6:.2f} M"


def _tflm(row: dict, board: str) -> Anchor | None:
    return anchor(row["key"], board) if row.get("key") else None


def _ratio(row: dict, board: str) -> float | None:
    a = _tflm(row, board)
    if a is None or not a.instructions:
        return None
    return row["boards"][board]["instructions"][0] / a.instructions


def _table(head: list[str], body: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return lines + ["| " + " | ".join(r) + " |" for r in body]


def summary(rows: list[dict], boards: list[str]) -> list[str]:
    """Instructions per inference on every board; `(0.79x)` after a count is its ratio to TFLite
    Micro + CMSIS-NN's count on that board."""
    body = []
    for r in rows:
        cells = [r["model"], f"{r['macs']:,}"]
        for b in boards:
            d = r["boards"][b]
            ratio = _ratio(r, b)
            cells.append(_m(d["instructions"][0]) + (f" ({ratio:.2f}x)" if ratio else "")
                         + ("" if d["bit_exact"] else " NOT bit-exact"))
        body.append(cells)
    return _table(["model", "MACs", *boards], body)


def targets(rows: list[dict], boards: list[str]) -> list[str]:
    """Issue 12's targets where a reference exists: the ratio to TFLite Micro + CMSIS-NN per board,
    and on the Cortex-M4 X-CUBE-AI's silicon cycles (an upper bound on its instructions)."""
    body = []
    for r in rows:
        for b in boards:
            ratio, target = _ratio(r, b), TARGET_RATIO.get(b)
            if ratio is None or target is None:
                continue
            n = r["boards"][b]["instructions"][0]
            tflm = _tflm(r, b)
            assert tflm is not None and tflm.instructions
            verdict = "met" if ratio <= target else f"missed by {ratio / target:.2f}x"
            body.append([r["model"], b, f"{n:,}", f"TFLM+CMSIS-NN {tflm.instructions:,}", f"{ratio:.2f}",
                         f"<= {target:.2f}", verdict])
            if b == M4 and r["key"] in XCUBE_M4_CYCLES:
                cycles = XCUBE_M4_CYCLES[r["key"]]
                body.append([r["model"], b, f"{n:,}", f"X-CUBE-AI {cycles:,.0f} cycles", f"{n / cycles:.2f}",
                             "< 1.00", "met" if n < cycles else f"missed by {n / cycles:.2f}x"])
                est = r["boards"][b].get("cycles_estimate")
                if est:
                    c = est["cycles"]
                    body.append([r["model"], b, f"{c:,} cycles (est.)", f"X-CUBE-AI {cycles:,.0f} cycles",
                                 f"{c / cycles:.2f}", "< 1.00",
                                 "met" if c < cycles else f"missed by {c / cycles:.2f}x"])
    head = ["model", "board", "mcuforge instr", "reference", "ratio", "target", ""]
    return _table(head, body) if body else []


def board_table(rows: list[dict], board: str) -> list[str]:
    body = []
    for r in rows:
        d = r["boards"][board]
        a = _tflm(r, board)
        n = d["instructions"][0]
        tflm_n = f"{a.instructions:,}" if a and a.instructions else (a.note[:60] if a else "")
        tflm_mac = f"{a.instructions / r['macs']:.2f}" if a and a.instructions and r["macs"] else ""
        ratio = _ratio(r, board)
        per_mac = f"{d['instructions_per_mac']:.2f}" if r["macs"] else ""
        est = d.get("cycles_estimate")
        body.append([r["model"], f"{r['macs']:,}", f"{n:,}", per_mac,
                     f"{est['cycles']:,} ({est['cpi']:.2f})" if est else "", tflm_n,
                     tflm_mac, f"{ratio:.2f}" if ratio else "", f"{d.get('arena_bytes', r['arena_bytes']):,}",
                     f"{a.arena:,}" if a and a.arena else "", f"{d['stack_estimate_bytes']:,}",
                     f"{d['flash_bytes']:,}", f"{r['weights_bytes']:,}"])
    return _table(["model", "MACs", "instr", "instr/MAC", "cycles est. (CPI)", "TFLM instr", "TFLM instr/MAC",
                   "ratio", "arena", "TFLM arena", "stack", "flash", "weights"], body)


def layer_classes(rows: list[dict], board: str) -> list[str]:
    """Instructions per MAC summed over every layer of a class, and the class's worst layer."""
    total: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    worst: dict[str, tuple[float, str]] = {}
    for r in rows:
        for layer in r["boards"][board]["layers"]:
            if not layer["macs"]:
                continue
            c, per = layer["class"], layer["instructions"] / layer["macs"]
            t = total[c]
            t[0], t[1], t[2] = t[0] + 1, t[1] + layer["macs"], t[2] + layer["instructions"]
            if per > worst.get(c, (-1.0, ""))[0]:
                worst[c] = (per, f"{per:.2f} ({r['model']} #{layer['index']})")
    body = [[c, str(n), f"{macs:,}", f"{instr / macs:.2f}", worst[c][1],
             f"{M4_LAYER_TARGETS[c]:.1f}" if board == M4 and c in M4_LAYER_TARGETS else ""]
            for c, (n, macs, instr) in sorted(total.items(), key=lambda kv: -kv[1][2])]
    return _table(["layer class", "layers", "MACs", "instr/MAC", "worst layer instr/MAC", "M4 target"], body)


def sequence_table(rows: list[dict], boards: list[str]) -> list[str]:
    """Markdown lines for the sequence models: instructions per inference and per time step
    (first sample: a stateful model's later samples continue its stream), and state RAM."""
    seq = [r for r in rows if r.get("time_steps")]
    if not seq:
        return []
    out = ["", "## Sequence models", "",
           "Per time step = per inference / time steps one inference runs (an LSTM's sequence "
           "length; 1 for an SVDF, fed one frame per call). State = the persistent buffer outside "
           "the arena (SVDF memory, LSTM hidden and cell state), kept between calls.", ""]
    head = ["model", "time steps", "state", "arena", *(f"{b} {k}" for b in boards
                                                       for k in ("instr/inference", "instr/step"))]
    body = []
    for r in seq:
        cells = [r["model"], str(r["time_steps"]), f"{r['state_bytes']:,} B", f"{r['arena_bytes']:,} B"]
        for b in boards:
            d = r["boards"][b]
            cells += [f"{d['instructions'][0]:,}", f"{d['instructions_per_step'][0]:,.0f}"]
        body.append(cells)
    return out + _table(head, body)


def top_layers(rows: list[dict], board: str) -> list[str]:
    out = [f"## Top {TOP_LAYERS} layers by instructions ({board})", ""]
    for r in rows:
        d = r["boards"][board]
        total = d["instructions"][0]
        body = [[str(x["index"]), f"{x['kind']} {x['name'][:40]}", x["kernel"], x["class"], f"{x['macs']:,}",
                 f"{x['instructions']:,}", f"{100 * x['instructions'] / max(total, 1):.1f}%",
                 f"{x['instructions'] / x['macs']:.2f}" if x["macs"] else ""]
                for x in sorted(d["layers"], key=lambda x: -x["instructions"])[:TOP_LAYERS]]
        out += [f"**{r['model']}** ({_m(total)} instructions)", "",
                *_table(["#", "op", "kernel", "class", "MACs", "instructions", "share", "instr/MAC"], body),
                ""]
    return out


def markdown(rows: list[dict], boards: list[str]) -> str:
    out = ["# mcuforge benchmark", "",
           "Instructions per inference under QEMU with `-icount shift=0` (one instruction per virtual "
           "nanosecond), read from the board's counter around the inference and each layer; resolution "
           "one counter tick (40 instructions at 25 MHz). Flash = .text + .rodata + .data of the ELF "
           "(harness, runtime, model, weights and one embedded test vector); stack = the static estimate "
           "from the compiler's stack-usage files. TFLM = TensorFlow Lite Micro + CMSIS-NN measured the "
           f"same way: {method() or 'no reference file (../shared/models/tflm_reference.json) found'}. "
           "Cycles (est.), Cortex-M3/M4 only: the inference's executed instructions from a QEMU trace "
           "weighted by the core's documented timings with zero-wait-state memory "
           "(mcuforge.firmware.cycles), CPI = cycles per instruction.", "",
           "## All boards", "", *summary(rows, boards), ""]
    t = targets(rows, boards)
    if t:
        out += ["## Issue 12 targets", "", *t, ""]
    for b in boards:
        out += [f"## {b}", "", *board_table(rows, b), "", f"Instructions per MAC by layer class ({b}):", "",
                *layer_classes(rows, b), ""]
    out += sequence_table(rows, boards)
    out += ["", *top_layers(rows, boards[0])]
    return "\n".join(out)
