"""Hypothesis strategies: random valid graphs built the way a user builds them."""

from __future__ import annotations

import random
import re
from typing import Any

from hypothesis import strategies as st

from netbuilder.analysis.shape_inference import ShapeInference
from netbuilder.errors import EditRefused
from netbuilder.layers import CATALOG, TensorType
from netbuilder.model.graph import Edge, Graph

SMALL = {"out_features": 8, "out_channels": 6, "hidden_size": 6, "embedding_dim": 8, "num_embeddings": 12,
         "dim_feedforward": 12, "num_heads": 4, "nhead": 4, "num_layers": 2, "output_size": 3, "size": 5,
         "num_inputs": 3}
LAYER_KINDS = sorted(k for k in CATALOG if k not in ("Input", "Output"))
INPUT_SHAPES = [[5], [4, 6], [3, 9, 9], [2, 12], [4, 8], [8]]


def random_params(kind: str, t: TensorType | None, rng: random.Random) -> dict[str, Any]:
    """Plausible parameter values for ``kind`` given its (first) input type."""
    spec = CATALOG[kind]
    params: dict[str, Any] = {}
    for p in spec.params:
        lo = int(p.minimum) if p.minimum is not None else 0
        if p.kind in ("int", "int2", "optional_int", "optional_int2"):
            hi = SMALL.get(p.name, 3)
            if p.name in ("dim", "dim0", "dim1", "start_dim", "end_dim") and t is not None:
                params[p.name] = rng.choice([d for d in range(-t.rank, t.rank) if d not in (0, -t.rank)] or [1])
            elif p.name == "dims" or p.name == "shape":
                continue
            elif p.kind.startswith("optional") and rng.random() < 0.5:
                params[p.name] = None
            else:
                params[p.name] = rng.randint(max(lo, 0 if p.name in ("padding", "output_padding") else 1),
                                             max(hi, lo, 1))
        elif p.kind == "float":
            params[p.name] = round(rng.uniform(p.minimum or 0.0, min(p.maximum or 1.0, 0.9)), 3)
        elif p.kind == "bool":
            params[p.name] = rng.random() < 0.5
        elif p.kind == "choice":
            params[p.name] = rng.choice(p.choices)
    if kind == "Permute" and t is not None:
        rest = list(range(1, t.rank))
        rng.shuffle(rest)
        params["dims"] = [0, *rest]
    if kind == "Reshape" and t is not None:
        params["shape"] = rng.choice([[-1], [1, -1], [-1, 1]])
    if kind in ("Conv1d", "Conv2d") and t is not None and t.rank > 2:
        params["groups"] = rng.choice([g for g in (1, 2, 3) if t.shape[0] % g == 0 and
                                       params["out_channels"] % g == 0])
    if kind in ("RNN", "LSTM", "GRU") and params.get("num_layers") == 1:
        params["dropout"] = 0.0
    if kind == "ConvTranspose2d":
        params["output_padding"] = 0
    if kind == "Pad" and t is not None:  # a pair per spatial dim (reflect and replicate pad exactly those)
        params["padding"] = [rng.randint(0, 2) for _ in range(2 * min(3, max(1, t.rank - 2)))]
    if kind == "Embedding" and t is not None:
        params["num_embeddings"] = 12
    if kind == "Split" and t is not None:
        axis = rng.randrange(len(t.shape))
        size = t.shape[axis]
        params.update(dim=axis + 1, sizes=[1, size - 1] if size > 1 else [1, 1])
    if kind == "Math":  # log, sqrt and fractional powers of negatives are NaN, which compares unequal
        params["function"] = rng.choice(["abs", "neg", "exp", "add", "multiply", "reciprocal"])
    return params


def _out(inference: ShapeInference, node) -> TensorType:
    """What a node's first output carries (a Split has several)."""
    return inference.outputs(node.id)[node.output_ports()[0]]


