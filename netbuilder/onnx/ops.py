"""ONNX operators to catalog layers: one mapper per op, gathered from the modules of each family.

:mod:`netbuilder.onnx.importer` prepares a model (opset lifted, constants folded, shapes inferred)
and walks its nodes in order; each node's mapper turns its inputs into catalog nodes through a
:class:`~netbuilder.onnx.layer_maker.LayerMaker` and returns its outputs as
:data:`~netbuilder.onnx.values.Value`s. The mappers live by family: convolutions, pools and Pad in
:mod:`~netbuilder.onnx.ops_spatial`, Gemm, MatMul, the norms and Dropout in
:mod:`~netbuilder.onnx.ops_linear_norm`, activations and softmaxes in :mod:`~netbuilder.onnx.ops_activation`,
reshapes, transposes, splits and slices in :mod:`~netbuilder.onnx.ops_shape`, arithmetic and merges in
:mod:`~netbuilder.onnx.ops_elementwise`, Embedding and the RNNs in :mod:`~netbuilder.onnx.ops_sequence`,
Resize in :mod:`~netbuilder.onnx.ops_resize`, and what modern architectures add in
:mod:`~netbuilder.onnx.ops_modern`. None of them imports the
importer nor anything that imports it.
"""

from __future__ import annotations

from netbuilder.onnx import (
    ops_activation,
    ops_elementwise,
    ops_linear_norm,
    ops_modern,
    ops_resize,
    ops_sequence,
    ops_shape,
    ops_spatial,
)
from netbuilder.onnx.layer_maker import Mapper

MAPPERS: dict[str, Mapper] = {
    **ops_spatial.MAPPERS, **ops_linear_norm.MAPPERS, **ops_activation.MAPPERS, **ops_shape.MAPPERS,
    **ops_elementwise.MAPPERS, **ops_sequence.MAPPERS, **ops_resize.MAPPERS,
    "Identity": lambda b, n: [b.value(n.input[0])],
    **ops_modern.MAPPERS,
}

# Ops that only compute shapes or fill values around them (e.g. the zero initial state of an RNN).
SHAPE_OPS = frozenset({"Shape", "Size", "ConstantOfShape"})

__all__ = ["MAPPERS", "SHAPE_OPS", "Mapper"]
