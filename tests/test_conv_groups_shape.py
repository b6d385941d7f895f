"""CONV_2D's shape rule with groups (groups = C_in / filter depth): impossible groupings are a
ValueError naming the shapes, which the importers turn into one-line errors (the coverage-guided
TFLite loader fuzzer found an input depth below the filter depth raising ZeroDivisionError)."""

from __future__ import annotations

import pytest

from mcuforge.ir.graph import Op
from mcuforge.ops.registry import infer_shapes

ATTRS = {"strides": (1, 1), "dilations": (1, 1), "pads": (0, 0, 0, 0), "activation": "NONE"}


@pytest.mark.parametrize(("x", "w"), [
    ((1, 5, 5, 0), (4, 3, 3, 2)),  # no input channels
    ((1, 5, 5, 2), (4, 3, 3, 3)),  # input depth below the filter depth
    ((1, 5, 5, 6), (4, 3, 3, 4)),  # 6 channels do not split into groups of 4
    ((1, 5, 5, 6), (4, 3, 3, 2)),  # 3 groups, 4 output channels
    ((1, 5, 5, 6), (4, 3, 3, 0)),  # an empty filter
])
def test_impossible_groups_are_a_value_error(x: tuple[int, ...], w: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="do not divide input"):
        infer_shapes(Op("CONV_2D", "c", ["x", "w"], ["y"], dict(ATTRS)), [x, w])


def test_groups_give_the_output_shape() -> None:
    op = Op("CONV_2D", "c", ["x", "w"], ["y"], dict(ATTRS))
    assert infer_shapes(op, [(1, 5, 5, 6), (9, 3, 3, 2)]) == [(1, 3, 3, 9)]
