"""`mcuforge fuzz`: generate, export, compile, run and compare many models in parallel.

Each model's seed is `model_seed(S, index)`, so `--index I` regenerates model I of seed S alone.
Workers are spawned processes (TensorFlow and torch load in each worker, lazily, never in the
parent). Failures (mismatch, crash) are minimized in the worker and written to
OUT/<frontend>-<index>/: the minimized model, input.npy (and calib.npy), spec.json,
summary.json and repro.sh.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
import warnings
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from mcuforge.fuzz.check import Outcome, check
from mcuforge.fuzz.generate import generate, model_seed
from mcuforge.fuzz.minimize import minimize
from mcuforge.fuzz.ops import FRONTENDS
from mcuforge.fuzz.spec import ModelSpec

FAILURES = ("mismatch", "crash")
BATCH = 100  # models per worker before the pool is replaced (TensorFlow leaks per model)


@dataclass(frozen=True)
class Job:
    seed: int
    index: int
    frontend: str
    board: str
    out: str
    minimize: bool = True


def frontend_of(choice: str, index: int) -> str:
    return FRONTENDS[index % len(FRONTENDS)] if choice == "all" else choice


def run_job(job: Job) -> dict:
    warnings.filterwarnings("ignore")
    spec = generate(model_seed(job.seed, job.index), job.frontend)
    outcome = check(spec, job.frontend, job.board)
    record = {"index": job.index, "frontend": job.frontend, "ops": spec.describe(), **outcome.to_json()}
    if outcome.status in FAILURES:
        record["dir"] = str(write_failure(job, spec, outcome))
    return record


def write_failure(job: Job, spec: ModelSpec, outcome: Outcome) -> Path:
    small = spec
    if job.minimize and len(spec.nodes) > 1:
        small = minimize(spec, lambda s: check(s, job.frontend, job.board).signature() == outcome.signature())
    folder = Path(job.out) / f"{job.frontend}-{job.index}"
    shutil.rmtree(folder, ignore_errors=True)
    final = check(small, job.frontend, job.board, keep=folder)
    if final.signature() != outcome.signature():  # flaky minimization: keep the original
        small = spec
        shutil.rmtree(folder, ignore_errors=True)
        final = check(small, job.frontend, job.board, keep=folder)
    shutil.rmtree(folder / "c", ignore_errors=True)
    shutil.rmtree(folder / "fw", ignore_errors=True)
    model = next((p.name for p in sorted(folder.glob("model.*"))), "model")
    calib = " --calib calib.npy" if (folder / "calib.npy").exists() else ""
    board = f" --board {job.board}" if job.board != "host" else ""
    regen = (f"mcuforge fuzz --seed {job.seed} --index {job.index} --frontend {job.frontend}{board} "
             f"-o {shlex.quote(str(Path(job.out) / 'repro'))}")
    run = f"mcuforge run {model}{calib} --input input.npy --output /tmp/y.npy{board}"
    head = f"#!/bin/sh\n# {outcome.status}: {outcome.reason}\ncd \"$(dirname \"$0\")\"\n"
    (folder / "repro.sh").write_text(f"{head}{run}\n# the unminimized model: {regen}\n")
    (folder / "spec.json").write_text(json.dumps(small.to_json(), indent=1))
    summary = {"seed": job.seed, "index": job.index, "frontend": job.frontend, "board": job.board,
               "outcome": outcome.to_json(), "minimized_outcome": final.to_json(),
               "ops_before": spec.describe(), "ops_after": small.describe(), "repro": run,
               "regenerate": regen}
    (folder / "summary.json").write_text(json.dumps(summary, indent=1))
    return folder


def _results(jobs: list[Job], workers: int) -> Iterator[dict]:
    if workers <= 1:  # in this process (a library's abort ends the run: use --jobs 2 for long runs)
        yield from map(run_job, jobs)
        return
    pending = list(jobs)
    while pending:
        # A fresh pool per batch bounds the memory TensorFlow leaks per worker. (Not
        # max_tasks_per_child: with it, Python 3.11's pool hangs once the first workers retire;
        # a 3,000-model run stopped at 2 x 40 models.)
        batch, pending = pending[:BATCH * workers], pending[BATCH * workers:]
        lost: list[Job] = []
        with _pool(workers) as pool:
            futures = {pool.submit(run_job, j): j for j in batch}
            for f in as_completed(futures):
                try:
                    yield f.result()
                except BrokenProcessPool:  # a worker died (an abort or segfault in a library)
                    lost.append(futures[f])
        lost.sort(key=lambda j: j.index)
        if lost:  # find the killer: the first lost job alone in a fresh worker
            yield _isolated(lost[0])
        pending = lost[1:] + pending


def _pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(workers, mp_context=get_context("spawn"))


def _isolated(job: Job) -> dict:
    with _pool(1) as pool:
        try:
            return pool.submit(run_job, job).result()
        except BrokenProcessPool:
            return {"index": job.index, "frontend": job.frontend, "ops": "", "status": "crash",
                    "reason": "the worker process died (abort or segfault in mcuforge or a library)",
                    "detail": f"regenerate: mcuforge fuzz --seed {job.seed} --index {job.index} "
                              f"--frontend {job.frontend} --jobs 1", "seconds": 0.0}


def summary_line(records: list[dict]) -> str:
    by = Counter(r["status"] for r in records)
    refused = Counter(r["reason"] for r in records if r["status"] == "refused")
    reasons = "; ".join(f"{k}x {r}" for r, k in refused.most_common())
    noisy = sum(r["status"] == "ok" and r.get("reason") == "quantization-limited" for r in records)
    limited = f" ({noisy} of them quantization-limited against float)" if noisy else ""
    line = (f"{len(records)} models: {by['ok']} bit-exact{limited}, {by['mismatch']} mismatched, "
            f"{by['refused']} refused{f' ({reasons})' if reasons else ''}, {by['crash']} crashed")
    if by["export"]:
        line += f", {by['export']} not exportable by the front end"
    return line


def fuzz(count: int, seed: int, out: Path, frontend: str = "all", board: str = "host",
         jobs: int | None = None, index: int | None = None, progress: bool = True,
         minimize_failures: bool = True) -> list[dict]:
    out.mkdir(parents=True, exist_ok=True)
    indices = [index] if index is not None else list(range(count))
    work = [Job(seed, i, frontend_of(frontend, i), board, str(out), minimize_failures) for i in indices]
    workers = max(1, min(jobs or os.cpu_count() or 1, len(work)))
    records: list[dict] = []
    bar = _bar(len(work), progress)
    log = (out / "results.jsonl").open("a")  # one line per model as it finishes (long runs)
    for r in _results(work, workers):
        records.append(r)
        log.write(json.dumps({"seed": seed, **{k: v for k, v in r.items() if k != "detail"}}) + "\n")
        log.flush()
        if r["status"] in FAILURES:
            msg = (f"{r['status']}: {r['frontend']} model {r['index']} (seed {seed}): {r['reason']} "
                   f"[{r['ops']}] -> {r.get('dir', '')}")
            (bar.write if bar else print)(msg, file=sys.stdout)
        if bar:
            bar.update(1)
    log.close()
    if bar:
        bar.close()
    records.sort(key=lambda r: r["index"])
    (out / "results.json").write_text(json.dumps({"seed": seed, "frontend": frontend, "board": board,
                                                  "summary": summary_line(records), "models": records},
                                                 indent=1))
    print(summary_line(records))
    return records


def _bar(total: int, enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="model", file=sys.stderr, dynamic_ncols=True)
