"""report.html: the compile report (report.json) as one self-contained page for a browser. No
script, no network, no external style: tables and inline SVG drawn here from the report's figures.

Sections: the model summary; every layer (op, kernel, shapes, MACs, arena offsets, scratch, flash,
the quantized output's SQNR against float, and instructions per layer when a profiled run on a
board added them); the memory timeline (each arena buffer a bar over the op schedule at its arena
offset, the peak marked); flash by kind and by layer; RAM with the stack; and `mcuforge validate`'s
figures when it ran. Every text that came from the model (op and tensor names, the source path) is
HTML-escaped.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from mcuforge.errors import MfError

STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d2330;max-width:1400px}
h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #d0d4dc}
table{border-collapse:collapse;margin:8px 0}td,th{padding:3px 8px;border-bottom:1px solid #e4e7ec;
text-align:right;white-space:nowrap}th{background:#f2f4f7}td.l,th.l{text-align:left}
.cards{display:flex;flex-wrap:wrap;gap:12px}.card{border:1px solid #d0d4dc;border-radius:6px;
padding:8px 14px}.card b{display:block;font-size:18px}.note{color:#5b6270}
.name{max-width:240px;overflow:hidden;text-overflow:ellipsis}svg text{font:11px sans-serif}
"""
COLORS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7",
          "#9c755f", "#bab0ac")
