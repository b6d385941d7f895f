"""`mcuforge fit` on three budgets and three models (issue 16), each result compiled and checked
bit-exact against the integer reference on the host and under QEMU (mps2-an386, instructions
per inference from -icount):

- digits: the issue's residual digits CNN (BN, two residual stages, GAP, dense), trained here
  on sklearn's 8x8 digits;
- resnet8: MLPerf Tiny's image-classification ResNet-8 (../shared/models/mlperf_tiny/ic_resnet8.h5)
  on 32x32x3 inputs derived from the digits (upscaled, colour-tinted, noise added), labelled by
  the float model's own top-1 (the task: keep agreeing with it);
- kws: a small DS-CNN (MLPerf KWS's shape: conv, depthwise-separable blocks, GAP, dense) on
  synthetic 49x10 "spectrograms" of 12 classes (class templates shifted in time, plus noise).

    python bench/fit_budgets.py OUT [--only digits,resnet8,kws]

writes OUT/NAME/fit_report.json, fit_pareto.png and OUT/summary.json, and prints the per-layer
plan and the figures (top-1 float / int8 / fitted, flash, RAM, MACs, instructions).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "2")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
# with oneDNN, training the pruned ResNet-8 corrupted the heap (twice, "free(): invalid next size")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np

from mcuforge.compress.reference_models import digits_split as digits
from mcuforge.compress.reference_models import residual_cnn

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def digits_case():
    import keras

    x, y, xt, yt = digits()
    keras.utils.set_random_seed(0)
    m = residual_cnn()
    m.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    m.fit(x, y, epochs=30, batch_size=32, verbose=0)
    return m, (x, y), (xt, yt)


def resnet8_case(n_train: int = 800, n_eval: int = 110):
    from mcuforge.compress.pipeline import load

    path = SHARED / "models" / "mlperf_tiny" / "ic_resnet8.h5"
    if not path.exists():
        raise SystemExit(f"{path} not found")
    model = load(path)
    x8, _, xt8, _ = digits()
    rng = np.random.default_rng(0)

    def to32(a: np.ndarray) -> np.ndarray:
        """A digit (upscaled 4x, a random colour) over a smooth random colour background, noise
        added, 0..255 as the model was trained on CIFAR-10's raw pixel values."""
        n = len(a)
        digit = np.kron(a[..., 0], np.ones((4, 4), np.float32))[..., None]  # (N, 32, 32, 1)
        back = np.kron(rng.uniform(0, 1, size=(n, 4, 4, 3)), np.ones((1, 8, 8, 1))).astype(np.float32)
        fg = rng.uniform(0, 1, size=(n, 1, 1, 3)).astype(np.float32)
        img = back * (1 - digit) + digit * fg + rng.normal(0, 0.05, size=(n, 32, 32, 3)).astype(np.float32)
        return (255 * np.clip(img, 0, 1)).astype(np.float32)

    x, xt = to32(x8[:n_train]), to32(xt8[:n_eval])
    y = np.argmax(model.predict(x, verbose=0), axis=1)
    yt = np.argmax(model.predict(xt, verbose=0), axis=1)
    print(f"resnet8 labels from the float model: train classes {np.bincount(y, minlength=10).tolist()}")
    # labels of one class are too few to learn from: keep the classes with >= 2% of the samples
    common = np.bincount(y, minlength=10) >= 0.02 * len(y)
    keep, keep_t = common[y], common[yt]
    return model, (x[keep], y[keep]), (xt[keep_t], yt[keep_t])


