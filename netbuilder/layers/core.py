"""Input, Output, Linear, reshaping layers, Dropout, Embedding."""

from __future__ import annotations

from collections.abc import Mapping

from netbuilder.layers.rules import flatten_fix, need_float, need_rank, same
from netbuilder.layers.spec import (
    MAX_SIZE,
    LayerSpec,
    Params,
    ParamSpec,
    ShapeError,
    TensorType,
    numel,
    torch_dim,
)
from netbuilder.lazy_torch import nn

In = Mapping[str, TensorType]


def _input(p: Params, _: In) -> dict[str, TensorType]:
    return {"out": TensorType(tuple(p["shape"]), p["dtype"])}


def _check_input(p: Params) -> str | None:
    if numel(p["shape"]) > MAX_SIZE * 16:
        return f"shape {list(p['shape'])} has {numel(p['shape']):,} values per sample; that is too large"
    return None


INPUT = LayerSpec(
    kind="Input",
    category="Input / Output",
    doc="Where data enters: the shape of one sample, without the batch dimension.",
    params=(
        ParamSpec("shape", "ints", [1], "Shape of one sample, e.g. [1, 28, 28] for a grey image.",
                  minimum=1, maximum=MAX_SIZE, min_len=1, max_len=6),
        ParamSpec("dtype", "choice", "float32", "float32 for measurements, int64 for token ids.",
                  choices=("float32", "int64")),
    ),
    infer=_input,
    inputs=(),
    check=_check_input,
    name_base="input",
)

OUTPUT = LayerSpec(
    kind="Output",
    category="Input / Output",
    doc="What the model returns; the loss compares it with the targets.",
    params=(),
    infer=lambda p, i: {},
    outputs=(),
    name_base="output",
)


def _linear(p: Params, i: In) -> dict[str, TensorType]:
    t = i["in"]
    need_float(t, "in", "Linear")
    need_rank(t, "in", (2, 3), "[N, F] (or [N, T, F] for a sequence)", flatten_fix(t, 2))
    return {"out": TensorType((*t.shape[:-1], p["out_features"]))}


LINEAR = LayerSpec(
    kind="Linear",
    category="Core",
    doc="Fully connected layer: y = x·Wᵀ + b. Its input width comes from the wire.",
    params=(
        ParamSpec("out_features", "int", 64, "Number of outputs.", minimum=1, maximum=MAX_SIZE),
        ParamSpec("bias", "bool", True, "Learn an additive bias."),
    ),
    infer=_linear,
    build=lambda p, i: nn.Linear(i["in"].shape[-1], p["out_features"], bias=p["bias"]),
    macs=lambda p, i, o: numel(i["in"].shape) * p["out_features"],
    name_base="fc",
)


def _flatten(p: Params, i: In) -> dict[str, TensorType]:
    t = i["in"]
    start = torch_dim(p["start_dim"], t, "in", "start_dim")
    end = torch_dim(p["end_dim"], t, "in", "end_dim")
    if end < start:
        raise ShapeError("in", "start_dim not after end_dim", "swap start_dim and end_dim")
    s = t.shape
    return {"out": TensorType((*s[:start], numel(s[start : end + 1]), *s[end + 1 :]), t.dtype)}


FLATTEN = LayerSpec(
    kind="Flatten",
    category="Reshape",
    doc="Joins dimensions start_dim..end_dim into one, e.g. [N, 64, 3, 3] to [N, 576].",
    params=(
        ParamSpec("start_dim", "int", 1, "First dimension to join (0 is the batch).", minimum=-6, maximum=6),
        ParamSpec("end_dim", "int", -1, "Last dimension to join.", minimum=-6, maximum=6),
    ),
    infer=_flatten,
    emit=lambda g, m, a, p, i, o: g.call_method("flatten", (a[0], p["start_dim"], p["end_dim"])),
    name_base="flatten",
)


def _reshape(p: Params, i: In) -> dict[str, TensorType]:
    t = i["in"]
    target = list(p["shape"])
    total = numel(t.shape)
    if target.count(-1) > 1:
        raise ShapeError("in", "at most one -1 in shape", "replace all but one -1 with a size")
    if -1 in target:
        known = numel(d for d in target if d != -1)
        if known == 0 or total % known:
            raise ShapeError("in", f"a size that divides into {target}", f"choose a shape whose sizes divide {total}")
        target[target.index(-1)] = total // known
    if numel(target) != total:
        raise ShapeError("in", f"{total} values per sample to fill {target}",
                         f"choose a shape holding {total} values per sample")
    return {"out": TensorType(tuple(target), t.dtype)}


