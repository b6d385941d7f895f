"""Human-readable tables for the terminal (rich)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from mcuforge.summary import ModelSummary


def make_console() -> Console:
    console = Console()
    if not console.is_terminal:
        console.width = 140  # logs and pipes: don't wrap tables at 80 columns
    return console


def _shape(s: list[int]) -> str:
    return "x".join(str(d) for d in s)


def print_summary(summary: ModelSummary, console: Console | None = None) -> None:
    console = console or make_console()
    table = Table(title=f"{summary.source} ({summary.format})", title_justify="left")
    for col, justify in (("#", "right"), ("op", "left"), ("kind", "left"), ("in", "left"),
                         ("out", "left"), ("dtype", "left"), ("params", "right"), ("MACs", "right")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for i, row in enumerate(summary.ops):
        table.add_row(
            str(i), row.name[:40], row.kind, " ".join(_shape(s) for s in row.inputs),
            " ".join(_shape(s) for s in row.outputs), row.dtype, f"{row.params:,}", f"{row.macs:,}",
        )
    console.print(table)
    console.print(
        f"ops {len(summary.ops)}  params {summary.params:,}  MACs {summary.macs:,}  "
        f"weights at int8 {summary.weight_bytes_int8:,} B  largest activation "
        f"'{summary.largest_activation}' {summary.largest_activation_bytes:,} B"
    )


def print_compile_report(report: dict, out_dir: str, console: Console | None = None) -> None:
    console = console or make_console()
    table = Table(title=f"{report['name']}: {report['source']}", title_justify="left")
    for col, justify in (("#", "right"), ("op", "left"), ("kernel", "left"), ("out", "left"),
                         ("MACs", "right"), ("out @ offset", "right"), ("scratch", "right")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for row in report["ops"]:
        table.add_row(
            str(row["index"]), f"{row['kind']} {row['name'][:30]}", row["kernel"],
            " ".join(_shape(s) for s in row["outputs"]), f"{row['macs']:,}",
            f"{row['output_bytes']:,} @ {row['output_offsets'][0]:,}",
            f"{row['scratch_bytes']:,}" if row["scratch_bytes"] else "",
        )
    console.print(table)
    console.print(
        f"arena {report['arena_bytes']:,} B (lower bound {report['arena_lower_bound_bytes']:,} B, "
        f"ratio {report['arena_ratio_to_lower_bound']:.3f}; "
        f"greedy-by-size {report['arena_greedy_bytes']:,} B)  "
        f"weights {report['weights_bytes']:,} B  MACs {report['macs']:,}"
        + (f"  state {report['state_bytes']:,} B (persistent)" if report.get("state_bytes") else "")
    )
    acc = report.get("accuracy")
    if acc:
        worst = acc["layers"][:3]
        console.print(
            f"quantization: top-1 agreement {acc['top1_agreement']:.4f} on {acc['samples']} calibration "
            "samples; worst layers " + ", ".join(f"{w['tensor']} {w['sqnr_db']:.1f} dB" for w in worst)
        )
        if acc.get("int8_accuracy") is not None:
            console.print(f"top-1 accuracy on {acc['eval_samples']} labelled samples: "
                          f"float {acc['float_accuracy']:.4f}, int8 {acc['int8_accuracy']:.4f}")
    wide = report.get("int16_layers")
    if wide:  # issue 11: what --int16 costs and gains against all-int8
        m, b = wide["mixed"], wide["all_int8"]

        def db(v: float | None) -> str:
            return "n/a" if v is None else f"{v:.1f} dB"

        console.print(f"int16 layers {', '.join(wide['layers'])}: arena {m['arena_bytes']:,} B "
                      f"(all-int8 {b['arena_bytes']:,} B), output SQNR {db(m['output_sqnr_db'])} "
                      f"(all-int8 {db(b['output_sqnr_db'])})"
                      + (f", top-1 {m['eval_accuracy']:.4f} (all-int8 {b['eval_accuracy']:.4f})"
                         if m["eval_accuracy"] is not None and b["eval_accuracy"] is not None else ""))
    for note in report.get("weight_encoding") or []:
        if note.get("reason"):
            console.print(f"weights {note['op']}: {note['reason']}")
    for note in report.get("sparse") or []:
        if note["format"] == "sparse" or note["sparsity"] >= 0.1:
            console.print(f"sparse weights {note['note']}")
    fw = report.get("firmware")
    if fw:
        print_memory(fw, console)
    console.print(f"C written to {out_dir}/")


def print_memory(fw: dict, console: Console) -> None:
    title = f"memory on {fw['board']} (stack estimated from -fcallgraph-info)"
    table = Table(title=title, title_justify="left")
    for col, justify in (("region", "left"), ("origin", "left"), ("size", "right"), ("used", "right"),
                         ("free", "right"), ("contents", "left")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for name, r in fw["regions"].items():
        table.add_row(name, r["origin"], f"{r['length']:,}", f"{r['used']:,}", f"{r['free']:,}",
                      ", ".join(f"{k} {v:,}" for k, v in r["parts"].items()))
    console.print(table)
    console.print(f"arena {fw['arena_bytes']:,} B, stack estimate {fw['stack_estimate_bytes']:,} B, weights "
                  f"{fw['weights_bytes']:,} B, test vectors {fw['test_vector_bytes']:,} B; ELF "
                  f"build_firmware/{fw['elf']}" + ("" if fw["fits"] else "  [DOES NOT FIT: --force]"))