def kws_data(n: int, rng: np.random.Generator, templates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = rng.integers(0, len(templates), size=n)
    x = np.empty((n, 49, 10, 1), np.float32)
    for i, c in enumerate(y):
        shift = int(rng.integers(-6, 7))
        x[i, ..., 0] = np.roll(templates[c], shift, axis=0) * rng.uniform(0.7, 1.3)
    x += rng.normal(0, 1.6, size=x.shape).astype(np.float32)  # a matched filter gets about 99%
    return x, y


def ds_cnn():
    import keras

    L = keras.layers
    i = keras.Input((49, 10, 1))
    h = L.ReLU()(L.BatchNormalization()(L.Conv2D(32, (10, 4), strides=2, padding="same", name="conv0")(i)))
    for b in range(3):
        h = L.ReLU()(L.BatchNormalization()(L.DepthwiseConv2D(3, padding="same", name=f"dw{b}")(h)))
        h = L.ReLU()(L.BatchNormalization()(L.Conv2D(32, 1, name=f"pw{b}")(h)))
    h = L.GlobalAveragePooling2D()(h)
    return keras.Model(i, L.Dense(12, name="fc")(h))


def kws_case():
    import keras

    rng = np.random.default_rng(1)
    base = rng.normal(0, 1, size=(12, 49, 10)).astype(np.float32)
    # smooth templates: energy that moves along time and frequency like formants
    k = np.ones((5, 3), np.float32) / 15
    from scipy.signal import convolve2d

    templates = np.stack([convolve2d(t, k, mode="same") for t in base]) * 2.0
    x, y = kws_data(2000, rng, templates)
    xt, yt = kws_data(400, rng, templates)
    keras.utils.set_random_seed(0)
    m = ds_cnn()
    m.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    m.fit(x, y, epochs=12, batch_size=32, verbose=0)
    return m, (x, y), (xt, yt)


CASES = {
    # name: (build, budget factory from the int8 baseline (flash, ram, macs), fit kwargs)
    "digits": (digits_case, lambda f, r, m: {"flash": 20_000, "ram": 4_096}, {}),
    # a MACs budget (0.75x) needs structured pruning, which 4 epochs on these synthetic images do not
    # recover on ResNet-8 (0.25: 61.7% against 91.6% int8 agreement with the float model); flash only
    # raw 0..255 pixels: recovery from 2e-3 wrecked the first layers (3.7% after one epoch); 2e-4
    "resnet8": (resnet8_case, lambda f, r, m: {"flash": int(0.55 * f)},
                {"epochs": 4, "noise_samples": 32, "learning_rate": 2e-4}),
    "kws": (kws_case, lambda f, r, m: {"flash": int(0.8 * f), "ram": int(0.8 * r)}, {"epochs": 6,
                                                                                     "noise_samples": 100}),
}


def baseline(model, calib: np.ndarray, work: Path) -> tuple[int, int, int]:
    from mcuforge.compress.fit import Budget, Search
    from mcuforge.compress.measure import save
    from mcuforge.compress.variants import Variants

    s = Search(model, Budget(None, None), work, calib, None, None, 1, False)
    c, _ = s.measure(Variants(save(model, work / "base.keras"), calib), {}, "int8", 0.0)
    return c.flash, c.ram, c.macs


def run_case(name: str, out: Path) -> dict:
    from mcuforge.compress.distill import accuracy
    from mcuforge.compress.fit import Budget, compile_options, fit, write_report
    from mcuforge.runner import run_model, run_on_board

    build, budget_of, kwargs = CASES[name]
    t0 = time.time()
    model, train, eval_data = build()
    calib = train[0][:64 if name == "resnet8" else 200]  # ResNet-8 calibrates slowly
    folder = out / name
    folder.mkdir(parents=True, exist_ok=True)
    flash, ram, macs = baseline(model, calib, folder / "base")
    budget = Budget(board="mps2-an386", **{"ram": None, "flash": None, **budget_of(flash, ram, macs)})
    print(f"== {name}: int8 flash {flash:,} B, RAM {ram:,} B, MACs {macs:,}; budget {budget}")
    result = fit(model, budget, folder / "work", calib, train, eval_data, max_drop=None, progress=True,
                 **kwargs)
    png = write_report(result, budget, folder / "fit_report.json")
    final = result.final
    opts = compile_options(result, calib)
    host = run_model(result.model_path, eval_data[0][:20], opts, out_dir=folder / "host")
    board = run_on_board(result.model_path, eval_data[0][:2], "mps2-an386", opts, out_dir=folder / "qemu")
    summary = {
        "model": name, "budget": {k: v for k, v in vars(budget).items() if v is not None},
        "answer": result.answer, "fits": result.fits,
        "float_top1": accuracy(model, *eval_data), "int8": vars(result.base) if result.base else None,
        "final": {k: v for k, v in vars(final).items() if k not in ("formats",)},
        "plan": [{k: r[k] for k in ("layer", "kind", "weights", "format", "channels", "int16_activations")}
                 for r in result.plan],
        "host_mismatches": host.mismatches, "qemu_mismatches": board.mismatches,
        "instructions": board.instructions[0], "plot": str(png), "seconds": round(time.time() - t0),
    }
    print(json.dumps({k: summary[k] for k in ("answer", "plan", "host_mismatches", "qemu_mismatches",
                                                "instructions", "seconds")}, indent=1, default=str))
    return summary


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out")
    p.add_argument("--only", default=",".join(CASES))
    args = p.parse_args()
    out = Path(args.out)
    results = []
    for name in args.only.split(","):
        results.append(run_case(name, out))
        (out / "summary.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    ok = all(r["fits"] and not r["host_mismatches"] and not r["qemu_mismatches"] for r in results)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
