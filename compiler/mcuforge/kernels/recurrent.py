"""Recurrent area (runtime_c/src/recurrent/): mf_lstm_s8, TFLite's integer fused LSTM over a
whole sequence. Bound in mcuforge.kernel_params (`lstm`)."""

from __future__ import annotations

from mcuforge.kernels.common import CTX, OUTPUT
from mcuforge.kernels.spec import ConstStruct, Input, KernelSpec, Params, ScratchRule, State, family, struct

LSTM_PARAMS = struct("mf_lstm_params", """
    batches: int32_t, time_steps: int32_t, input_size: int32_t
    hidden_size: int32_t, time_major: int32_t, hidden_zp: int32_t
    tanh_multiplier: int32_t, tanh_shift: int32_t, cell_clip: int32_t
""")
LSTM_WEIGHTS = struct("mf_lstm_weights", """
    input_weights: const int8_t *, recurrent_weights: const int8_t *
    input_bias: const int32_t *, recurrent_bias: const int32_t *
    multiplier: const int32_t *, shift: const int32_t *
    mul_multiplier: const int32_t *, mul_shift: const int32_t *
""")

INT16_BYTES = 2


def lstm_s8(batches: int, hidden_size: int) -> int:
    """Twin of mf_lstm_s8_get_buffer_size: the cell state and the four gates (int16) and the
    hidden state (int8), each batches x hidden_size values."""
    return batches * hidden_size * (5 * INT16_BYTES + 1)


LSTM_SCRATCH = ScratchRule((("batches", "int32_t", "params.batches"),
                            ("hidden_size", "int32_t", "params.hidden_size")), lstm_s8)

LSTM = family(
    "lstm", "recurrent",
    KernelSpec("mf_lstm_s8",
               (CTX, Params("lstm_params", "const mf_lstm_params *", LSTM_PARAMS),
                ConstStruct("weights", "const mf_lstm_weights *", LSTM_WEIGHTS, "weights",
                            tuple(f"array:{f.name}" for f in LSTM_WEIGHTS.fields)),
                Input("input"),
                # stateful area: a TFLite LSTM's variable state tensors, carried between calls
                State("hidden_state", "int8_t *", "hidden", optional=True),
                State("cell_state", "int16_t *", "cell", optional=True), OUTPUT),
               family="lstm", when="UNIDIRECTIONAL_SEQUENCE_LSTM (int8, whole sequence)",
               scratch=LSTM_SCRATCH),
)