RESHAPE = LayerSpec(
    kind="Reshape",
    category="Reshape",
    doc="Gives each sample a new shape with the same number of values; one size may be -1.",
    params=(
        ParamSpec("shape", "ints", [-1], "New shape of one sample, without the batch.",
                  minimum=-1, maximum=MAX_SIZE, min_len=1, max_len=6),
    ),
    infer=_reshape,
    # The rule resolved any -1, so the generated code states the real shape.
    emit=lambda g, m, a, p, i, o: g.call_method("reshape", (a[0], -1, *o["out"].shape)),
    check=lambda p: "parameter 'shape' cannot contain 0" if 0 in p["shape"] else None,
    name_base="reshape",
)


def _permute(p: Params, i: In) -> dict[str, TensorType]:
    t = i["in"]
    dims = list(p["dims"])
    if sorted(dims) != list(range(t.rank)):
        raise ShapeError("in", f"dims to be an order of 0..{t.rank - 1} for a rank-{t.rank} input",
                         f"set dims to a permutation of {list(range(t.rank))} starting with 0")
    if dims[0] != 0:
        raise ShapeError("in", "the batch dimension 0 to stay first", "start dims with 0")
    full = (0, *t.shape)
    return {"out": TensorType(tuple(full[d] for d in dims[1:]), t.dtype)}


PERMUTE = LayerSpec(
    kind="Permute",
    category="Reshape",
    doc="Reorders dimensions, e.g. dims [0, 2, 1] turns [N, C, T] into [N, T, C].",
    params=(ParamSpec("dims", "ints", [0, 2, 1], "New order of the dimensions; 0 (the batch) stays first.",
                      minimum=0, maximum=6, min_len=2, max_len=7),),
    infer=_permute,
    emit=lambda g, m, a, p, i, o: g.call_method("permute", (a[0], *p["dims"])),
    name_base="permute",
)


def _transpose(p: Params, i: In) -> dict[str, TensorType]:
    t = i["in"]
    a = torch_dim(p["dim0"], t, "in", "dim0")
    b = torch_dim(p["dim1"], t, "in", "dim1")
    s = list(t.shape)
    s[a], s[b] = s[b], s[a]
    return {"out": TensorType(tuple(s), t.dtype)}


TRANSPOSE = LayerSpec(
    kind="Transpose",
    category="Reshape",
    doc="Swaps two dimensions, e.g. 1 and 2 turns [N, C, T] into [N, T, C].",
    params=(
        ParamSpec("dim0", "int", 1, "First dimension (not the batch).", minimum=-6, maximum=6),
        ParamSpec("dim1", "int", 2, "Second dimension.", minimum=-6, maximum=6),
    ),
    infer=_transpose,
    emit=lambda g, m, a, p, i, o: g.call_method("transpose", (a[0], p["dim0"], p["dim1"])),
    name_base="transpose",
)


def _dropout(p: Params, i: In) -> dict[str, TensorType]:
    need_float(i["in"], "in", "Dropout")
    return same(i)


DROPOUT = LayerSpec(
    kind="Dropout",
    category="Regularisation",
    doc="While training, zeroes each value with probability p and scales the rest by 1/(1-p).",
    params=(ParamSpec("p", "float", 0.5, "Probability of dropping a value.", minimum=0.0, maximum=0.99),),
    infer=_dropout,
    build=lambda p, i: nn.Dropout(p["p"]),
    name_base="dropout",
)


def _embedding(p: Params, i: In) -> dict[str, TensorType]:
    t = i["in"]
    if t.dtype != "int64":
        raise ShapeError("in", "int64 token ids", "set the Input's dtype to int64")
    return {"out": TensorType((*t.shape, p["embedding_dim"]))}


EMBEDDING = LayerSpec(
    kind="Embedding",
    category="Core",
    doc="Looks up a learned vector for each integer id: [N, T] ids give [N, T, D].",
    params=(
        ParamSpec("num_embeddings", "int", 1000, "Vocabulary size: ids run from 0 to this minus 1.",
                  minimum=1, maximum=MAX_SIZE),
        ParamSpec("embedding_dim", "int", 64, "Length of each vector.", minimum=1, maximum=MAX_SIZE),
    ),
    infer=_embedding,
    build=lambda p, i: nn.Embedding(p["num_embeddings"], p["embedding_dim"]),
    name_base="embedding",
)

SPECS = (INPUT, OUTPUT, LINEAR, FLATTEN, RESHAPE, PERMUTE, TRANSPOSE, DROPOUT, EMBEDDING)