KIND_COLORS = {"weights": "#4e79a7", "biases": "#f28e2b", "requantization": "#59a14f", "tables": "#b07aa1",
               "operands": "#9c755f"}


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _n(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else ("" if value is None else _e(value))


def _shape(shapes: list[list[int]]) -> str:
    return " ".join("x".join(str(d) for d in s) for s in shapes)


def _table(head: list[str], rows: list[list[str]], left: frozenset[int] = frozenset()) -> str:
    """`rows` hold HTML already escaped; columns in `left` align left."""
    def cls(i: int) -> str:
        return ' class="l"' if i in left else ""

    out = ["<table><tr>", *(f"<th{cls(i)}>{_e(h)}</th>" for i, h in enumerate(head)), "</tr>"]
    for row in rows:
        out += ["<tr>", *(f"<td{cls(i)}>{c}</td>" for i, c in enumerate(row)), "</tr>"]
    return "".join(out) + "</table>"


def _cards(items: list[tuple[str, str]]) -> str:
    cards = "".join(f'<div class="card">{_e(k)}<b>{v}</b></div>' for k, v in items)
    return f'<div class="cards">{cards}</div>'


def summary(r: dict) -> str:
    fw = r.get("firmware") or {}
    items = [("ops", _n(len(r["ops"]))), ("MACs", _n(r["macs"])), ("arena", f"{_n(r['arena_bytes'])} B"),
             ("arena lower bound", f"{_n(r['arena_lower_bound_bytes'])} B"),
             ("best op order's peak", f"{_n(r.get('best_order_peak_bytes'))} B"),
             ("weights and tables", f"{_n(r['weights_bytes'])} B")]
    if r.get("state_bytes"):
        items.append(("persistent state", f"{_n(r['state_bytes'])} B"))
    if fw:
        items += [("board", _e(fw["board"])), ("flash", f"{_n(fw['flash_bytes'])} B"),
                  ("stack (estimate)", f"{_n(fw['stack_estimate_bytes'])} B")]
    ins = ", ".join(f"{_e(k)} {_shape([v])}" for k, v in r["inputs"].items())
    outs = ", ".join(f"{_e(k)} {_shape([v])}" for k, v in r["outputs"].items())
    return (_cards(items) + f'<p class="note">source {_e(r["source"])}; inputs {ins}; outputs {outs}; '
            f'planner {_e(r["planner"])}, alignment {r["alignment"]} B</p>')


def layers(r: dict) -> str:
    sqnr = {e["tensor"]: e["sqnr_db"] for e in (r.get("accuracy") or {}).get("layers", [])}
    profile = r.get("profile") or {}
    counts = {int(k): v for k, v in (profile.get("layers") or {}).items()}
    head = ["#", "op", "kind", "kernel", "in", "out", "MACs", "in offset", "out offset", "out bytes",
            "scratch", "flash", "SQNR dB"] + (["instructions", "instr/MAC"] if counts else [])
    rows = []
    for op in r["ops"]:
        db = next((sqnr[t] for t in op.get("output_names", []) if t in sqnr), None)
        scratch = f"{op['scratch_bytes']:,} @ {op['scratch_offset']:,}" if op["scratch_bytes"] else ""
        name = f'<div class="name" title="{_e(op["name"])}">{_e(op["name"])}</div>'
        row = [str(op["index"]), name, _e(op["kind"]), _e(op["kernel"]), _shape(op["inputs"]),
               _shape(op["outputs"]), _n(op["macs"]),
               " ".join(_n(x) for x in op["input_offsets"]), " ".join(_n(x) for x in op["output_offsets"]),
               _n(op["output_bytes"]), scratch, _n(sum((op.get("const_bytes") or {}).values())),
               "" if db is None else f"{db:.1f}"]
        if counts:
            n = counts.get(op["index"])
            row += [_n(n), f"{n / op['macs']:.2f}" if n and op["macs"] else ""]
        rows.append(row)
    note = (f'<p class="note">instructions: a profiled run on {_e(profile.get("board"))} under QEMU '
            f'(-icount), {_n(profile.get("instructions"))} per inference</p>' if counts else "")
    return note + _table(head, rows, left=frozenset({1, 2, 3, 4, 5}))


def _covered(spans: list[tuple[int, int]]) -> int:
    """Bytes covered by the union of [start, end) spans (an output over its input counts once)."""
    total, reach = 0, 0
    for start, end in sorted(spans):
        start = max(start, reach)
        if end > start:
            total += end - start
        reach = max(reach, end)
    return total


def peak(r: dict) -> tuple[int, int]:
    """(op index, live arena bytes) where the live buffers cover the most arena bytes."""
    n = max(len(r["ops"]), 1)
    live = [_covered([(b["offset"], b["offset"] + b["bytes"]) for b in r.get("buffers", [])
                      if b["first"] <= i <= b["last"]]) for i in range(n)]
    i = max(range(n), key=live.__getitem__)
    return i, live[i]


def overlaps(r: dict) -> str:
    """The outputs placed over the inputs they replace (issue 13), and what each saves."""
    pairs = r.get("overlaps") or []
    if not pairs:
        return ""
    rows = [[str(o["op"]), _e(o["op_name"][:60]), _e(o["pattern"]), _n(o["shift_bytes"]),
             _n(o["shared_bytes"]), _n(o["saved_bytes"])] for o in pairs]
    return (f'<p class="note">Outputs written over the inputs they replace, each shifted down by the bytes '
            f'the kernel\'s access pattern needs so that no input byte is overwritten before it is read '
            f'(verified on every compile): arena {r["arena_bytes"]:,} B, '
            f'{r.get("arena_no_overlap_bytes", 0):,} B without (--no-overlap).</p>'
            + _table(["op", "name", "pattern", "shift", "shared bytes", "saved bytes"], rows,
                     left=frozenset({1, 2})))


def timeline(r: dict) -> str:
    """An SVG: x = the op schedule, y = arena offset (0 at the top); a bar per buffer."""
    buffers, arena = r.get("buffers", []), max(r["arena_bytes"], 1)
    n = max(len(r["ops"]), 1)
    width, height, left, top = 1000, 380, 70, 10
    sx, sy = (width - left - 10) / n, (height - top - 30) / arena
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="arena timeline">',
             f'<rect x="{left}" y="{top}" width="{n * sx:.1f}" height="{arena * sy:.1f}" fill="#f7f8fa" '
             'stroke="#c0c4cc"/>']
    i_peak, live = peak(r)
    parts.append(f'<rect x="{left + i_peak * sx:.1f}" y="{top}" width="{sx:.1f}" '
                 f'height="{arena * sy:.1f}" fill="#e15759" opacity="0.12"/>')
    for k, b in enumerate(buffers):
        x, y = left + b["first"] * sx, top + b["offset"] * sy
        w, h = (b["last"] - b["first"] + 1) * sx, max(b["bytes"] * sy, 1.0)
        tip = f'{b["name"]}: {b["bytes"]:,} B at {b["offset"]:,}, ops {b["first"]}-{b["last"]}'
        color = COLORS[k % len(COLORS)]
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{color}" '
                     f'fill-opacity="0.8" stroke="#fff" stroke-width="0.5"><title>{_e(tip)}</title></rect>')
    for frac in (0, 0.25, 0.5, 0.75, 1):
        y = top + frac * arena * sy
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{int(frac * arena):,}</text>')
    step = max(1, n // 20)
    for i in range(0, n, step):
        x = left + (i + 0.5) * sx
        parts.append(f'<text x="{x:.1f}" y="{height - 12}" text-anchor="middle">{i}</text>')
    parts.append(f'<text x="{left + (i_peak + 0.5) * sx:.1f}" y="{height - 0}" text-anchor="middle" '
                 f'fill="#c0392b">peak</text></svg>')
    at_peak = sorted((b for b in buffers if b["first"] <= i_peak <= b["last"]), key=lambda b: -b["bytes"])
    cause = [[_e(b["name"]), _n(b["bytes"]), _n(b["offset"]), f'{b["first"]}-{b["last"]}'] for b in at_peak]
    return (f'<p class="note">Each bar is an arena buffer (hover for its tensors), from the op that writes '
            f'it to the last that reads it, at its byte offset. Peak: {live:,} live bytes at op {i_peak} '
            f'({_e(r["ops"][i_peak]["kind"]) if r["ops"] else ""}); arena {r["arena_bytes"]:,} B, lower '
            f'bound {r["arena_lower_bound_bytes"]:,} B.</p>' + "".join(parts)
            + "<p>What is live at the peak:</p>"
            + _table(["buffer", "bytes", "offset", "ops"], cause, left=frozenset({0})) + overlaps(r))


def flash(r: dict) -> str:
    kinds: dict[str, int] = {}
    for op in r["ops"]:
        for k, v in (op.get("const_bytes") or {}).items():
            kinds[k] = kinds.get(k, 0) + v
    fw = r.get("firmware") or {}
    rows = [[_e(k), _n(v)] for k, v in sorted(kinds.items(), key=lambda kv: -kv[1])]
    if fw:
        sections = fw.get("sections", {})
        code = sections.get(".text", 0)
        rows += [["code (.text, whole firmware)", _n(code)],
                 ["test vectors", _n(fw.get("test_vector_bytes"))], ["flash in all", _n(fw["flash_bytes"])]]
    heaviest = sorted(r["ops"], key=lambda op: -sum((op.get("const_bytes") or {}).values()))[:15]
    most = max((sum((op.get("const_bytes") or {}).values()) for op in heaviest), default=0) or 1
    bars = []
    for i, op in enumerate(heaviest):
        x = 260
        for k, v in sorted((op.get("const_bytes") or {}).items()):
            w = 600 * v / most
            bars.append(f'<rect x="{x:.1f}" y="{i * 18 + 4}" width="{max(w, 0.5):.1f}" height="14" '
                        f'fill="{KIND_COLORS.get(k, "#bab0ac")}"><title>{_e(k)} {v:,} B</title></rect>')
            x += w
        bars.append(f'<text x="250" y="{i * 18 + 15}" text-anchor="end">#{op["index"]} {_e(op["kind"][:18])} '
                    f'{_e(op["name"][-16:])}</text>')
        size = sum((op.get("const_bytes") or {}).values())
        bars.append(f'<text x="{x + 6:.1f}" y="{i * 18 + 15}">{size:,} B</text>')
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="900" height="{len(heaviest) * 18 + 10}" '
           f'role="img" aria-label="flash by layer">{"".join(bars)}</svg>')
    legend = " ".join(f'<span style="color:{c}">&#9632;</span> {k}' for k, c in KIND_COLORS.items())
    note = "" if fw else ('<p class="note">Code size: compile with --board to build a firmware and '
                          'measure it.</p>')
    return (_table(["what", "bytes"], rows, left=frozenset({0})) + note
            + f"<p>Layers with the most constant data ({legend}):</p>" + svg)


