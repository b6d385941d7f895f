"""Human-readable tables for the terminal (rich)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from mcuforge.summary import ModelSummary


def _shape(s: list[int]) -> str:
    return "x".join(str(d) for d in s)


def print_summary(summary: ModelSummary, console: Console | None = None) -> None:
    console = console or Console()
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