def grow_graph(seed: int, steps: int, with_ints: bool = True) -> tuple[Graph, ShapeInference]:
    """A random valid DAG: Inputs, layers stacked on random earlier outputs, merges, Outputs.

    Candidate layers whose inferred shapes come out as a problem are taken back, the way
    a user would delete a layer the editor marks red.
    """
    rng = random.Random(seed)
    g = Graph()
    inference = ShapeInference(g)
    for shape in rng.sample(INPUT_SHAPES, rng.randint(1, 2)):
        g.add_node(g.make_node("Input", params={"shape": shape}))
    if with_ints and rng.random() < 0.3:
        g.add_node(g.make_node("Input", params={"shape": [7], "dtype": "int64"}))
    for _ in range(steps):
        ready = [n for n in g if n.kind != "Output" and inference.outputs(n.id)]
        src = rng.choice(ready)
        t = _out(inference, src)
        kind = rng.choice(LAYER_KINDS)
        try:
            node = g.add_node(g.make_node(kind, params=random_params(kind, t, rng)))
        except EditRefused:
            continue
        ports = [p.name for p in node.input_ports()]
        g.connect(Edge(src.id, src.output_ports()[0], node.id, ports[0]))
        # Merges and attention take more inputs: prefer earlier outputs of the same type; merges
        # also take outputs of other shapes and ranks, which must broadcast the way torch does.
        for port in ports[1:]:
            same = [n for n in ready if _out(inference, n) == t and n.id != src.id]
            other = [n for n in ready if n.id != src.id and _out(inference, n).dtype == t.dtype]
            if CATALOG[kind].category == "Merge" and other and rng.random() < 0.5:
                pick = rng.choice(other)
                g.connect(Edge(pick.id, pick.output_ports()[0], node.id, port))
            elif same and rng.random() < 0.8:
                pick = rng.choice(same)
                g.connect(Edge(pick.id, pick.output_ports()[0], node.id, port))
            elif not CATALOG[kind].input_ports(node.params)[ports.index(port)].optional:
                g.connect(Edge(src.id, src.output_ports()[0], node.id, port))
        added = [node.id, *_follow_reshape_fix(g, inference, node.id)]
        info = inference.info(node.id)
        if info.problem is not None or info.outputs is None:
            for node_id in added:
                for e in list(g.in_edges(node_id).values()):
                    g.disconnect(e)
            for e in [e for e in g.edges if e.src in added]:
                g.disconnect(e)
            for node_id in added:
                g.remove_node(node_id)
    leaves = [n for n in g if not g.out_edges(n.id) and n.kind != "Input"] or [list(g)[-1]]
    for leaf in leaves[:3]:
        out = g.add_node(g.make_node("Output"))
        g.connect(Edge(leaf.id, leaf.output_ports()[0], out.id, "in"))
    return g, inference


_RESHAPE_FIX = re.compile(r"insert Reshape to \[([\d, ]+)\] before '(\w+)'")


def _follow_reshape_fix(g: Graph, inference: ShapeInference, node_id: str) -> list[str]:
    """Do what a merge's rank problem says, as a user would: insert the Reshape it names before
    the port it names. Returns the ids of the Reshapes added, so merges of different ranks
    stay in the graphs."""
    added = []
    while (problem := inference.info(node_id).problem) and (fix := _RESHAPE_FIX.search(problem.message)):
        shape, port = [int(d) for d in fix.group(1).split(", ")], fix.group(2)
        edge = g.in_edges(node_id)[port]
        reshape = g.add_node(g.make_node("Reshape", params={"shape": shape}))
        g.disconnect(edge)
        g.connect(Edge(edge.src, edge.src_port, reshape.id, "in"))
        g.connect(Edge(reshape.id, "out", node_id, port))
        added.append(reshape.id)
    return added


graphs = st.builds(grow_graph, st.integers(0, 2**31 - 1), st.integers(1, 30))
