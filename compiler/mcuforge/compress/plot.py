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


def pareto_front(points: list[tuple[float, float]]) -> list[int]:
    """Indices of the points no other point beats on both cost (lower) and accuracy (higher)."""
    front = []
    for i, (c, a) in enumerate(points):
        if not any((c2 <= c and a2 >= a) and (c2 < c or a2 > a) for c2, a2 in points):
            front.append(i)
    return sorted(front, key=lambda i: points[i][0])


def plot_pareto(candidates: list, budget: object, chosen: object, path: str | Path) -> Path | None:
    """`mcuforge fit`: top-1 against flash and against RAM (two panels) for every candidate
    measured with an accuracy; the Pareto front drawn, the budget lines dashed, the chosen
    candidate circled. `candidates`: fit.Candidate; None when none has an accuracy."""
    pts = [c for c in candidates if c.accuracy is not None]
    if not pts:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), dpi=100, sharey=True)
    panels = ((axes[0], "flash", getattr(budget, "flash", None), "flash (KiB)"),
              (axes[1], "ram", getattr(budget, "ram", None), "RAM: arena + stack (KiB)"))
    for ax, attr, limit, label in panels:
        xy = [(getattr(c, attr) / 1024, 100 * c.accuracy) for c in pts]
        colors = ["tab:green" if c.recovered else "tab:blue" for c in pts]
        ax.scatter([p[0] for p in xy], [p[1] for p in xy], c=colors, s=18)
        front = pareto_front(xy)
        ax.plot([xy[i][0] for i in front], [xy[i][1] for i in front], color="tab:orange", lw=1,
                label="Pareto front")
        if limit is not None:
            ax.axvline(limit / 1024, color="tab:red", ls="--", label=f"budget {limit:,} B")
        if chosen is not None and getattr(chosen, "accuracy", None) is not None:
            ax.scatter([getattr(chosen, attr) / 1024], [100 * chosen.accuracy], s=120, facecolors="none",
                       edgecolors="black", label="chosen")
        ax.set_xlabel(label)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    axes[0].set_ylabel("top-1 of the int8 C (%)  (green: after recovery)")
    fig.suptitle("mcuforge fit: candidates measured on the compiled firmware")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path)
    plt.close(fig)
    return path
