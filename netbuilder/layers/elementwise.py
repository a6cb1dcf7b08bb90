"""Element-wise math: one Math layer (a function of each value, or a number combined with it),
Subtract and Divide of two tensors, and torch's small element-wise modules an exporter spells
out as several ops (Softmin, Softsign, GLU)."""

from __future__ import annotations

from collections.abc import Mapping

from netbuilder.layers.merge import _broadcast
from netbuilder.layers.rules import need_float, same
from netbuilder.layers.spec import LayerSpec, Params, ParamSpec, PortSpec, ShapeError, TensorType, torch_dim
from netbuilder.lazy_torch import nn

In = Mapping[str, TensorType]

# function -> (tensor method, whether it takes `value`, what it computes)
FUNCTIONS: dict[str, tuple[str, bool, str]] = {
    "exp": ("exp", False, "eˣ"), "log": ("log", False, "ln x"), "sqrt": ("sqrt", False, "√x"),
    "abs": ("abs", False, "|x|"), "neg": ("neg", False, "−x"), "reciprocal": ("reciprocal", False, "1 / x"),
    "add": ("add", True, "x + value"), "multiply": ("mul", True, "x · value"), "power": ("pow", True, "x ^ value"),
}


def _math_infer(p: Params, i: In) -> dict[str, TensorType]:
    need_float(i["in"], "in", "Math")
    return same(i)


def _math_emit(g, module, args, p, i, o):
    method, takes_value, _ = FUNCTIONS[p["function"]]
    return g.call_method(method, (args[0], float(p["value"])) if takes_value else (args[0],))


MATH = LayerSpec(
    kind="Math",
    category="Math",
    doc="One function of each value: " + ", ".join(f"{k} ({v[2]})" for k, v in FUNCTIONS.items()) + ".",
    params=(
        ParamSpec("function", "choice", "exp", "What to compute for each value x.", choices=tuple(FUNCTIONS)),
        ParamSpec("value", "float", 1.0, "The number add, multiply and power use (the others ignore it).",
                  minimum=-1e30, maximum=1e30),
    ),
    infer=_math_infer,
    emit=_math_emit,
    name_base="math",
)

TWO = (PortSpec("in1"), PortSpec("in2"))


def _binary(kind: str, method: str, doc: str, name_base: str) -> LayerSpec:
    rule = _broadcast(kind)

    def infer(p: Params, i: In) -> dict[str, TensorType]:
        for port in ("in1", "in2"):
            need_float(i[port], port, kind)
        return rule(p, i)

    return LayerSpec(
        kind=kind, category="Merge", doc=doc, params=(), inputs=TWO, infer=infer,
        emit=lambda g, m, a, p, i, o: g.call_method(method, (a[0], a[1])),
        name_base=name_base,
    )


def _dim_infer(kind: str, halves: bool = False, has_dim: bool = True):
    def infer(p: Params, i: In) -> dict[str, TensorType]:
        t = i["in"]
        need_float(t, "in", kind)
        if not has_dim:
            return same(i)
        axis = torch_dim(p["dim"], t, "in")
        if not halves:
            return same(i)
        if t.shape[axis] % 2:
            raise ShapeError("in", f"an even size along dim {p['dim']} to halve", "set dim to a dimension of "
                             "even size, or insert a Linear or Conv that makes this one even")
        shape = list(t.shape)
        shape[axis] //= 2
        return {"out": TensorType(tuple(shape))}

    return infer


DIM = ParamSpec("dim", "int", -1, "Dimension it works along (-1: the last; 0, the batch, is not allowed).",
                minimum=-6, maximum=6)

SOFTMIN = LayerSpec(
    kind="Softmin", category="Activation", doc="Softmax of −x along dim: the smallest score gets the most weight.",
    params=(DIM,), infer=_dim_infer("Softmin"), build=lambda p, i: nn.Softmin(dim=p["dim"]), name_base="softmin")

SOFTSIGN = LayerSpec(
    kind="Softsign", category="Activation", doc="x / (1 + |x|): squashes to (−1, 1), more gently than Tanh.",
    params=(), infer=_dim_infer("Softsign", has_dim=False),
    build=lambda p, i: nn.Softsign(), name_base="softsign")

GLU = LayerSpec(
    kind="GLU", category="Activation",
    doc="Gated linear unit: halves dim into a and b and gives a · sigmoid(b).",
    params=(DIM,), infer=_dim_infer("GLU", halves=True), build=lambda p, i: nn.GLU(dim=p["dim"]), name_base="glu")


def _pixel_shuffle_infer(p: Params, i: In) -> dict[str, TensorType]:
    t = i["in"]
    r = p["upscale_factor"]
    if t.rank != 4:
        raise ShapeError("in", "[N, C, H, W]", "insert Reshape to an image layout [C, H, W]")
    c, h, w = t.shape
    if c % (r * r):
        raise ShapeError("in", f"channels divisible by upscale_factor² = {r * r}",
                         f"set upscale_factor so its square divides {c}, or make the channels a multiple of {r * r}")
    return {"out": TensorType((c // (r * r), h * r, w * r), t.dtype)}


PIXEL_SHUFFLE = LayerSpec(
    kind="PixelShuffle", category="Reshape",
    doc="Moves channels into space: [N, C·r², H, W] becomes [N, C, H·r, W·r] (sub-pixel upsampling).",
    params=(ParamSpec("upscale_factor", "int", 2, "The factor r each of height and width grows by.",
                      minimum=1, maximum=64),),
    infer=_pixel_shuffle_infer, build=lambda p, i: nn.PixelShuffle(p["upscale_factor"]), name_base="pixelshuffle")

SPECS = (
    MATH,
    _binary("Subtract", "sub", "Subtracts its second input from its first, element-wise.", "sub"),
    _binary("Divide", "div", "Divides its first input by its second, element-wise.", "div"),
    SOFTMIN, SOFTSIGN, GLU, PIXEL_SHUFFLE,
)
