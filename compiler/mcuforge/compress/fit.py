"""`mcuforge fit` (issue 16, a first version): choose a weight format per layer so that a Keras
model fits a RAM and flash budget, losing as little accuracy as possible.

1. Baseline: the int8 model compiled and its firmware built for the board (every figure below is
   measured on the compiled C: flash = the firmware's flash bytes minus its test vectors, i.e.
   weights, biases, requantization tables and code; RAM = arena + static stack estimate).
2. Sensitivity: for each conv / dense op and each format (int4, cb4 = 4-bit codebook, b1 = 1-bit)
   the int8 C's top-1 on the eval data with only that op re-encoded (data-free, from the float
   weights), and the flash it saves (compress/encode.py).
3. Greedy search: while flash is over budget, apply the move (op -> a smaller format) with the
   least accuracy lost per byte saved; after each move the candidate is compiled and its
   firmware built again, so the budget check uses measured bytes.
4. Recovery (with --train): the Keras layers of the chosen cb4 ops are clustered to 16 values
   (BatchNormalization folded first) and those of b1 ops trained binarized with the straight-
   through estimator, together, distilling from the original model with the default recovery
   (cosine learning rate, early stopping); compiling the plan is then lossless for those layers.

Weight formats do not change the arena, so a RAM budget the int8 model misses is reported as
short (structured pruning, `mcuforge compress --prune-structured`, reduces activations). Not yet
searched: pruning ratios and int16 activations per layer, entropy coding.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mcuforge.compile import Compiled, CompileOptions, compile_model
from mcuforge.errors import MfError
from mcuforge.ops.conv_2d import is_grouped

from .binary import BinaryState
from .distill import DistillConfig, train_student
from .encode import weighted_op_names
from .keras_graph import weighted_layers
from .measure import int8_accuracy, save

FORMATS = ("int4", "cb4", "b1")
BYTES_PER_WEIGHT = {"int8": 1.0, "int4": 0.5, "cb4": 0.5, "b1": 0.125}
Data = tuple[np.ndarray, np.ndarray]


@dataclass
class Budget:
    ram: int | None  # bytes: arena + stack
    flash: int | None  # bytes: firmware flash without test vectors
    board: str = "mps2-an386"  # the firmware measured


@dataclass
class Candidate:
    formats: dict[str, str]  # op -> format (int8 when absent)
    flash: int
    ram: int
    accuracy: float | None
    step: str = ""

    def fits(self, b: Budget) -> bool:
        return (b.flash is None or self.flash <= b.flash) and (b.ram is None or self.ram <= b.ram)


@dataclass
class FitResult:
    fits: bool
    answer: str  # the one-line answer
    plan: list[dict]  # per layer: op, keras layer, kind, weights, format, sensitivity
    steps: list[Candidate]
    final: Candidate
    model_path: Path | None = None
    c_dir: Path | None = None
    sensitivity: dict[str, dict[str, float]] = field(default_factory=dict)


def measure(model_path: Path, formats: dict[str, str], out: Path, calib: np.ndarray,
            eval_data: Data | None, board: str, step: str) -> tuple[Candidate, Compiled]:
    from mcuforge.firmware.run import make_firmware

    opts = CompileOptions(name="model", calib=calib, layer_weights={k: v for k, v in formats.items()
                                                                     if v != "int8"} or None)
    compiled = compile_model(model_path, out, opts)
    _, fw = make_firmware(compiled, board)
    acc = int8_accuracy(compiled, *eval_data) if eval_data is not None else None
    flash = fw.flash_bytes - fw.test_vector_bytes
    return Candidate(dict(formats), flash, fw.arena_bytes + fw.stack_bytes, acc, step), compiled


def packable_ops(compiled: Compiled) -> list[tuple[str, str, int]]:
    """("#i" key, kind, weight count) of the ops that can take the packed formats, in graph order
    (encode.weighted_op_names: keys by position, as op names change between conversions)."""
    g = compiled.graph
    by_name = {op.name: op for op in g.ops}
    out = []
    for i, name in enumerate(weighted_op_names(g)):
        op = by_name[name]
        if not is_grouped(g, op):  # no packed grouped-convolution kernel
            out.append((f"#{i}", op.kind, int(g.tensors[op.inputs[1]].size)))
    return out


def keras_names(model: Any, compiled: Compiled) -> dict[str, str]:
    """"#i" op key -> Keras layer of the conv / dense ops: matched by weight shape (Keras
    (KH, KW, I, O) / (I, O) against the IR's OHWI / (O, I)), layers of equal shape in order (both
    orders are topological). Ops left unmatched have no layer to train."""
    pool: dict[tuple[int, ...], list[str]] = {}
    for layer in weighted_layers(model):
        if type(layer).__name__ == "DepthwiseConv2D":
            continue
        k = layer.get_weights()[0].shape
        pool.setdefault((k[-1], *k[:-1]), []).append(layer.name)
    g = compiled.graph
    by_name = {op.name: op for op in g.ops}
    out = {}
    for i, name in enumerate(weighted_op_names(g)):
        # IR OHWI / (O, I) is the Keras kernel with its last axis (O) moved first
        candidates = pool.get(tuple(g.tensors[by_name[name].inputs[1]].shape))
        if candidates:
            out[f"#{i}"] = candidates.pop(0)
    return out


def fit(model: Any, budget: Budget, work: Path, calib: np.ndarray, train: Data | None,
        eval_data: Data | None, max_drop: float | None = None, epochs: int = 8,
        progress: bool = True) -> FitResult:
    from .pipeline import copy_model, load

    original = load(model)
    work.mkdir(parents=True, exist_ok=True)
    path = save(original, work / "original.keras")
    base, compiled = measure(path, {}, work / "int8", calib, eval_data, budget.board, "int8")
    steps = [base]
    ops = packable_ops(compiled)
    say = print if progress else (lambda *a, **k: None)
    say(f"int8: flash {base.flash:,} B, RAM {base.ram:,} B, top-1 {_pct(base.accuracy)}")
    if budget.ram is not None and base.ram > budget.ram:
        answer = (f"does not fit: RAM is short by {base.ram - budget.ram:,} B (needs {base.ram:,} B: arena "
                  "+ stack); weight formats do not reduce RAM, try `mcuforge compress --prune-structured`")
        return FitResult(False, answer, [], steps, base)
    sens: dict[str, dict[str, float]] = {}
    if budget.flash is not None and base.flash > budget.flash:
        sens = sensitivity(path, ops, work, calib, eval_data, compiled, progress)
    current = base
    formats: dict[str, str] = {}
    names = keras_names(original, compiled)
    # 1-bit is only usable where the layer can be trained binarized (data-free b1 loses too much)
    allowed = {op: (FORMATS if op in names and train is not None else ("int4", "cb4")) for op, _, _ in ops}
    while budget.flash is not None and current.flash > budget.flash:
        move = best_move(ops, formats, sens, allowed)
        if move is None:
            break
        formats[move[0]] = move[1]
        current, _ = measure(path, formats, work / f"step{len(steps)}", calib, None, budget.board,
                             f"{_short(move[0])} -> {move[1]}")
        steps.append(current)
        say(f"step {len(steps) - 1}: {current.step}: flash {current.flash:,} B")
    final_model, final_path = original, path
    if train is not None and any(f in ("cb4", "b1") for f in formats.values()):
        final_model = recover(copy_model(original), original, formats, names, train, epochs, progress)
        final_path = save(final_model, work / "fitted.keras")
    final, final_c = measure(final_path, formats, work / "c", calib, eval_data, budget.board, "final")
    steps.append(final)
    plan = [{"op": op, "layer": names.get(op, ""), "kind": kind, "weights": n,
             "format": formats.get(op, "int8"), "sensitivity_top1": sens.get(op, {})} for op, kind, n in ops]
    fits = final.fits(budget)
    drop = None if base.accuracy is None or final.accuracy is None else 100 * (base.accuracy - final.accuracy)
    if not fits:
        short = []
        if budget.flash is not None and final.flash > budget.flash:
            short.append(f"flash is short by {final.flash - budget.flash:,} B")
        answer = f"does not fit: {', '.join(short)} even with every layer at its smallest format; closest: " \
                 f"flash {final.flash:,} B, RAM {final.ram:,} B"
    else:
        answer = f"fits: flash {final.flash:,} B (budget {_b(budget.flash)}), RAM {final.ram:,} B " \
                 f"(budget {_b(budget.ram)})" + ("" if drop is None else f", top-1 {_pct(final.accuracy)} "
                                                 f"({-drop:+.2f} points vs int8 {_pct(base.accuracy)})")
        if max_drop is not None and drop is not None and drop > max_drop:
            answer += f"; the drop exceeds --max-drop {max_drop}"
            fits = False
    return FitResult(fits, answer, plan, steps, final, final_path, final_c.files[f"{final_c.name}.c"].parent,
                     sens)


def sensitivity(path: Path, ops: list[tuple[str, str, int]], work: Path, calib: np.ndarray,
                eval_data: Data | None, base: Compiled, progress: bool) -> dict[str, dict[str, float]]:
    """Top-1 of the int8 C with one op re-encoded, per op and format (data-free), on up to 300
    eval samples; "int8" of every op is the unchanged model's top-1 on the same samples."""
    from tqdm import tqdm

    sub = None if eval_data is None else (eval_data[0][:300], eval_data[1][:300])
    ref = int8_accuracy(base, *sub) if sub is not None else 0.0
    out: dict[str, dict[str, float]] = {op: {"int8": ref} for op, _, _ in ops}
    jobs = [(op, f) for op, _, _ in ops for f in FORMATS]
    for i, (op, f) in enumerate(tqdm(jobs, desc="sensitivity", disable=not progress)):
        opts = CompileOptions(name="model", calib=calib, layer_weights={op: f})
        compiled = compile_model(path, work / f"sens{i}", opts)
        acc = int8_accuracy(compiled, *sub) if sub is not None else 0.0
        out.setdefault(op, {})[f] = acc
    return out


