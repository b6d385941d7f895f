"""A real sequence task: sklearn's digits, each 8x8 image read row by row as 8 steps of 8 values.

Recurrent classifiers trained for a few epochs: a PyTorch GRU (exported to ONNX, quantized by
mcuforge from training samples), a tf_keras LSTM converted to int8 by TF's converter (the fused
UNIDIRECTIONAL_SEQUENCE_LSTM), and float tf_keras LSTM and GRU (unroll=True) models through the
Keras importer, quantized by mcuforge. Compiled to C and run on the host over the held-out
images (C bit-exact with the integer reference), the int8 model's accuracy is within 1 point of
the float model's.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mcuforge.compile import CompileOptions
from mcuforge.runner import run_model

pytestmark = pytest.mark.slow


def _digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    datasets = pytest.importorskip("sklearn.datasets")
    d = datasets.load_digits()
    x = (d.images / 16.0).astype(np.float32)  # (N, 8 rows, 8 columns) in [0, 1]
    y = d.target.astype(np.int64)
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], y[order]
    cut = int(0.75 * len(x))
    return x[:cut], y[:cut], x[cut:], y[cut:]


def _accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
    return 100.0 * float(np.mean(np.argmax(logits.reshape(len(labels), -1), axis=-1) == labels))


def test_torch_gru_on_digits_int8_within_one_point(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    x_train, y_train, x_test, y_test = _digits()
    torch.manual_seed(0)

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.gru = torch.nn.GRU(8, 32, batch_first=True)
            self.fc = torch.nn.Linear(32, 10)

        def forward(self, x: Any) -> Any:
            return self.fc(self.gru(x)[0][:, -1])

    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    for _ in range(15):
        for i in range(0, len(xt), 64):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(xt[i:i + 64]), yt[i:i + 64]).backward()
            opt.step()
    net.eval()
    with torch.no_grad():
        float_acc = _accuracy(net(torch.from_numpy(x_test)).numpy(), y_test)
    assert float_acc > 90, f"the float GRU did not learn ({float_acc:.1f}%)"
    path = tmp_path / "digits_gru.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, torch.zeros(1, 8, 8), str(path), input_names=["x"], dynamo=False)
    result = run_model(path, x_test, CompileOptions(calib=x_train[:200]), out_dir=tmp_path / "build")
    assert not result.mismatches
    int8_acc = _accuracy(next(iter(result.outputs.values())), y_test)
    assert abs(int8_acc - float_acc) <= 1.0, f"float {float_acc:.2f}%, int8 {int8_acc:.2f}%"


def test_keras_lstm_on_digits_int8_within_one_point(tmp_path: Path) -> None:
    from mcuforge.importers.keras_import import quiet_tensorflow

    with quiet_tensorflow():
        import tensorflow as tf
        import tf_keras as k
    x_train, y_train, x_test, y_test = _digits()
    k.utils.set_random_seed(0)
    inp = k.Input((8, 8), batch_size=1)
    model = k.Model(inp, k.layers.Dense(10)(k.layers.LSTM(32)(inp)))
    model.compile(optimizer=k.optimizers.Adam(0.01),
                  loss=k.losses.SparseCategoricalCrossentropy(from_logits=True))
    trainer = k.Sequential([k.Input((8, 8)), *model.layers[1:]])  # shares the layers, any batch
    trainer.compile(optimizer=k.optimizers.Adam(0.01),
                    loss=k.losses.SparseCategoricalCrossentropy(from_logits=True))
    trainer.fit(x_train, y_train, epochs=15, batch_size=64, verbose=0)
    float_acc = _accuracy(trainer.predict(x_test, verbose=0), y_test)
    assert float_acc > 90, f"the float LSTM did not learn ({float_acc:.1f}%)"

    def rep() -> Any:
        for s in x_train[:200]:
            yield [s[None]]

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = rep
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    with quiet_tensorflow():
        data = conv.convert()
    path = tmp_path / "digits_lstm.tflite"
    path.write_bytes(data)
    result = run_model(path, x_test, CompileOptions(), out_dir=tmp_path / "build")
    assert not result.mismatches
    int8_acc = _accuracy(next(iter(result.outputs.values())), y_test)
    assert abs(int8_acc - float_acc) <= 1.0, f"float {float_acc:.2f}%, int8 {int8_acc:.2f}%"


@pytest.mark.parametrize("layer", ["lstm", "gru_unrolled"])
def test_float_keras_rnn_on_digits_quantized_by_mcuforge(layer: str, tmp_path: Path) -> None:
    from mcuforge.importers.keras_import import quiet_tensorflow

    with quiet_tensorflow():
        import tf_keras as k
    x_train, y_train, x_test, y_test = _digits()
    k.utils.set_random_seed(0)
    inp = k.Input((8, 8), batch_size=1)
    rnn = k.layers.LSTM(32) if layer == "lstm" else k.layers.GRU(32, unroll=True)
    model = k.Model(inp, k.layers.Dense(10)(rnn(inp)))
    trainer = k.Sequential([k.Input((8, 8)), *model.layers[1:]])  # shares the layers, any batch
    trainer.compile(optimizer=k.optimizers.Adam(0.01),
                    loss=k.losses.SparseCategoricalCrossentropy(from_logits=True))
    trainer.fit(x_train, y_train, epochs=15, batch_size=64, verbose=0)
    float_acc = _accuracy(trainer.predict(x_test, verbose=0), y_test)
    assert float_acc > 90, f"the float {layer} did not learn ({float_acc:.1f}%)"
    path = tmp_path / f"digits_{layer}.h5"
    with quiet_tensorflow():
        model.save(path)
    result = run_model(path, x_test, CompileOptions(calib=x_train[:200]), out_dir=tmp_path / "build")
    assert not result.mismatches
    int8_acc = _accuracy(next(iter(result.outputs.values())), y_test)
    assert abs(int8_acc - float_acc) <= 1.0, f"float {float_acc:.2f}%, int8 {int8_acc:.2f}%"
