"""Scale: a learned factor and shift per channel, y = x * w + b (w and b of shape [C], broadcast
over the dims after the channel).

It is what an ONNX Mul or Add of a tensor with a per-channel constant computes (Caffe2's scale
layer after BatchNormalization in the model zoo's Inception v2 and DenseNet). torch has no module
of its own for it; a depthwise convolution with a 1-wide kernel computes exactly x * w + b per
channel, so that is the module it builds (``Conv1d``/``Conv2d``/``Conv3d`` by the input's rank,
``groups`` = channels), and what the generated code and the ONNX export show.
"""

from __future__ import annotations

from collections.abc import Mapping

from netbuilder.layers.rules import need_float
from netbuilder.layers.spec import LayerSpec, Params, ParamSpec, ShapeError, TensorType, numel
from netbuilder.lazy_torch import nn

In = Mapping[str, TensorType]


def _infer(p: Params, i: In) -> dict[str, TensorType]:
    t = i["in"]
    need_float(t, "in", "Scale")
    if not 2 <= t.rank <= 5:
        raise ShapeError("in", "[N, C], [N, C, L], [N, C, H, W] or [N, C, D, H, W]",
                         "insert Reshape to at most 3 dims after the channel")
    return {"out": t}


def _build(p: Params, i: In) -> nn.Module:
    t = i["in"]
    cls = {2: nn.Conv1d, 3: nn.Conv1d, 4: nn.Conv2d, 5: nn.Conv3d}[t.rank]
    c = t.shape[0]
    return cls(c, c, 1, groups=c, bias=p["bias"])


def _emit(g, module, args, p, i, o):
    if i["in"].rank == 2:  # [N, C] as [N, C, 1] for the convolution, and back
        return g.call_method("squeeze", (module(g.call_method("unsqueeze", (args[0], -1))), -1))
    return module(args[0])


SCALE = LayerSpec(
    kind="Scale",
    category="Normalisation",
    doc="A learned factor and shift per channel: y = x * w + b, the channels from the wire.",
    params=(ParamSpec("bias", "bool", True, "Learn the shift b as well as the factor w."),),
    infer=_infer,
    build=_build,
    emit=_emit,
    macs=lambda p, i, o: numel(i["in"].shape),
    name_base="scale",
)

SPECS = (SCALE,)