def ram(r: dict) -> str:
    fw = r.get("firmware") or {}
    rows = [["arena (activations, scratch)", _n(r["arena_bytes"])]]
    if r.get("state_bytes"):
        rows.append(["persistent state (recurrent layers)", _n(r["state_bytes"])])
    if fw:
        sections = fw.get("sections", {})
        rows += [[".data + .bss (arena included)", _n(sections.get(".data", 0) + sections.get(".bss", 0))],
                 ["stack (static estimate)", _n(fw["stack_estimate_bytes"])]]
        for name, region in fw.get("regions", {}).items():
            rows.append([f"{_e(name)} used / size", f"{region['used']:,} / {region['length']:,}"])
    return _table(["what", "bytes"], rows, left=frozenset({0}))


def validation(r: dict) -> str:
    v = r.get("validation")
    if not v:
        return ""
    head = ["output", "max |err|", "mean |err|", "RMSE", "SQNR dB", "cosine", "top-1 agreement"]
    rows = [[_e(o["name"]), f"{o['max_abs_error']:.4g}", f"{o['mean_abs_error']:.4g}", f"{o['rmse']:.4g}",
             "inf (exact)" if o["sqnr_db"] is None else f"{o['sqnr_db']:.2f}", f"{o['cosine']:.5f}",
             "" if o["top1_agreement"] is None else f"{o['top1_agreement']:.2%}"] for o in v["outputs"]]
    acc = ""
    if v.get("float_accuracy") is not None:
        acc = (f"<p>Accuracy on {v['samples']} labelled samples: float {v['float_accuracy']:.2%}, "
               f"C {v['c_accuracy']:.2%}</p>")
    return (f"<h2>Validation</h2><p class=\"note\">The original model ({_e(v['reference'])}) against the "
            f"generated C ({_e(v['target'])}) on {v['samples']} samples of {_e(v['data'])}.</p>"
            + _table(head, rows, left=frozenset({0})) + acc)


