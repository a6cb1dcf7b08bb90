"""Element-wise activations, plus Softmax and LogSoftmax."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

from netbuilder.layers.rules import need_float, same
from netbuilder.layers.spec import LayerSpec, Params, ParamSpec, TensorType, torch_dim
from netbuilder.lazy_torch import nn

In = Mapping[str, TensorType]


def _elementwise(kind: str) -> Callable[[Params, In], dict[str, TensorType]]:
    def infer(p: Params, i: In) -> dict[str, TensorType]:
        need_float(i["in"], "in", kind)
        if "dim" in p:
            torch_dim(p["dim"], i["in"], "in")
        return same(i)

    return infer


def _act(kind: str, doc: str, build: Callable[[Params], nn.Module],
         params: tuple[ParamSpec, ...] = ()) -> LayerSpec:
    return LayerSpec(
        kind=kind,
        category="Activation",
        doc=doc,
        params=params,
        infer=_elementwise(kind),
        build=lambda p, i: build(p),
        name_base=kind.lower(),
    )


def _prelu(p: Params, i: In) -> nn.Module:
    if p.get("per_channel"):
        return nn.PReLU(num_parameters=i["in"].shape[0], init=p["init"])
    return nn.PReLU(init=p["init"])


DIM = ParamSpec("dim", "int", -1, "Dimension that sums to 1 (-1: the last; 0, the batch, is not allowed).",
                minimum=-6, maximum=6)

SPECS = (
    _act("ReLU", "max(0, x).", lambda p: nn.ReLU()),
    _act("LeakyReLU", "x for x > 0, negative_slope·x otherwise.",
         lambda p: nn.LeakyReLU(p["negative_slope"]),
         (ParamSpec("negative_slope", "float", 0.01, "Slope for negative inputs.", minimum=0.0, maximum=1.0),)),
    LayerSpec(kind="PReLU", category="Activation", doc="LeakyReLU whose negative slope is learned.",
              params=(ParamSpec("init", "float", 0.25, "Initial slope.", minimum=0.0, maximum=1.0),
                      ParamSpec("per_channel", "bool", False, "Learn one slope per channel (dim 1) rather than one.")),
              infer=_elementwise("PReLU"), build=_prelu, name_base="prelu"),
    _act("ELU", "x for x > 0, alpha·(eˣ − 1) otherwise.", lambda p: nn.ELU(p["alpha"]),
         (ParamSpec("alpha", "float", 1.0, "Saturation value for negative inputs.", minimum=0.0, maximum=100.0),)),
    _act("ReLU6", "min(max(0, x), 6): ReLU capped at 6 (MobileNet).", lambda p: nn.ReLU6()),
    replace(_act("Hardtanh", "x clamped to [min_val, max_val] (ReLU6 is Hardtanh(0, 6)).",
                 lambda p: nn.Hardtanh(p["min_val"], p["max_val"]),
                 (ParamSpec("min_val", "float", -1.0, "Lower bound; below max_val.", minimum=-1e6, maximum=1e6),
                  ParamSpec("max_val", "float", 1.0, "Upper bound.", minimum=-1e6, maximum=1e6))),
            check=lambda p: (None if p["min_val"] < p["max_val"] else
                             "parameter 'min_val' must be below 'max_val'; lower min_val or raise max_val")),
    _act("Hardswish", "x·ReLU6(x + 3) / 6: a cheap swish (MobileNetV3).", lambda p: nn.Hardswish()),
    _act("Hardsigmoid", "ReLU6(x + 3) / 6: a cheap sigmoid (MobileNetV3).", lambda p: nn.Hardsigmoid()),
    _act("Mish", "x·tanh(softplus(x)).", lambda p: nn.Mish()),
    _act("SELU", "Self-normalising ELU with fixed scale.", lambda p: nn.SELU()),
    _act("GELU", "x·Φ(x), used in transformers.", lambda p: nn.GELU(approximate=p["approximate"]),
         (ParamSpec("approximate", "choice", "none", "Exact ('none') or the tanh approximation.",
                    choices=("none", "tanh")),)),
    _act("SiLU", "x·sigmoid(x) (also called swish).", lambda p: nn.SiLU()),
    _act("Sigmoid", "1 / (1 + e⁻ˣ): squashes to (0, 1), for a probability.", lambda p: nn.Sigmoid()),
    _act("Tanh", "Squashes to (−1, 1).", lambda p: nn.Tanh()),
    _act("Softplus", "A smooth ReLU: log(1 + e^(beta·x)) / beta.",
         lambda p: nn.Softplus(beta=p["beta"], threshold=p["threshold"]),
         (ParamSpec("beta", "float", 1.0, "Sharpness.", minimum=1e-6, maximum=1000.0),
          ParamSpec("threshold", "float", 20.0, "Above this, it is linear.", minimum=0.0, maximum=1000.0))),
    _act("Softmax", "Turns scores into probabilities that sum to 1 along dim.",
         lambda p: nn.Softmax(dim=p["dim"]), (DIM,)),
    _act("LogSoftmax", "log(Softmax(x)); pairs with the NLL loss.",
         lambda p: nn.LogSoftmax(dim=p["dim"]), (DIM,)),
)
