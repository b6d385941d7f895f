"""`mcuforge fit` (issue 16): choose per-layer compression so that a Keras model fits a RAM,
flash (and optionally weight-bytes and MAC) budget, losing as little accuracy as possible.

Every candidate is measured on the compiled C: flash = the firmware's flash bytes minus its
test vectors (weights, biases, requantization tables and the code of the kernels used); RAM =
arena (as the compiler's memory planner lays it out: shared, overlapping and in-place buffers
are always on, there is no switch to search) + static stack estimate; MACs and the compiled
constants' bytes ("weights") from the compile report.

The search, per structured-pruning level p in PRUNE_LEVELS (0, 0.25, 0.5: that fraction of the
output channels of every prunable group removed, smallest L1 norm first, compress/structured.py;
the only choice that also cuts RAM and MACs):
1. p > 0: prune the original, recover (distillation from the original, cosine learning rate,
   early stopping), measure.
2. Sensitivity of every conv / dense op to each weight format (int4, cb4 = 4-bit codebook, b1
   = 1-bit, sp = 70% of its smallest weights zeroed and stored sparse), data-free: the output
   noise (1 / SQNR against the unchanged int8 model's outputs, on up to 200 eval samples) with
   only that op changed. Noise ranks moves better than top-1 on a few hundred samples, which
   is mostly ties. b1 is offered only for hidden layers the recovery can train binarized (the
   first and last weighted layers keep at least 4 bits, as the 1-bit literature advises).
3. Greedy: while a byte budget is over, apply the move (op -> a smaller format) with the least
   noise added per weight byte saved, and measure the candidate's firmware again.
4. Recovery with --train: the cb4 layers clustered (BatchNormalization folded first), the b1
   layers trained binarized (straight-through estimator), the sp layers trained under their
   masks, together, distilling from the original model; seeded and with TensorFlow's
   deterministic ops (distill.deterministic). Plans with b1 layers train twice as long, after a
   warm-up, with more patience; a recovery whose measured top-1 misses --max-drop is run again
   with another seed (RECOVERY_SEEDS in all) before the search moves on to pruning.
5. Spare budget: int16 activations (16x8) tried on the int8 ops whose output noise they cut
   most, kept while the candidate still fits and its top-1 does not fall.
Levels are tried in order and the search stops at the first whose final top-1 is within
--max-drop (default 1 point) of the int8 model's; otherwise the most accurate fitting candidate
wins, and when none fits the answer names the short budgets, by how much, and the closest
candidate measured. Every measured candidate goes to fit_report.json and the Pareto plot.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mcuforge.compile import Compiled
from mcuforge.errors import MfError
from mcuforge.ir.graph import Graph
from mcuforge.ops.conv_2d import is_grouped
from mcuforge.ops.registry import lookup

from .binary import BinaryState
from .distill import DistillConfig, accuracy, predict_logits, train_student
from .encode import weighted_op_names
from .keras_graph import weighted_layers
from .measure import save
from .variants import SPARSITY, Variants, magnitude_mask, noise, outputs

FORMATS = ("int4", "cb4", "sp", "b1")
PACKED = ("int4", "cb4", "b1")  # compile-time weight formats (layer_weights)
BYTES_PER_WEIGHT = {"int8": 1.0, "int4": 0.5, "cb4": 0.5, "sp": 0.125 + (1 - SPARSITY), "b1": 0.125}
PRUNE_LEVELS = (0.0, 0.25, 0.5)
MAX_INT16 = 2  # int16 layers kept at most
INT16_TRIES = 4  # ops whose int16 activations are measured
RECOVERY_LR = 2e-3  # as compress's default recovery (cosine decay from it)
RECOVERY_SEEDS = 3  # recoveries of a plan tried (seeds 0, 1, ...) while its top-1 misses --max-drop
B1_EPOCHS = 2  # plans with 1-bit layers recover for this many times --epochs
B1_PATIENCE = 5  # and stop early after this many epochs without a better held-out loss
WARMUP = 0.1  # after a linear warm-up over this fraction of the steps
EVAL_SAMPLES = 500  # every candidate's top-1 on (at most) these many eval samples
SENS_SAMPLES = 200  # output noise (sensitivity, int16) on the first these many
Data = tuple[np.ndarray, np.ndarray]


@dataclass
class Budget:
    ram: int | None  # bytes: arena + stack
    flash: int | None  # bytes: firmware flash without test vectors
    board: str = "mps2-an386"  # the firmware measured
    macs: int | None = None  # multiply-accumulates per inference
    weights: int | None = None  # bytes of the compiled constants (weights, biases, tables)

    def limits(self) -> dict[str, int]:
        return {k: v for k, v in (("flash", self.flash), ("RAM", self.ram), ("MACs", self.macs),
                                  ("weights", self.weights)) if v is not None}


@dataclass
class Candidate:
    formats: dict[str, str]  # op -> format (int8 when absent)
    flash: int
    ram: int
    accuracy: float | None
    step: str = ""
    weights: int = 0  # compiled constants' bytes
    macs: int = 0
    prune: float = 0.0  # structured pruning level
    int16: list[str] = field(default_factory=list)  # ops at int16 activations
    recovered: bool = False  # measured after recovery training
    c_dir: str = ""  # its compiled C folder

    def values(self) -> dict[str, int]:
        return {"flash": self.flash, "RAM": self.ram, "MACs": self.macs, "weights": self.weights}

    def short(self, b: Budget) -> dict[str, int]:
        """Budget -> how much this candidate exceeds it (only those exceeded)."""
        v = self.values()
        return {k: v[k] - lim for k, lim in b.limits().items() if v[k] > lim}

    def fits(self, b: Budget) -> bool:
        return not self.short(b)

    def distance(self, b: Budget) -> float:
        """Sum of the relative excesses: 0 when it fits."""
        return sum(over / max(b.limits()[k], 1) for k, over in self.short(b).items())


Level = tuple["Candidate", Path, Compiled, list[dict], dict]  # final, model, its C, plan, sensitivity


@dataclass
class FitResult:
    fits: bool
    answer: str  # the one-line answer
    plan: list[dict]  # per layer: op, keras layer, kind, weights, format, channels, int16, sensitivity
    steps: list[Candidate]  # every candidate measured, in order
    final: Candidate
    model_path: Path | None = None
    c_dir: Path | None = None
    sensitivity: dict[str, dict[str, float]] = field(default_factory=dict)
    base: Candidate | None = None
    float_accuracy: float | None = None


def packable_ops(g: Graph) -> list[tuple[str, str, int]]:
    """("#i" key, kind, weight count) of the ops that can take the packed formats, in graph order
    (encode.weighted_op_names: keys by position, as op names change between conversions). `g`:
    the graph the keys are resolved on, `Variants.keyed()` (not a compiled graph: lowering may
    fuse two convolutions into one RESIDUAL_ROWS op)."""
    by_name = {op.name: op for op in g.ops}
    out = []
    for i, name in enumerate(weighted_op_names(g)):
        op = by_name[name]
        if not is_grouped(g, op):  # no packed grouped-convolution kernel
            out.append((f"#{i}", op.kind, int(g.tensors[op.inputs[1]].size)))
    return out


def op_names(g: Graph) -> dict[str, str]:
    """"#i" key -> IR op name (for --int16, which names ops); `g` as for `packable_ops`."""
    return {f"#{i}": n for i, n in enumerate(weighted_op_names(g))}


def keras_names(model: Any, g: Graph) -> dict[str, str]:
    """"#i" op key -> Keras layer of the conv / dense ops: matched by weight shape (Keras
    (KH, KW, I, O) / (I, O) against the IR's OHWI / (O, I)), layers of equal shape in order (both
    orders are topological). Ops left unmatched have no layer to train."""
    pool: dict[tuple[int, ...], list[str]] = {}
    for layer in weighted_layers(model):
        if type(layer).__name__ == "DepthwiseConv2D":
            continue
        k = layer.get_weights()[0].shape
        pool.setdefault((k[-1], *k[:-1]), []).append(layer.name)
    by_name = {op.name: op for op in g.ops}
    out = {}
    for i, name in enumerate(weighted_op_names(g)):
        # IR OHWI / (O, I) is the Keras kernel with its last axis (O) moved first
        candidates = pool.get(tuple(g.tensors[by_name[name].inputs[1]].shape))
        if candidates:
            out[f"#{i}"] = candidates.pop(0)
    return out


class Search:
    """State shared by the levels: data, budget, the original model, every candidate measured."""

    def __init__(self, original: Any, budget: Budget, work: Path, calib: np.ndarray, train: Data | None,
                 eval_data: Data | None, epochs: int, progress: bool,
                 noise_samples: int = SENS_SAMPLES, learning_rate: float = RECOVERY_LR) -> None:
        self.original, self.budget, self.work, self.calib = original, budget, work, calib
        self.train, self.eval, self.epochs, self.progress = train, eval_data, epochs, progress
        self.steps: list[Candidate] = []
        # every candidate's top-1 on the same samples
        self.sub = None if eval_data is None else (eval_data[0][:EVAL_SAMPLES], eval_data[1][:EVAL_SAMPLES])
        self.bar: Any = None
        self.noise_samples = noise_samples
        self.learning_rate = learning_rate
        self.sens: dict[str, dict[str, float]] = {}  # the current level's
        self.base: Candidate | None = None  # the int8 model, measured
        self.tol = 1.0  # points of top-1 a level may lose against it (--max-drop)

    def say(self, msg: str) -> None:
        if not self.progress:
            return
        if self.bar is not None:
            self.bar.write(msg)
        else:
            print(msg)

    def measure(self, v: Variants, formats: dict[str, str], step: str, prune: float,
                int16: tuple[str, ...] = (), recovered: bool = False,
                ) -> tuple[Candidate, Compiled]:
        from mcuforge.firmware.run import make_firmware

        self.work.mkdir(parents=True, exist_ok=True)
        compiled = v.compile(formats, self.work / f"c{len(self.steps)}", int16)
        _, fw = make_firmware(compiled, self.budget.board)
        data = self.sub
        acc = None
        if data is not None:
            acc = float(np.mean(outputs(compiled, data[0]).argmax(axis=1) == data[1]))
        rep = compiled.report
        c = Candidate(dict(formats), fw.flash_bytes - fw.test_vector_bytes, fw.arena_bytes + fw.stack_bytes,
                      acc,
                      step, int(rep["weights_bytes"]), int(rep["macs"]), prune, list(int16), recovered,
                      str(compiled.files[f"{compiled.name}.c"].parent))
        self.steps.append(c)
        if self.bar is not None:
            self.bar.set_postfix_str(f"{step[:30]} flash {c.flash:,}")
            self.bar.update(1)
        return c, compiled

    def distill(self, model: Any, hooks: tuple[Any, Any] = (None, None)) -> Any:
        assert self.train is not None
        cfg = DistillConfig(epochs=self.epochs, alpha=0.3, schedule="cosine", validation=0.1, patience=3,
                            learning_rate=self.learning_rate, deterministic=True)
        train_student(model, *self.train, teacher=self.original, config=cfg, before_batch=hooks[0],
                      after_batch=hooks[1])
        return model


def fit(model: Any, budget: Budget, work: Path, calib: np.ndarray, train: Data | None,
        eval_data: Data | None, max_drop: float | None = None, epochs: int = 8,
        progress: bool = True, levels: tuple[float, ...] = PRUNE_LEVELS,
        noise_samples: int = SENS_SAMPLES, learning_rate: float = RECOVERY_LR) -> FitResult:
    """The search (module docstring). `work`: its folder (every candidate's C); `calib`: samples
    for quantization; `noise_samples`: eval samples the sensitivities are measured on;
    `learning_rate`: where recovery's cosine schedule starts (lower it for unnormalized inputs)."""
    from tqdm import tqdm

    from .pipeline import copy_model, load

    original = load(model)
    work.mkdir(parents=True, exist_ok=True)
    s = Search(original, budget, work, calib, train, eval_data, epochs, progress, noise_samples,
               learning_rate)
    float_acc = accuracy(original, *eval_data) if eval_data is not None else None
    path = save(original, work / "original.keras")
    v0 = Variants(path, calib)
    base, compiled0 = s.measure(v0, {}, "int8", 0.0)
    s.say(f"int8: flash {base.flash:,} B, RAM {base.ram:,} B, MACs {base.macs:,}, "
          f"top-1 {_pct(base.accuracy)}")
    tol = s.tol = 1.0 if max_drop is None else max_drop
    s.base = base
    if train is None:  # pruning needs recovery training
        levels = tuple(p for p in levels if p == 0.0) or (0.0,)
    results: list[Level] = []
    s.bar = tqdm(desc="fit", unit="candidate", disable=not progress)
    try:
        for level in levels:
            s.say(f"structured pruning level {level:g}")
            first = level == 0.0
            got = fit_level(s, level, path if first else None, copy_model, v0 if first else None)
            if got is None:
                continue
            results.append(got)
            cand = got[0]
            drop = _drop(base, cand)
            if cand.fits(budget) and drop is not None and drop <= tol:
                break
            if cand.fits(budget) and drop is None:
                break
    finally:
        s.bar.close()
    fitting = [r for r in results if r[0].fits(budget)]
    if fitting:
        best = max(fitting, key=lambda r: -1.0 if r[0].accuracy is None else r[0].accuracy)
    elif results:
        best = min(results, key=lambda r: r[0].distance(budget))
    else:
        best = (base, path, compiled0, plan_rows(packable_ops(v0.keyed()), {}, {}, {}, {}, {}), {})
    final, final_path, _, plan, sens = best
    fits = final.fits(budget)
    drop = _drop(base, final)
    if not fits:
        closest = min(s.steps, key=lambda c: (c.distance(budget), -(c.accuracy or 0.0)))
        unit = {k: "" if k == "MACs" else " B" for k in budget.limits()}
        answer = ("does not fit: " + ", ".join(f"{k} is short by {v:,}{unit[k]} (needs "
                                              f"{closest.values()[k]:,}, budget {budget.limits()[k]:,})"
                                              for k, v in closest.short(budget).items())
                  + f"; closest candidate: {closest.step} (pruning {closest.prune:g}, "
                  + f"{_formats_line(closest)}): flash {closest.flash:,} B, RAM {closest.ram:,} B, "
                  + f"MACs {closest.macs:,}, top-1 {_pct(closest.accuracy)}")
        final = closest
    else:
        answer = (f"fits: flash {final.flash:,} B (budget {_b(budget.flash)}), RAM {final.ram:,} B "
                  f"(budget {_b(budget.ram)}), MACs {final.macs:,}, weights {final.weights:,} B, pruning "
                  f"{final.prune:g}" + ("" if drop is None else f", top-1 {_pct(final.accuracy)} "
                                        f"({-drop:+.2f} points vs int8 {_pct(base.accuracy)})"))
        if max_drop is not None and drop is not None and drop > max_drop:
            answer += f"; the drop exceeds --max-drop {max_drop}"
            fits = False
    return FitResult(fits, answer, plan, s.steps, final, final_path, Path(final.c_dir), sens, base, float_acc)


def fit_level(s: Search, level: float, path: Path | None, copy_model: Any,
              v: Variants | None) -> Level | None:
    """One pruning level: prune + recover, sensitivity, greedy formats, recovery, int16."""
    from .structured import prune_structured

    b = s.budget
    model = s.original
    channels: dict[str, str] = {}
    if level > 0.0:
        model, report = prune_structured(copy_model(s.original), level)
        channels = {m: f"{g['before']} -> {g['after']}" for g in report.groups for m in g["members"]
                    if not g["frozen"]}
        s.distill(model)
        path = save(model, s.work / f"pruned{level:g}.keras")
    assert path is not None
    if v is None:
        v = Variants(path, s.calib)
    start, compiled = s.measure(v, {}, f"pruned {level:g}" if level else "int8 (search)", level,
                                recovered=level > 0.0)
    if start.short(b).keys() & {"RAM", "MACs"}:
        s.say(f"  RAM / MACs over at pruning {level:g}: {start.short(b)}")
        return start, path, compiled, plan_rows(packable_ops(v.keyed()), {}, {}, {}, {}, channels), {}
    ops = packable_ops(v.keyed())
    names = keras_names(model, v.keyed())
    hidden = [op for op, _, _ in ops][1:-1]
    allowed: dict[str, tuple[str, ...]] = {}
    for op, _, _ in ops:
        fs = ["int4", "cb4"]
        if op in names and s.train is not None:
            fs.append("sp")
            if op in hidden:
                fs.append("b1")
        allowed[op] = tuple(fs)
    formats: dict[str, str] = {}
    sens: dict[str, dict[str, float]] = {}
    s.sens = {}
    current = start
    if {"flash", "weights"} & current.short(b).keys():
        sens = s.sens = sensitivity(s, v, model, ops, allowed, names, level)
        while {"flash", "weights"} & current.short(b).keys():
            move = best_move(ops, formats, sens, allowed)
            if move is None:
                break
            formats[move[0]] = move[1]
            step = f"p{level:g} {names.get(move[0], move[0])} -> {move[1]}"
            current, compiled = s.measure(v, formats, step, level)
    if s.train is not None and any(f in ("cb4", "b1", "sp") for f in formats.values()):
        final, final_c, final_model, final_path, vf = recover_best(s, model, formats, names, level,
                                                                   copy_model)
    else:
        final_model, final_path, vf = model, path, Variants(path, s.calib)
        final, final_c = s.measure(vf, formats, f"p{level:g} final", level, recovered=True)
    int16: tuple[str, ...] = ()
    if final.fits(b) and s.sub is not None:
        int16, final, final_c = spend_on_int16(s, vf, final_model, formats, final, final_c, level)
    s.say(f"  pruning {level:g}: {_formats_line(final)}; flash {final.flash:,} B, RAM {final.ram:,} B, "
          f"top-1 {_pct(final.accuracy)}")
    plan = plan_rows(ops, formats, names, sens, {op: n for op, n in op_names(vf.keyed()).items()
                                                   if n in int16}, channels)
    return final, final_path, final_c, plan, sens


def sensitivity(s: Search, v: Variants, model: Any, ops: list[tuple[str, str, int]],
                allowed: dict[str, tuple[str, ...]], names: dict[str, str],
                level: float) -> dict[str, dict[str, float]]:
    """Output noise (1 / SQNR vs the int8 model) with one op changed, per op and format."""
    x = s.sub[0][:s.noise_samples] if s.sub is not None else s.calib[:s.noise_samples]
    ref = outputs(v.compile({}, s.work / "sens_ref"), x)
    out: dict[str, dict[str, float]] = {op: {"int8": 0.0} for op, _, _ in ops}
    for op, _, _ in ops:
        for f in allowed[op]:
            compiled = v.compile({op: f}, s.work / "sens")
            out[op][f] = noise(outputs(compiled, x), ref)
            if s.bar is not None:
                s.bar.set_postfix_str(f"sensitivity {names.get(op, op)} {f}")
                s.bar.update(1)
    return out


def best_move(ops: list[tuple[str, str, int]], formats: dict[str, str], sens: dict[str, dict[str, float]],
              allowed: dict[str, tuple[str, ...]] | None = None) -> tuple[str, str] | None:
    """The (op, format) that adds the least output noise (measured alone, `sensitivity`) per
    weight byte saved, among formats smaller than the op's current one."""
    best, best_score = None, np.inf
    for op, _, n in ops:
        cur = formats.get(op, "int8")
        acc = sens.get(op, {})
        for f in (allowed or {}).get(op, PACKED):
            saved = n * (BYTES_PER_WEIGHT[cur] - BYTES_PER_WEIGHT[f])
            if saved <= 0:
                continue
            loss = max(0.0, acc.get(f, 1.0) - acc.get(cur, 0.0))
            score = (loss + 1e-6) / saved
            if score < best_score:
                best, best_score = (op, f), score
    return best


def spend_on_int16(s: Search, v: Variants, model: Any, formats: dict[str, str], final: Candidate,
                   compiled: Compiled, level: float,
                   ) -> tuple[tuple[str, ...], Candidate, Compiled]:
    """int16 activations on the int8-weight ops whose outputs they bring closest to the float
    model's, while the candidate still fits and its top-1 does not fall."""
    assert s.sub is not None
    x = s.sub[0][:s.noise_samples]
    ref = predict_logits(model, x)  # float
    keyed = v.keyed()
    names = op_names(keyed)
    by_name = {op.name: op for op in keyed.ops}
    base_noise = noise(outputs(compiled, x), ref)
    gains = []
    tried = 0
    # the ops most sensitive to weight noise first (a quantized graph per try: at most INT16_TRIES)
    order = sorted(names, key=lambda k: -max((v for f, v in s.sens.get(k, {}).items() if f != "int8"),
                                             default=0.0))
    for key in order:
        name = names[key]
        if key in formats or not lookup(by_name[name].kind).int16 or tried >= INT16_TRIES:
            continue
        tried += 1
        try:
            c = v.compile(formats, s.work / "int16", (name,))
        except MfError:
            continue
        gains.append((base_noise - noise(outputs(c, x), ref), name))
    chosen: tuple[str, ...] = ()
    for gain, name in sorted(gains, reverse=True)[:MAX_INT16]:
        if gain <= 0:
            break
        cand, c = s.measure(v, formats, f"p{level:g} +int16 {name[-30:]}", level, (*chosen, name),
                            recovered=True)
        if cand.fits(s.budget) and (cand.accuracy or 0.0) >= (final.accuracy or 0.0):
            chosen, final, compiled = (*chosen, name), cand, c
    return chosen, final, compiled


def recover_best(s: Search, model: Any, formats: dict[str, str], names: dict[str, str], level: float,
                 copy_model: Any) -> tuple[Candidate, Compiled, Any, Path, Variants]:
    """Recovery of one plan (`recover`), measured on the compiled C: up to RECOVERY_SEEDS seeds
    (another order of the batches and of the held-out split) while the measured top-1 misses
    the tolerance, so one unlucky run of the 1-bit layers' training does not send the search
    to pruning; b1 plans train B1_EPOCHS times longer. Returns the most accurate run's
    candidate, C, model, saved path and variants."""
    epochs = s.epochs * (B1_EPOCHS if "b1" in formats.values() else 1)
    best: tuple[Candidate, Compiled, Any, Path, Variants] | None = None
    for seed in range(RECOVERY_SEEDS):
        m = recover(copy_model(model), s.original, formats, names, s.train, epochs, False, s.learning_rate,
                    seed)
        p = save(m, s.work / f"fitted{level:g}_{seed}.keras")
        vf = Variants(p, s.calib)
        cand, c = s.measure(vf, formats, f"p{level:g} recovered" + (f" (seed {seed})" if seed else ""),
                            level, recovered=True)
        if best is None or (cand.accuracy or 0.0) > (best[0].accuracy or 0.0):
            best = (cand, c, m, p, vf)
        drop = None if s.base is None else _drop(s.base, cand)
        s.say(f"  recovery (seed {seed}, at most {epochs} epochs): top-1 {_pct(cand.accuracy)}")
        if drop is None or drop <= s.tol:
            break
    assert best is not None
    return best


def recover(model: Any, teacher: Any, formats: dict[str, str], names: dict[str, str], train: Data,
            epochs: int, progress: bool, learning_rate: float = RECOVERY_LR, seed: int = 0) -> Any:
    """Cluster the cb4 layers, train the b1 layers binarized and the sp layers under their
    magnitude masks, distilling from `teacher` (seeded, deterministic ops: distill.deterministic).
    Only the cb4 layers' BatchNormalization is folded first (so their compiled codebooks are
    exact, compress/fold.py); the others keep training theirs, which matters for b1 layers: the
    normalization after a binarized convolution re-learns the scale of its outputs (as in
    XNOR-Net and BNN training), and the compiler folds it into alpha_c * sign(W) exactly (a
    per-channel scale). On the residual CNN at 1/12 (three seeds, two threads), the int8 C's
    top-1 was 95.5-96.2% with every BN folded, 96.7-97.7% with only the cb4 layers'.
    Plans with b1 layers warm up over the first WARMUP of the steps and stop early only after
    B1_PATIENCE epochs without a better held-out loss: the sign flips of a straight-through
    estimator make the first epochs' loss noisy."""
    from . import cluster as clustering
    from .fold import fold_batch_norm

    cb4 = {names[op] for op, f in formats.items() if f == "cb4" and op in names}
    b1 = {names[op] for op, f in formats.items() if f == "b1" and op in names}
    sp = {names[op] for op, f in formats.items() if f == "sp" and op in names}
    if cb4:  # only the cb4 layers' (exact codebooks); a b1 layer's keeps renormalizing its outputs
        model, _ = fold_batch_norm(model, cb4)
    state = clustering.cluster_weights(model, 16, names=cb4) if cb4 else None
    binary = BinaryState.of([model.get_layer(n) for n in sorted(b1)]) if b1 else None
    masks = {}
    for n in sp:
        w = model.get_layer(n).get_weights()
        masks[n] = magnitude_mask(w[0])
        model.get_layer(n).set_weights([np.where(masks[n], w[0], 0.0).astype(w[0].dtype), *w[1:]])

    def before() -> None:
        if binary is not None:
            binary.binarize()

    def after() -> None:
        if binary is not None:
            binary.restore()
        if state is not None:
            clustering.snap_to_centroids(model, state)
        for n, m in masks.items():
            kernel = model.get_layer(n).kernel
            kernel.assign(kernel * m.astype(np.float32))

    cfg = DistillConfig(epochs=epochs, alpha=0.3, schedule="cosine", validation=0.1,
                        patience=B1_PATIENCE if b1 else 3, warmup=WARMUP if b1 else 0.0,
                        progress=progress, learning_rate=learning_rate, seed=seed, deterministic=True)
    train_student(model, *train, teacher=teacher, config=cfg, before_batch=before, after_batch=after)
    if binary is not None:
        binary.finalize()
    return model


def plan_rows(ops: list[tuple[str, str, int]], formats: dict[str, str], names: dict[str, str],
              sens: dict[str, dict[str, float]], int16: dict[str, str],
              channels: dict[str, str]) -> list[dict]:
    """Per weighted op: its Keras layer, weight format, output channels kept by pruning,
    int16 activations, and the output noise each format added alone (sensitivity)."""
    return [{"op": op, "layer": names.get(op, ""), "kind": kind, "weights": n,
             "format": formats.get(op, "int8"), "channels": channels.get(names.get(op, ""), "kept"),
             "int16_activations": op in int16,
             "sensitivity_noise": {k: round(v, 6) for k, v in sens.get(op, {}).items()}}
            for op, kind, n in ops]


def compile_options(result: FitResult, calib: np.ndarray, **kw: Any) -> Any:
    """The CompileOptions that compile `result.model_path` as the search measured it."""
    from mcuforge.compile import CompileOptions

    formats = {row["op"]: row["format"] for row in result.plan}
    packed = {k: v for k, v in formats.items() if v in PACKED}
    return CompileOptions(calib=calib, layer_weights=packed or None,
                          int16_layers=tuple(result.final.int16), sparse="sp" in formats.values(), **kw)


def write_report(result: FitResult, budget: Budget, path: Path) -> Path | None:
    """fit_report.json and, beside it, fit_pareto.png; returns the plot's path."""
    from .plot import plot_pareto

    png = plot_pareto(result.steps, budget, result.final, path.parent / "fit_pareto.png")
    report = {"fits": result.fits, "answer": result.answer, "budget": asdict(budget), "plan": result.plan,
              "int8": asdict(result.base) if result.base else None, "float_top1": result.float_accuracy,
              "final": asdict(result.final), "steps": [asdict(s) for s in result.steps],
              "model": str(result.model_path), "c": str(result.c_dir), "plot": str(png) if png else None}
    path.write_text(json.dumps(report, indent=2) + "\n")
    return png


def _drop(base: Candidate, c: Candidate) -> float | None:
    return None if base.accuracy is None or c.accuracy is None else 100 * (base.accuracy - c.accuracy)


def _formats_line(c: Candidate) -> str:
    counts: dict[str, int] = {}
    for f in c.formats.values():
        counts[f] = counts.get(f, 0) + 1
    parts = [f"{n} {f}" for f, n in sorted(counts.items())] + ([f"{len(c.int16)} int16"] if c.int16 else [])
    return ", ".join(parts) or "all int8"


def _pct(a: float | None) -> str:
    return "n/a" if a is None else f"{100 * a:.2f}%"


def _b(v: int | None) -> str:
    return "none" if v is None else f"{v:,} B"


def budget_of(board: str | None, ram: int | None, flash: int | None, macs: int | None = None,
              weights: int | None = None) -> Budget:
    if board:
        from mcuforge.firmware.boards import load_board

        b = load_board(board)
        return Budget(ram if ram is not None else b.ram.length,
                      flash if flash is not None else b.flash.length, board, macs, weights)
    if ram is None and flash is None and macs is None and weights is None:
        raise MfError("fit needs a budget: --board BOARD, or --ram BYTES / --flash BYTES / --macs N / "
                      "--weights BYTES")
    return Budget(ram, flash, macs=macs, weights=weights)


def tf_threads() -> None:
    """Few TensorFlow threads (the search trains repeatedly on small data)."""
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "2")
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
