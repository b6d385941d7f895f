"""Small classifiers trained on scikit-learn's digits (upsampled to 16x16), for the quantizer's
accuracy proof: Keras models (also converted by TensorFlow's own int8 converter, for comparison)
and PyTorch models exported to ONNX.

Every model trains in a few seconds from a fixed seed and is built once per test session.
Models end in logits (no softmax), so the 16x8 mode, which has no int16 softmax, applies too.
"""

from __future__ import annotations

import functools
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from tflite_models import _keras, to_tflite

CALIB = 200
TRAIN = 1200
WORK = Path(tempfile.mkdtemp(prefix="mcuforge_quantize_zoo_"))


@functools.cache
def digits16() -> tuple[np.ndarray, np.ndarray]:
    """(N, 16, 16) images in [0, 1] (each pixel of the 8x8 digits doubled) and labels."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = np.repeat(np.repeat(d.images / 16.0, 2, axis=1), 2, axis=2).astype(np.float32)
    return x, d.target.astype(np.int64)


def split(nhwc: bool) -> dict[str, np.ndarray]:
    """Train / calibration (the first 200 training samples) / evaluation data in one layout."""
    x, y = digits16()
    x = x[..., None] if nhwc else x[:, None]
    return {"x_train": x[:TRAIN], "y_train": y[:TRAIN], "x_calib": x[:CALIB],
            "x_eval": x[TRAIN:], "y_eval": y[TRAIN:]}


# -- Keras ----------------------------------------------------------------------------------
def keras_conv_pool() -> Any:
    """conv + relu, max pooling, conv + relu6, average pooling, dense."""
    k = _keras()
    x = k.Input((16, 16, 1), batch_size=1)
    y = k.layers.Conv2D(8, 3, padding="same", activation="relu")(x)
    y = k.layers.MaxPooling2D(2)(y)
    y = k.layers.Conv2D(16, 3, padding="same")(y)
    y = k.layers.ReLU(6.0)(y)
    y = k.layers.AveragePooling2D(2)(y)
    return k.Model(x, k.layers.Dense(10)(k.layers.Flatten()(y)))


def keras_depthwise_residual() -> Any:
    """conv, depthwise conv + batch norm, 1x1 conv, residual add, average pooling, dense."""
    k = _keras()
    x = k.Input((16, 16, 1), batch_size=1)
    a = k.layers.Conv2D(12, 3, strides=2, padding="same", activation="relu")(x)
    b = k.layers.DepthwiseConv2D(3, padding="same")(a)
    b = k.layers.ReLU()(k.layers.BatchNormalization()(b))
    b = k.layers.Conv2D(12, 1)(b)
    y = k.layers.ReLU()(k.layers.Add()([a, b]))
    y = k.layers.AveragePooling2D(2)(y)
    return k.Model(x, k.layers.Dense(10)(k.layers.Flatten()(y)))


def keras_tanh_sigmoid_concat() -> Any:
    """two conv branches with tanh and sigmoid joined by concatenation, pooling, dense + tanh, dense."""
    k = _keras()
    x = k.Input((16, 16, 1), batch_size=1)
    a = k.layers.Conv2D(6, 3, strides=2, padding="same", activation="tanh")(x)
    b = k.layers.Conv2D(6, 3, strides=2, padding="same", activation="sigmoid")(x)
    y = k.layers.MaxPooling2D(2)(k.layers.Concatenate()([a, b]))
    y = k.layers.Dense(24, activation="tanh")(k.layers.Flatten()(y))
    return k.Model(x, k.layers.Dense(10)(y))


KERAS = {"keras_conv_pool": keras_conv_pool, "keras_depthwise_residual": keras_depthwise_residual,
         "keras_tanh_sigmoid_concat": keras_tanh_sigmoid_concat}


@functools.cache
def keras_trained(name: str) -> Any:
    k = _keras()
    k.utils.set_random_seed(7)
    model = KERAS[name]()
    data = split(nhwc=True)
    model.compile(optimizer=k.optimizers.Adam(0.01),
                  loss=k.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(data["x_train"], data["y_train"], epochs=12, batch_size=64, verbose=0)
    return model


@functools.cache
def keras_float_tflite(name: str) -> Path:
    path = WORK / f"{name}.tflite"
    path.write_bytes(to_tflite(keras_trained(name), int8=False))
    return path


@functools.cache
def tf_int8_accuracy(name: str) -> float:
    """TensorFlow's own full-int8 conversion of the model, same calibration samples, run by
    TensorFlow's interpreter."""
    import warnings

    import tensorflow as tf

    data = split(nhwc=True)
    model = to_tflite(keras_trained(name), True, data["x_calib"])
    with warnings.catch_warnings():  # "tf.lite.Interpreter is deprecated": still TF's own runtime
        warnings.simplefilter("ignore")
        interp = tf.lite.Interpreter(model_content=model)
    interp.allocate_tensors()
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    scale, zp = inp["quantization"]
    right = 0
    for x, y in zip(data["x_eval"], data["y_eval"]):
        q = np.clip(np.round(x / scale) + zp, -128, 127).astype(np.int8)
        interp.set_tensor(inp["index"], q[None])
        interp.invoke()
        right += int(np.argmax(interp.get_tensor(out["index"]))) == int(y)
    return right / len(data["y_eval"])


