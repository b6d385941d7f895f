"""mcuforge.kernel_params: kernel choice and the errors it raises at compile time."""

from __future__ import annotations

import numpy as np
import pytest
from oneop import OneOp, act_data, act_quant, weights

from mcuforge.ir.graph import Graph, Op, QuantParams, Tensor
from mcuforge.kernel_params import BINDINGS, dims4, kernel_call
from mcuforge.ops.registry import Ctx


def test_every_binding_is_a_registered_op() -> None:
    from mcuforge.ops import REGISTRY

    assert set(BINDINGS) <= set(REGISTRY)


def test_dims4_pads_leading_ones() -> None:
    assert dims4((5,)) == (1, 1, 1, 5)
    assert dims4((2, 3, 4, 5)) == (2, 3, 4, 5)
    with pytest.raises(ValueError, match="rank 5"):
        dims4((1, 2, 3, 4, 5))


def test_general_conv_when_not_pointwise() -> None:
    rng = np.random.default_rng(0)
    one = OneOp("CONV_2D", {"strides": (2, 2), "dilations": (1, 1), "pads": (0, 0, 0, 0),
                            "activation": "NONE"})
    one.input(act_data(rng, (1, 4, 4, 3)), act_quant(rng))
    one.input(*weights(rng, (2, 1, 1, 3), axis=0), const=True)
    call, _ = one.finish(act_quant(rng))
    assert call.kernel == "mf_convolve_s8"


def _ctx(kind: str, ins: list[Tensor], out: Tensor, attrs: dict) -> Ctx:
    g = Graph()
    for t in [*ins, out]:
        g.add_tensor(t)
    op = Op(kind, "bad", [t.name for t in ins], [out.name], attrs)
    return Ctx.of(g, op)


def test_errors_name_the_op() -> None:
    q = QuantParams(np.float32(0.1), 0)
    x = Tensor("x", (1, 4), "int8", None, q)
    with pytest.raises(ValueError, match="RESHAPE 'bad': no int8 kernel"):
        kernel_call(_ctx("RESHAPE", [x], Tensor("y", (4,), "int8", None, q), {"shape": (4,)}))
    with pytest.raises(ValueError, match="'f' \\(float32\\)"):
        kernel_call(_ctx("LOGISTIC", [Tensor("f", (1, 4), "float32")],
                         Tensor("y", (1, 4), "int8", None, q), {}))
    other = Tensor("x2", (1, 4), "int8", None, QuantParams(np.float32(0.2), 0))
    with pytest.raises(ValueError, match="the kernel only copies"):
        kernel_call(_ctx("CONCATENATION", [x, other], Tensor("y", (1, 8), "int8", None, q),
                         {"axis": 1, "activation": "NONE"}))
