"""RNN, LSTM and GRU, batch-first, returning the full sequence or the last step."""

from __future__ import annotations

import operator
from collections.abc import Mapping

from netbuilder.layers.rules import need_float
from netbuilder.layers.spec import MAX_SIZE, LayerSpec, Params, ParamSpec, ShapeError, TensorType
from netbuilder.lazy_torch import nn, torch

In = Mapping[str, TensorType]
GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}


def _recurrent(kind: str) -> LayerSpec:
    def infer(p: Params, i: In) -> dict[str, TensorType]:
        t = i["in"]
        need_float(t, "in", kind)
        if t.rank != 3:
            if t.rank == 2:
                fix = (f"insert Reshape to [T, F] (e.g. [{t.shape[0]}, 1]: {t.shape[0]} steps of 1 feature) "
                       "or set the Input's shape to [T, F]")
            else:
                fix = "insert Flatten or Reshape to get [N, T, F]"
            raise ShapeError("in", "[N, T, F] (batch, time steps, features)", fix)
        width = p["hidden_size"] * (2 if p["bidirectional"] else 1)
        if p["output"] == "sequence":
            return {"out": TensorType((t.shape[0], width))}
        return {"out": TensorType((width,))}

    def build(p: Params, i: In) -> nn.Module:
        cls = {"RNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}[kind]
        extra = {"nonlinearity": p["nonlinearity"]} if kind == "RNN" else {}
        return cls(i["in"].shape[1], p["hidden_size"], num_layers=p["num_layers"], batch_first=True,
                   dropout=p["dropout"], bidirectional=p["bidirectional"], **extra)

    def emit(g, call, args, p, i, o):
        seq = g.call_function(operator.getitem, (call(args[0]), 0))
        if p["output"] == "sequence":
            return seq
        if not p["bidirectional"]:
            return g.call_function(operator.getitem, (seq, (slice(None), -1)))
        # The backward direction ends at step 0: its final state sits at the start.
        h = p["hidden_size"]
        forward = g.call_function(operator.getitem, (seq, (slice(None), -1, slice(None, h))))
        backward = g.call_function(operator.getitem, (seq, (slice(None), 0, slice(h, None))))
        return g.call_function(torch.cat, ([forward, backward],), {"dim": 1})

    def macs(p: Params, i: In, o: Mapping[str, TensorType]) -> int:
        steps, features = i["in"].shape
        h, d = p["hidden_size"], 2 if p["bidirectional"] else 1
        total, width = 0, features
        for _ in range(p["num_layers"]):
            total += GATES[kind] * h * (width + h) * steps * d
            width = h * d
        return total

    params = [
        ParamSpec("hidden_size", "int", 32, "Width of the hidden state.", minimum=1, maximum=MAX_SIZE),
        ParamSpec("num_layers", "int", 1, "Stacked recurrent layers.", minimum=1, maximum=64),
        ParamSpec("bidirectional", "bool", False, "Also read the sequence backwards (doubles the width)."),
        ParamSpec("dropout", "float", 0.0, "Dropout between stacked layers (needs num_layers > 1).",
                  minimum=0.0, maximum=0.99),
        ParamSpec("output", "choice", "last", "'sequence': every step [N, T, H]; 'last': the final step [N, H].",
                  choices=("last", "sequence")),
    ]
    if kind == "RNN":
        params.append(ParamSpec("nonlinearity", "choice", "tanh", "Activation of the hidden state.",
                                choices=("tanh", "relu")))
    names = {"RNN": "Elman RNN", "LSTM": "Long short-term memory", "GRU": "Gated recurrent unit"}
    return LayerSpec(
        kind=kind,
        category="Recurrent",
        doc=f"{names[kind]} over [N, T, F]; gives every step or only the last.",
        params=tuple(params),
        infer=infer,
        build=build,
        emit=emit,
        macs=macs,
        check=lambda p: ("parameter 'dropout' only acts between layers; set num_layers to 2 or more or dropout to 0"
                         if p["dropout"] > 0 and p["num_layers"] == 1 else None),
        name_base=kind.lower(),
    )


SPECS = tuple(_recurrent(k) for k in ("RNN", "LSTM", "GRU"))


