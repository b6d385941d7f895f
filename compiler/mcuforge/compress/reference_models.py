"""The small Keras models compression is measured on (issue 16), defined once for the tests and
`bench/fit_budgets.py`.

`residual_cnn`: the digits residual CNN of issue 16: input (8, 8, 1) float in [0, 1] (scikit-
learn's digits / 16), a 3x3 stem of 16 channels with batch normalization, a residual stage of two
3x3 convolutions (16), a downsampling stage (3x3 stride 2 then 3x3, 32 channels, a 1x1 stride-2
shortcut), global average pooling, a dense head of 10 logits. Layer names (stem, s1a, s1b, s2a,
s2b, s2skip, head) are what fit plans and reports name.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def residual_cnn() -> Any:
    """A fresh, untrained keras.Model (Keras 3)."""
    import keras

    L = keras.layers

    def cbr(h: Any, filters: int, name: str, stride: int = 1, relu: bool = True) -> Any:
        h = L.BatchNormalization()(L.Conv2D(filters, 3, strides=stride, padding="same", name=name)(h))
        return L.ReLU()(h) if relu else h

    i = keras.Input((8, 8, 1))
    h = cbr(i, 16, "stem")
    h = L.ReLU()(L.Add()([h, cbr(cbr(h, 16, "s1a"), 16, "s1b", relu=False)]))
    skip = L.BatchNormalization()(L.Conv2D(32, 1, strides=2, name="s2skip")(h))
    h = L.ReLU()(L.Add()([skip, cbr(cbr(h, 32, "s2a", 2), 32, "s2b", relu=False)]))
    return keras.Model(i, L.Dense(10, name="head")(L.GlobalAveragePooling2D()(h)))


def digits_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's digits as (x_train, y_train, x_test, y_test): images / 16 as float32
    (N, 8, 8, 1), the first 1,400 for training, the other 397 held out."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.images / 16.0).astype(np.float32)[..., None]
    return x[:1400], d.target[:1400], x[1400:], d.target[1400:]