def best_move(ops: list[tuple[str, str, int]], formats: dict[str, str], sens: dict[str, dict[str, float]],
              allowed: dict[str, tuple[str, ...]] | None = None) -> tuple[str, str] | None:
    """The (op, format) that loses the least top-1 (measured alone, `sensitivity`) per weight
    byte saved, among formats smaller than the op's current one."""
    best, best_score = None, np.inf
    for op, _, n in ops:
        cur = formats.get(op, "int8")
        acc = sens.get(op, {})
        for f in (allowed or {}).get(op, FORMATS):
            saved = n * (BYTES_PER_WEIGHT[cur] - BYTES_PER_WEIGHT[f])
            if saved <= 0:
                continue
            loss = max(0.0, acc.get(cur, 0.0) - acc.get(f, 0.0))  # top-1 lost going cur -> f
            score = (loss + 1e-4) / saved
            if score < best_score:
                best, best_score = (op, f), score
    return best


def recover(model: Any, teacher: Any, formats: dict[str, str], names: dict[str, str], train: Data,
            epochs: int, progress: bool) -> Any:
    """Cluster the cb4 layers and train the b1 layers binarized, distilling from `teacher`."""
    from . import cluster as clustering
    from .fold import fold_batch_norm

    cb4 = {names[op] for op, f in formats.items() if f == "cb4" and op in names}
    b1 = {names[op] for op, f in formats.items() if f == "b1" and op in names}
    if cb4:
        model, _ = fold_batch_norm(model)
    state = clustering.cluster_weights(model, 16, names=cb4) if cb4 else None
    binary = BinaryState.of([model.get_layer(n) for n in sorted(b1)]) if b1 else None

    def before() -> None:
        if binary is not None:
            binary.binarize()

    def after() -> None:
        if binary is not None:
            binary.restore()
        if state is not None:
            clustering.snap_to_centroids(model, state)

    cfg = DistillConfig(epochs=epochs, alpha=0.3, schedule="cosine", validation=0.1, patience=3,
                        progress=progress)
    train_student(model, *train, teacher=teacher, config=cfg, before_batch=before, after_batch=after)
    if binary is not None:
        binary.finalize()
    return model


def write_report(result: FitResult, budget: Budget, path: Path) -> None:
    report = {"fits": result.fits, "answer": result.answer, "budget": asdict(budget), "plan": result.plan,
              "steps": [asdict(s) for s in result.steps], "model": str(result.model_path),
              "c": str(result.c_dir)}
    path.write_text(json.dumps(report, indent=2) + "\n")


def _short(op: str) -> str:
    return op if len(op) <= 40 else op[:18] + "..." + op[-18:]


def _pct(a: float | None) -> str:
    return "n/a" if a is None else f"{100 * a:.2f}%"


def _b(v: int | None) -> str:
    return "none" if v is None else f"{v:,} B"


def budget_of(board: str | None, ram: int | None, flash: int | None) -> Budget:
    if board:
        from mcuforge.firmware.boards import load_board

        b = load_board(board)
        return Budget(ram if ram is not None else b.ram.length,
                      flash if flash is not None else b.flash.length, board)
    if ram is None and flash is None:
        raise MfError("fit needs a budget: --board BOARD, or --ram BYTES and/or --flash BYTES")
    return Budget(ram, flash)
