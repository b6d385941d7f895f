"""A DEPTHWISE_CONV_2D over a single input channel becomes the CONV_2D it equals (real models
area: TFLite Micro's micro_speech model opens with a 10x8 depthwise convolution of its one
spectrogram channel with depth multiplier 8).

With one input channel, output channel m of the depthwise convolution is the window of that
channel dotted with weights[0, :, :, m]: exactly a convolution with one input channel whose
filter m (OHWI) is weights[0, :, :, m]. The integer definitions agree term for term (TFLite
Micro's DepthwiseConvPerChannel and ConvPerChannel: int32 sums of (x - x_zp) * w, the bias, the
per-channel multiplier of output channel m, the output zero point, the clamp), so the int8
result is the same bytes, and the convolution kernel (im2col and dot products) runs it several
times faster than the depthwise kernel's channel-multiplier loop. Weights (1, KH, KW, M) become
(M, KH, KW, 1); per-channel quantization moves from axis 3 to axis 0. Float and int8 graphs only
(int16 keeps its depthwise kernel).
"""

from __future__ import annotations

import numpy as np

from mcuforge.ir.graph import Graph, QuantParams
from mcuforge.ops.conv_2d import CONV_2D, WINDOW_ATTRS
from mcuforge.ops.depthwise_conv_2d import DEPTHWISE_CONV_2D


def depthwise_one_channel_as_conv(graph: Graph) -> Graph:
    for op in [o for o in graph.ops if o.kind == DEPTHWISE_CONV_2D.kind]:
        x, w = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]]
        if (len(x.shape) != 4 or x.shape[3] != 1 or x.dtype not in ("int8", "float32")
                or w.data is None or len(w.shape) != 4 or w.shape[0] != 1):
            continue
        quant = w.quant
        if quant is not None and quant.per_channel:
            if quant.axis != 3:
                continue
            quant = QuantParams(quant.scale, quant.zero_point, 0)
        ohwi = np.ascontiguousarray(np.asarray(w.data).transpose(3, 1, 2, 0))
        op.inputs[1] = graph.add_const(f"{w.name}_ohwi", ohwi, quant)
        op.kind = CONV_2D.kind
        op.attrs = {k: op.attrs[k] for k in WINDOW_ATTRS if k in op.attrs}
    graph.prune_unused_tensors()
    return graph
