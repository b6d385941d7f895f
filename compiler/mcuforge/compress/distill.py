"""Knowledge distillation and fine-tuning: one training loop for both.

The student minimises  a * CE(labels, s) + (1 - a) * T^2 * KL(softmax(t / T) || softmax(s / T))
over the training set, where s and t are the student's and teacher's logits (Hinton et al.);
the T^2 keeps the soft term's gradients on the scale of the hard one. Without a teacher
(a = 1) it is plain fine-tuning. Models that end in a softmax are handled by taking log
probabilities as logits: softmax(log p / T) equals softmax(logits / T) up to the constant shift
a softmax ignores.

`after_batch` runs after every optimizer step: pruning re-applies its masks there, clustering
pulls weights back to their centroids; `before_batch` runs before every step (1-bit training
binarizes the kernels there, compress/binary.py).

Recovery defaults (issue 16): the learning rate follows a cosine decay over the planned steps
(Loshchilov & Hutter's SGDR without restarts) down to 5% of its start, after an optional linear
warm-up (`warmup`: a fraction of the steps; Goyal et al. 2017), and with `validation`
> 0 that fraction of the training samples is held out: after every epoch the student's top-1
on it is measured (the training loss, distillation term included, as Keras' EarlyStopping
monitors val_loss: the held-out top-1 of a model that already fits its data saturates near 100%
and cannot tell epochs apart, while the match to the teacher's soft outputs still can), training
stops after `patience` epochs without improvement, and the
weights of the best epoch are restored (early stopping, Prechelt 1998). The returned losses
say how many epochs ran and which one was kept (`Losses.best_epoch`). Training is seeded
(`seed`) and, with `deterministic`, runs TensorFlow's deterministic ops: the same call gives the
same weights.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from .keras_graph import ends_in_softmax, keras_module

EPS = 1e-7


@dataclass
class DistillConfig:
    epochs: int = 10  # at most; fewer when early stopping ends training
    temperature: float = 4.0
    alpha: float = 0.5  # weight of the hard-label cross-entropy
    batch_size: int = 32
    learning_rate: float = 1e-3
    seed: int = 0
    progress: bool = False
    schedule: str = "constant"  # or "cosine": decay to 5% of learning_rate over the planned steps
    validation: float = 0.0  # fraction of the samples held out for early stopping (0: none)
    patience: int = 3  # epochs without a better held-out top-1 before stopping
    warmup: float = 0.0  # fraction of the planned steps the learning rate rises linearly to its start
    # TensorFlow's deterministic ops for the training (`deterministic`; fit's recovery sets it;
    # off, compress's default recovery keeps the kernels, and the results, it was tuned with)
    deterministic: bool = False


class Losses(list[float]):
    """Mean training loss of each epoch run, plus what early stopping saw and kept."""

    best_epoch: int = 0  # 1-based epoch whose weights were kept (the last one without validation)
    val_accuracy: list[float]  # held-out top-1 after each epoch (empty without validation)
    val_loss: list[float]  # held-out training loss after each epoch, the early-stopping criterion

    def __init__(self) -> None:
        super().__init__()
        self.val_accuracy = []
        self.val_loss = []


def _logits(model: Any, x: Any, training: bool) -> Any:
    import tensorflow as tf

    y = model(x, training=training)
    return tf.math.log(tf.clip_by_value(y, EPS, 1.0)) if ends_in_softmax(model) else y


def predict_logits(model: Any, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
    return np.concatenate([np.asarray(_logits(model, x[i:i + batch_size], False))
                           for i in range(0, len(x), batch_size)])


def train_student(student: Any, x: np.ndarray, y: np.ndarray, teacher: Any | None = None,
                  config: DistillConfig | None = None,
                  after_batch: Callable[[], None] | None = None,
                  before_batch: Callable[[], None] | None = None) -> Losses:
    """Train `student` in place; returns the mean loss of each epoch run (`Losses`)."""
    cfg = config or DistillConfig()
    keras = keras_module(student)
    with deterministic(keras, cfg.seed, cfg.deterministic):
        return _train(student, keras, x, y, teacher, cfg, after_batch, before_batch)


@contextmanager
def deterministic(keras: Any, seed: int, ops: bool = True) -> Iterator[None]:
    """Python's, NumPy's and TensorFlow's generators seeded with `seed` and, with `ops`,
    TensorFlow's deterministic op implementations on (tf.config.experimental.
    enable_op_determinism) for the block, the previous setting restored after. Runs repeat
    exactly at a given thread count; TensorFlow fixes its intra-op thread pool when its runtime
    starts (tf.config.threading cannot change it later), and a parallel reduction splits its sums
    by the thread count, so runs at different counts differ by float rounding, which training
    can amplify."""
    from tensorflow.python.framework import config as tf_config

    keras.utils.set_random_seed(seed)
    was = tf_config.is_op_determinism_enabled()
    if ops and not was:
        tf_config.enable_op_determinism()
    try:
        yield
    finally:
        if ops and not was:
            tf_config.disable_op_determinism()


def _train(student: Any, keras: Any, x: np.ndarray, y: np.ndarray, teacher: Any | None, cfg: DistillConfig,
           after_batch: Callable[[], None] | None, before_batch: Callable[[], None] | None) -> Losses:
    import tensorflow as tf

    alpha = 1.0 if teacher is None else cfg.alpha
    t = float(cfg.temperature)
    rng = np.random.default_rng(cfg.seed)
    x, y, x_val, y_val = _split(x, np.asarray(y).astype(np.int64), cfg.validation, rng)
    soft = tf.nn.softmax(predict_logits(teacher, x) / t) if teacher is not None else None
    soft_val = np.asarray(tf.nn.softmax(predict_logits(teacher, x_val) / t)) \
        if teacher is not None and len(x_val) else None
    steps_per_epoch = -(-len(x) // cfg.batch_size)
    lr: Any = cfg.learning_rate
    if cfg.schedule == "cosine":
        total = max(1, cfg.epochs * steps_per_epoch)
        warm = int(cfg.warmup * total)
        if warm:  # linear from 5% of the start up to it, then the cosine over the remaining steps
            lr = keras.optimizers.schedules.CosineDecay(0.05 * cfg.learning_rate, max(1, total - warm),
                                                        alpha=0.05, warmup_target=cfg.learning_rate,
                                                        warmup_steps=warm)
        else:
            lr = keras.optimizers.schedules.CosineDecay(cfg.learning_rate, total, alpha=0.05)
    opt = keras.optimizers.Adam(learning_rate=lr)
    x_t = tf.constant(x)
    y_t = tf.constant(y)

    @tf.function
    def step(idx: Any) -> Any:
        xb, yb = tf.gather(x_t, idx), tf.gather(y_t, idx)
        with tf.GradientTape() as tape:
            s = _logits(student, xb, True)
            hard = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(yb, s))
            loss = alpha * hard
            if soft is not None:
                p = tf.gather(soft, idx)
                log_q = tf.nn.log_softmax(s / t)
                log_p = tf.math.log(tf.clip_by_value(p, EPS, 1.0))
                kl = tf.reduce_mean(tf.reduce_sum(p * (log_p - log_q), axis=1))
                loss += (1.0 - alpha) * t * t * kl
        grads = tape.gradient(loss, student.trainable_variables)
        opt.apply_gradients(zip(grads, student.trainable_variables))
        return loss

    def held_out() -> tuple[float, float]:
        """Top-1 and the training loss on the held-out samples (the model as trained: binarized)."""
        if before_batch is not None:
            before_batch()
        logits = predict_logits(student, x_val)
        if after_batch is not None:
            after_batch()
        loss = alpha * float(np.mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y_val, logits)))
        if soft_val is not None:
            log_q = np.asarray(tf.nn.log_softmax(logits / t))
            kl = np.sum(soft_val * (np.log(np.clip(soft_val, EPS, 1.0)) - log_q), axis=1).mean()
            loss += (1.0 - alpha) * t * t * float(kl)
        return float(np.mean(logits.argmax(axis=1) == y_val)), loss

    history = Losses()
    best: tuple[float, float, list[np.ndarray]] | None = None
    stale = kept = 0
    for epoch in range(cfg.epochs):
        order = rng.permutation(len(x))
        batches = [order[i:i + cfg.batch_size] for i in range(0, len(x), cfg.batch_size)]
        bar = None
        if cfg.progress:
            from tqdm import tqdm

            bar = tqdm(total=len(batches), desc=f"epoch {epoch + 1}/{cfg.epochs}", leave=False)
        losses = []
        for b in batches:
            if before_batch is not None:
                before_batch()
            losses.append(float(step(tf.constant(b))))
            if after_batch is not None:
                after_batch()
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{np.mean(losses):.4f}")
        if bar is not None:
            bar.close()
        history.append(float(np.mean(losses)))
        history.best_epoch = epoch + 1
        if len(x_val) == 0:
            continue
        acc, ce = held_out()
        history.val_accuracy.append(acc)
        history.val_loss.append(ce)
        if best is None or ce < best[1]:
            best, stale, kept = (acc, ce, student.get_weights()), 0, epoch + 1
        else:
            stale += 1
            if stale >= cfg.patience:
                break
    if best is not None:
        student.set_weights(best[2])
        history.best_epoch = kept
    return history


def _split(x: np.ndarray, y: np.ndarray, fraction: float,
           rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x, y) minus a held-out `fraction` (at least 10 samples, or none when too few), and it."""
    n_val = round(len(x) * fraction) if fraction > 0 else 0
    if n_val < 10 or len(x) - n_val < 10:
        return x, y, x[:0], y[:0]
    order = rng.permutation(len(x))
    val, keep = order[:n_val], np.sort(order[n_val:])
    return x[keep], y[keep], x[val], y[val]


def accuracy(model: Any, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(predict_logits(model, x).argmax(axis=1) == np.asarray(y)))
