"""ONNX's sequence ops as netbuilder layers: Gather of rows of a constant table as Embedding, or of the
last step of an RNN's output (``y[:, -1]``, ``h_n[-1]``) as the RNN's 'last' output; LSTM, GRU and RNN
(one layer, forward or bidirectional, zero initial state) as torch's, their gates reordered."""

from __future__ import annotations

import numpy as np
import onnx

from netbuilder.onnx import ops_modern
from netbuilder.onnx.layer_maker import LayerMaker, Mapper, node_attrs
from netbuilder.onnx.values import Fill, OpProblem, RnnOut, TimeMajor, Value


def _gather(b: LayerMaker, n: onnx.NodeProto) -> list[Value]:
    axis = int(node_attrs(n).get("axis", 0))
    if b.is_const(n, 0) and not b.is_const(n, 1):
        table = b.const(n, 0, "table")
        if table.ndim != 2 or axis != 0:
            raise OpProblem("only Gather of rows of a constant 2-D table maps to Embedding")
        dtype = b.dtype(n.input[1])
        if dtype != "int64":
            raise OpProblem(f"its indices are {dtype}, but netbuilder's Embedding takes int64 ids")
        params = {"num_embeddings": table.shape[0], "embedding_dim": table.shape[1]}
        return [b.add("Embedding", n, params, [b.port(n, 1)], {"weight": table})]
    v = b.value(n.input[0])
    if b.is_const(n, 1) and b.const(n, 1, "index").size == 1:
        index = int(b.const(n, 1, "index").reshape(-1)[0])
        seq = v.inner if isinstance(v, TimeMajor) and axis == 0 else v if axis == 1 else None
        steps = b.shape(n.input[0])[axis]
        if (isinstance(seq, RnnOut) and seq.which == "seq" and not b.bidirectional(seq.node)
                and b.const(n, 1, "index").ndim == 0 and (index == -1 or index == steps - 1)):
            return [b.rnn_use(seq.node, "last")]  # y[:, -1]: the RNN's 'last' output
        if axis == 0 and b.const(n, 1, "index").ndim == 0:
            state = ops_modern.final_state(b, v, index)  # h_n[-1]
            if state is not None:
                return [state]
        rank = len(b.shape(n.input[0]))
        if axis % rank != 0 and b.const(n, 1, "index").ndim <= 1:  # x[:, k]: one step of a computed tensor
            return ops_modern.select(b, n, axis % rank, index, keep=b.const(n, 1, "index").ndim == 1)
    raise OpProblem("Gather on a computed tensor has no netbuilder layer (only an Embedding lookup, one step "
                    "along a dim after the batch, or the last step of an RNN's output)")


_GATES = {"LSTM": [0, 2, 3, 1], "GRU": [1, 0, 2], "RNN": [0]}  # torch's gate order, as ONNX indices
_ACTS = {"LSTM": ["Sigmoid", "Tanh", "Tanh"], "GRU": ["Sigmoid", "Tanh"]}


def _recurrent(kind: str) -> Mapper:
    def mapper(b: LayerMaker, n: onnx.NodeProto) -> list[Value]:
        a = node_attrs(n)
        direction = a.get("direction", "forward")
        dirs = 2 if direction == "bidirectional" else 1
        acts = [s.lower() for s in a.get("activations", [])]
        want = [s.lower() for s in _ACTS.get(kind, ["Tanh"])]
        if kind == "RNN" and acts[:1] == ["relu"]:
            want = ["relu"]
        if direction == "reverse" or a.get("layout", 0) or "clip" in a or a.get("input_forget", 0):
            raise OpProblem("direction=reverse, layout=1, clip and input_forget have no netbuilder equal")
        if acts and acts != want * dirs:
            raise OpProblem(f"activations {a['activations']} differ from torch's {kind}")
        if kind == "GRU" and not a.get("linear_before_reset", 0):
            raise OpProblem("a GRU with linear_before_reset=0 differs from torch's GRU")
        x = b.value(n.input[0])
        if not isinstance(x, TimeMajor):
            raise OpProblem("its input is not a batch-first tensor transposed to [T, N, F]")
        port = b.resolve(x.inner, n)
        w, r = b.const(n, 1, "W"), b.const(n, 2, "R")
        hidden, gates = int(a["hidden_size"]), len(_GATES[kind])
        bias = b.const(n, 3, "B") if b.has(n, 3) else np.zeros((dirs, 2 * gates * hidden), np.float32)
        if b.has(n, 4):
            raise OpProblem("per-sample sequence_lens have no netbuilder equal")
        for k in range(5, len(n.input)):  # initial_h, initial_c, P: zeros only
            v = b.value(n.input[k]) if n.input[k] else Fill(0.0)
            if not (v == Fill(0.0) or (isinstance(v, np.ndarray) and not v.any())):
                raise OpProblem("a non-zero initial state or peepholes have no netbuilder equal")

        def order(t: np.ndarray) -> np.ndarray:
            return t.reshape(gates, hidden, *t.shape[1:])[_GATES[kind]].reshape(t.shape)

        weights = {}
        for d in range(dirs):
            sfx = "_l0_reverse" if d else "_l0"
            weights |= {f"weight_ih{sfx}": order(w[d]), f"weight_hh{sfx}": order(r[d]),
                        f"bias_ih{sfx}": order(bias[d, :gates * hidden]),
                        f"bias_hh{sfx}": order(bias[d, gates * hidden:])}
        params = {"hidden_size": hidden, "num_layers": 1, "bidirectional": dirs == 2, "dropout": 0.0,
                  "output": "sequence"}
        if kind == "RNN":
            params["nonlinearity"] = want[0]
        rnn = b.add(kind, n, params, [port], weights)
        return [RnnOut(rnn.node, w) for w in ("Y", "Y_h", "Y_c")][:len(n.output)]

    return mapper


MAPPERS: dict[str, Mapper] = {
    "Gather": _gather, "LSTM": _recurrent("LSTM"), "GRU": _recurrent("GRU"), "RNN": _recurrent("RNN"),
}
