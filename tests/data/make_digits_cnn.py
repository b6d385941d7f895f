"""Regenerate compiler/mcuforge/examples/digits_cnn.onnx, the bundled example model.

A small CNN trained with Keras on scikit-learn's 8x8 digits (offline), written as an NCHW ONNX
graph with onnx.helper, so the example exercises the ONNX importer's layout conversion.
Run: .venv/bin/python tests/data/make_digits_cnn.py
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

OUT = Path(__file__).resolve().parents[2] / "compiler" / "mcuforge" / "examples" / "digits_cnn.onnx"


def digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    d = load_digits()
    return (d.images / 16.0).astype(np.float32), d.target.astype(np.int64)


def train() -> list[np.ndarray]:
    import keras

    x, y = digits()
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(8, 3, padding="same", activation="relu"),
        keras.layers.Conv2D(16, 3, strides=2, padding="same", activation="relu"),
        keras.layers.Flatten(),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(10),
    ])
    model.compile(optimizer="adam", metrics=["accuracy"],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x[:1400, ..., None], y[:1400], epochs=40, batch_size=32, verbose=0)
    _, acc = model.evaluate(x[1400:, ..., None], y[1400:], verbose=0)
    print(f"keras held-out accuracy {acc:.4f}")
    return [w.numpy() if hasattr(w, "numpy") else np.asarray(w) for w in model.weights]


def to_onnx(w: list[np.ndarray]) -> onnx.ModelProto:
    k1, b1, k2, b2, d1, c1, d2, c2 = w
    # Keras flattens HWC, ONNX flattens CHW: reorder the first dense layer's rows.
    d1_chw = d1.reshape(4, 4, 16, 32).transpose(2, 0, 1, 3).reshape(256, 32)
    inits = [
        numpy_helper.from_array(k1.transpose(3, 2, 0, 1).copy(), "conv1.weight"),
        numpy_helper.from_array(b1, "conv1.bias"),
        numpy_helper.from_array(k2.transpose(3, 2, 0, 1).copy(), "conv2.weight"),
        numpy_helper.from_array(b2, "conv2.bias"),
        numpy_helper.from_array(d1_chw.T.copy(), "fc1.weight"),
        numpy_helper.from_array(c1, "fc1.bias"),
        numpy_helper.from_array(d2.T.copy(), "fc2.weight"),
        numpy_helper.from_array(c2, "fc2.bias"),
    ]
    nodes = [
        helper.make_node("Conv", ["image", "conv1.weight", "conv1.bias"], ["c1"], "conv1",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], "relu1"),
        helper.make_node("Conv", ["r1", "conv2.weight", "conv2.bias"], ["c2"], "conv2",
                         kernel_shape=[3, 3], pads=[0, 0, 1, 1], strides=[2, 2]),  # Keras SAME
        helper.make_node("Relu", ["c2"], ["r2"], "relu2"),
        helper.make_node("Flatten", ["r2"], ["f"], "flatten"),
        helper.make_node("Gemm", ["f", "fc1.weight", "fc1.bias"], ["g1"], "fc1", transB=1),
        helper.make_node("Relu", ["g1"], ["r3"], "relu3"),
        helper.make_node("Gemm", ["r3", "fc2.weight", "fc2.bias"], ["logits"], "fc2", transB=1),
        helper.make_node("Softmax", ["logits"], ["probs"], "softmax", axis=-1),
    ]
    graph = helper.make_graph(
        nodes, "digits_cnn",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 1, 8, 8])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, [1, 10])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="mcuforge-example")
    model.doc_string = "8x8 digits classifier (scikit-learn digits), input scaled to [0, 1]"
    onnx.checker.check_model(model)
    return model


def check(model: onnx.ModelProto) -> None:
    import onnxruntime as ort

    x, y = digits()
    sess = ort.InferenceSession(model.SerializeToString())
    pred = [int(np.argmax(sess.run(None, {"image": img[None, None]})[0])) for img in x[1400:]]
    print(f"onnx held-out accuracy {np.mean(np.array(pred) == y[1400:]):.4f}")


if __name__ == "__main__":
    m = to_onnx(train())
    check(m)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(m, OUT)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")
