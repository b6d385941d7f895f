"""Accuracy against flash, one point per compression step, as a PNG (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path

from .measure import Row


def plot_accuracy_vs_flash(rows: list[Row], path: str | Path, title: str = "") -> Path | None:
    """None when no row has an accuracy to plot."""
    points = [r for r in rows if r.accuracy is not None or r.float_accuracy is not None]
    if not points:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=100)
    for r in points:
        acc = r.accuracy if r.accuracy is not None else r.float_accuracy
        assert acc is not None
        ax.scatter(r.flash_bytes / 1024, 100 * acc)
        ax.annotate(r.step, (r.flash_bytes / 1024, 100 * acc), textcoords="offset points", xytext=(4, 4),
                    fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("weights flash (KiB, log scale)")
    ax.set_ylabel("top-1 accuracy (%)")
    ax.set_title(title or "accuracy vs flash per compression step")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path)
    plt.close(fig)
    return path
