"""Compression toolbox on digits CNNs (sklearn 8x8 digits, trained once per module): each
technique alone and the combined pipeline, measured on the compiled C, which stays bit-exact
with the integer reference."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from mcuforge.cli import main
from mcuforge.compile import CompileOptions
from mcuforge.compress import cluster, prune
from mcuforge.compress.distill import DistillConfig, accuracy, train_student
from mcuforge.compress.entropy import entropy_report, huffman_bits
from mcuforge.compress.keras_graph import count_params
from mcuforge.compress.lowrank import factorize
from mcuforge.compress.measure import measure, save
from mcuforge.compress.pipeline import CompressOptions, compress
from mcuforge.compress.plot import plot_accuracy_vs_flash
from mcuforge.compress.structured import prune_structured
from mcuforge.runner import run_model

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
pytestmark = pytest.mark.slow


def test_huffman_bits() -> None:
    assert huffman_bits(np.array([5, 5, 5, 5])) == 4
    # counts 4, 2, 1, 1 -> code lengths 1, 2, 3, 3
    assert huffman_bits(np.array([0] * 4 + [1] * 2 + [2, 3])) == 4 * 1 + 2 * 2 + 3 + 3


@pytest.fixture(scope="module")
def digits() -> dict[str, np.ndarray]:
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.images / 16.0).astype(np.float32)[..., None]
    return {"x": x[:1400], "y": d.target[:1400], "xt": x[1400:], "yt": d.target[1400:]}


def cnn(width: int = 16, dense: int = 64):
    import keras

    i = keras.Input((8, 8, 1))
    # Named layers: Keras numbers unnamed ones per process, so names would depend on test order.
    a = keras.layers.Conv2D(width, 3, padding="same", name="conv_a")(i)
    a = keras.layers.ReLU()(keras.layers.BatchNormalization()(a))
    b = keras.layers.BatchNormalization()(keras.layers.Conv2D(width, 3, padding="same", name="conv_b")(a))
    c = keras.layers.ReLU()(keras.layers.Add()([a, b]))
    d = keras.layers.Conv2D(2 * width, 3, strides=2, padding="same", activation="relu")(c)
    h = keras.layers.Dense(dense, activation="relu")(keras.layers.Flatten()(d))
    return keras.Model(i, keras.layers.Dense(10)(h))


def fit(model, digits: dict, epochs: int):
    import keras

    keras.utils.set_random_seed(0)
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(digits["x"], digits["y"], epochs=epochs, batch_size=32, verbose=0)
    return model


@pytest.fixture(scope="module")
def trained(digits: dict):
    import keras

    keras.utils.set_random_seed(0)
    return fit(cnn(), digits, 30)


def test_structured_pruning_keeps_residual_channels_consistent(digits: dict, tmp_path: Path) -> None:
    import keras

    keras.utils.set_random_seed(1)
    model = cnn()
    same, _ = prune_structured(model, 0.0)
    np.testing.assert_allclose(same(digits["xt"][:8]), model(digits["xt"][:8]), atol=1e-5)
    pruned, report = prune_structured(model, 0.5, norm="l2")
    groups = {"+".join(sorted(g["members"])): g for g in report.groups}
    assert groups["conv_a+conv_b"]["after"] == 8  # both sides of the Add keep the same channels
    assert any("model output" in g["frozen"] for g in report.groups)
    base, _ = measure(model, "base", tmp_path, digits["x"][:50])
    row, _ = measure(pruned, "pruned", tmp_path, digits["x"][:50])
    assert row.macs < 0.35 * base.macs and row.flash_bytes < 0.35 * base.flash_bytes
    assert row.params == count_params(pruned)


@pytest.mark.cbuild
def test_combined_pipeline_meets_the_target(trained, digits: dict, tmp_path: Path) -> None:
    """prune -> cluster (4-bit codebooks) -> distillation recovery: <= 1 point below float,
    weights flash <= 1/8 of the float32 weights, C bit-exact."""
    opts = CompressOptions(prune_structured=0.5, cluster=16)  # the default recovery
    result = compress(trained, opts, (digits["x"], digits["y"]), (digits["xt"], digits["yt"]),
                      work_dir=tmp_path / "work")
    rows = {r.step: r for r in result.rows}
    assert list(rows) == ["float32", "int8", "prune-structured", "cluster"]
    final, f32 = rows["cluster"], rows["float32"]
    assert final.flash_bytes <= f32.flash_bytes / 8
    assert final.accuracy >= f32.accuracy - 0.01, (final.accuracy, f32.accuracy)
    assert final.macs < rows["int8"].macs / 3
    path = save(result.model, tmp_path / "compressed.keras")
    run = run_model(path, digits["xt"][:40], CompileOptions(calib=digits["x"][:200], weights="cb4"),
                    out_dir=tmp_path / "c")
    assert run.mismatches == {}
    kernels = {op["kernel"] for op in run.compiled.report["ops"]}
    assert {"mf_convolve_cb4", "mf_fully_connected_cb4"} <= kernels
    ent = entropy_report(run.compiled.graph)
    assert all(e.huffman_bytes <= e.stored_bytes for e in ent)
    png = plot_accuracy_vs_flash(result.rows, tmp_path / "plot.png")
    assert png is not None and png.read_bytes()[:4] == b"\x89PNG"


def test_int4_alone(trained, digits: dict, tmp_path: Path) -> None:
    data = (digits["xt"], digits["yt"])
    int8, _ = measure(trained, "int8", tmp_path, digits["x"][:200], "int8", data)
    int4, compiled = measure(trained, "int4", tmp_path, digits["x"][:200], "int4", data)
    assert int4.flash_bytes < 0.55 * int8.flash_bytes
    assert int4.accuracy >= int8.accuracy - 0.02
    assert all(n["encoding"] == "int4" for n in compiled.report["weight_encoding"])


def test_clustering_fine_tunes_centroids_and_keeps_pruned_zeros(trained, digits: dict) -> None:
    import keras

    model = keras.models.clone_model(trained)
    model.set_weights(trained.get_weights())
    masks = prune.magnitude_masks(model, 0.5)
    prune.apply_masks(model, masks)
    state = cluster.cluster_weights(model, 8)
    before = {k: v.copy() for k, v in state.assign.items()}
    train_student(model, digits["x"], digits["y"], config=DistillConfig(epochs=1),
                  after_batch=lambda: cluster.snap_to_centroids(model, state))
    assert all(v <= 8 for v in cluster.distinct_values(model).values())
    assert all(np.array_equal(before[k], state.assign[k]) for k in before)
    assert min(prune.sparsity_of(model).values()) >= 0.5


def test_unstructured_pruning_iterative(trained, digits: dict) -> None:
    import keras

    model = keras.models.clone_model(trained)
    model.set_weights(trained.get_weights())
    assert prune.schedule(0.8, 3)[-1] == pytest.approx(0.8)
    for s in prune.schedule(0.8, 2):
        masks = prune.magnitude_masks(model, s)
        prune.apply_masks(model, masks)
        train_student(model, digits["x"], digits["y"], config=DistillConfig(epochs=2),
                      after_batch=lambda m=masks: prune.apply_masks(model, m))
    assert min(prune.sparsity_of(model).values()) >= 0.79
    assert accuracy(model, digits["xt"], digits["yt"]) > 0.85


def test_lowrank_only_where_it_pays(trained, digits: dict, tmp_path: Path) -> None:
    model, notes = factorize(trained, energy=0.9)
    hidden = next(n for n in notes if n.shape == (512, 64))
    logits = next(n for n in notes if n.shape == (64, 10))
    assert hidden.rank is not None and hidden.weights_after < hidden.weights_before
    assert logits.rank is None  # a split would not save weights
    assert count_params(model) < count_params(trained)
    train_student(model, digits["x"], digits["y"], teacher=trained, config=DistillConfig(epochs=3))
    row, _ = measure(model, "lowrank", tmp_path, digits["x"][:200], eval_data=(digits["xt"], digits["yt"]))
    base, _ = measure(trained, "int8", tmp_path, digits["x"][:200])
    assert row.macs < base.macs and row.flash_bytes < base.flash_bytes
    assert row.accuracy > 0.88


def test_distillation_trains_a_smaller_student(trained, digits: dict) -> None:
    import keras

    keras.utils.set_random_seed(2)
    student = cnn(width=4, dense=16)
    losses = train_student(student, digits["x"], digits["y"], teacher=trained,
                           config=DistillConfig(epochs=12, temperature=4.0, alpha=0.3))
    assert losses[-1] < losses[0]
    assert count_params(student) < count_params(trained) / 5
    assert accuracy(student, digits["xt"], digits["yt"]) > 0.85


def test_cli_compress_and_compile(trained, digits: dict, tmp_path: Path,
                                  capsys: pytest.CaptureFixture) -> None:
    model = save(trained, tmp_path / "m.keras")
    for name in ("x", "y", "xt", "yt"):
        np.save(tmp_path / f"{name}.npy", digits[name][:300])
    out = tmp_path / "small.keras"
    code = main(["compress", str(model), "--train", str(tmp_path / "x.npy"), str(tmp_path / "y.npy"),
                 "--eval", str(tmp_path / "xt.npy"), str(tmp_path / "yt.npy"), "--cluster", "16",
                 "--epochs", "1", "-o", str(out)])
    assert code == 0 and out.exists()
    assert (tmp_path / "small_accuracy_vs_flash.png").exists()
    printed = capsys.readouterr().out
    assert "weights flash" in printed and "entropy report" in printed
    code = main(["compile", str(out), "--calib", str(tmp_path / "x.npy"), "--cluster", "16",
                 "-o", str(tmp_path / "c")])
    assert code == 0
    assert "mf_fully_connected_cb4" in (tmp_path / "c" / "small.c").read_text()


@pytest.mark.cbuild
def test_mlperf_resnet8_structured_pruning_and_clustering(mlperf_dir: Path, tmp_path: Path) -> None:
    """Float MLPerf Tiny ResNet-8, data-free (no CIFAR-10 here): 30% of the channels out through
    the residual adds, 16-centroid codebooks; fewer MACs and bytes, C bit-exact on host."""
    calib = np.random.default_rng(0).random((16, 32, 32, 3), dtype=np.float32)
    result = compress(mlperf_dir / "ic_resnet8.h5", CompressOptions(prune_structured=0.3, cluster=16),
                      calib=calib, work_dir=tmp_path / "work", eval_data=None)
    rows = {r.step: r for r in result.rows}
    assert rows["prune-structured"].macs < 0.6 * rows["int8"].macs
    assert rows["cluster"].flash_bytes < 0.3 * rows["int8"].flash_bytes
    assert "accuracy not recovered" in rows["cluster"].note
    path = save(result.model, tmp_path / "r8.keras")
    run = run_model(path, calib[:3], CompileOptions(calib=calib, weights="cb4"), out_dir=tmp_path / "c")
    assert run.mismatches == {}