def render_html(r: dict) -> str:
    """The page for a report.json dictionary."""
    body = [f"<h1>mcuforge: {_e(r['name'])}</h1>", summary(r), "<h2>Layers</h2>", layers(r),
            "<h2>Arena timeline</h2>", timeline(r), "<h2>Flash</h2>", flash(r), "<h2>RAM</h2>", ram(r),
            validation(r)]
    head = f'<meta charset="utf-8"><title>mcuforge report: {_e(r["name"])}</title><style>{STYLE}</style>'
    return f'<!DOCTYPE html><html lang="en"><head>{head}</head><body>{"".join(body)}</body></html>\n'


def write_report(report: dict, folder: Path) -> Path:
    """report.json and report.html into `folder`; returns the page's path."""
    (folder / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    path = folder / "report.html"
    path.write_text(render_html(report), encoding="utf-8")
    return path


def rebuild_html(folder: Path) -> Path:
    """folder/report.json -> folder/report.html (`mcuforge report FOLDER`); returns the page's path.

    Raises MfError where the folder has no readable report.json."""
    path = folder / "report.json"
    try:
        report = json.loads(path.read_text())
        page = render_html(report)
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise MfError(f"{path}: not a report.json mcuforge compile wrote ({type(e).__name__}: {e}); "
                      "compile the model again to write one") from None
    out = folder / "report.html"
    out.write_text(page, encoding="utf-8")
    return out