# -- PyTorch -> ONNX -------------------------------------------------------------------------
def _torch_conv_bn(torch: Any) -> Any:
    """conv + batch norm + relu, max pooling, conv + relu, average pooling, linear."""
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(16 * 16, 10),
    )


def _torch_residual_mixed(torch: Any) -> Any:
    """depthwise conv, residual add, a tanh and a sigmoid branch concatenated, average pooling,
    linear + relu, linear."""
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(1, 12, 3, stride=2, padding=1), nn.ReLU())
            self.dw = nn.Sequential(nn.Conv2d(12, 12, 3, padding=1, groups=12), nn.BatchNorm2d(12), nn.ReLU(),
                                    nn.Conv2d(12, 12, 1))
            self.a = nn.Conv2d(12, 6, 3, padding=1)
            self.b = nn.Conv2d(12, 6, 3, padding=1)
            self.head = nn.Sequential(nn.AvgPool2d(2), nn.Flatten(), nn.Linear(12 * 4 * 4, 32), nn.ReLU(),
                                      nn.Linear(32, 10))

        def forward(self, x: Any) -> Any:
            s = self.stem(x)
            r = torch.relu(s + self.dw(s))
            y = torch.cat([torch.tanh(self.a(r)), torch.sigmoid(self.b(r))], dim=1)
            return self.head(y)

    return Net()


TORCH: dict[str, Callable[[Any], Any]] = {"torch_conv_bn": _torch_conv_bn,
                                          "torch_residual_mixed": _torch_residual_mixed}


@functools.cache
def torch_onnx(name: str) -> Path:
    """The model trained with Adam for a few epochs, exported to ONNX (NCHW input 'x')."""
    import torch

    torch.manual_seed(7)
    torch.set_num_threads(2)
    model = TORCH[name](torch)
    data = split(nhwc=False)
    x, y = torch.from_numpy(data["x_train"]), torch.from_numpy(data["y_train"])
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    gen = torch.Generator().manual_seed(7)
    model.train()
    for _ in range(8):
        for idx in torch.randperm(len(x), generator=gen).split(64):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
    model.eval()
    path = WORK / f"{name}.onnx"
    torch.onnx.export(model, (torch.zeros(1, 1, 16, 16),), str(path), input_names=["x"],
                      output_names=["logits"], dynamo=False)
    return path


def model_path(name: str) -> tuple[Path, dict[str, np.ndarray]]:
    """A trained model file and its data in the model's own input layout."""
    if name in KERAS:
        return keras_float_tflite(name), split(nhwc=True)
    return torch_onnx(name), split(nhwc=False)


ALL = [*KERAS, *TORCH]
