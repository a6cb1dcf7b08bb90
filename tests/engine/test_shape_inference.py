"""Shape inference: every rule agrees with torch; problems name node, port, shapes and fix."""

from __future__ import annotations

import re

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from netbuilder import Edge, Graph, build_module, infer_shapes
from netbuilder.analysis.shape_inference import ShapeInference
from netbuilder.layers import CATALOG, CATEGORIES


def single(kind: str, in_shape: list[int], dtype: str = "float32", **params):
    """Input -> kind -> Output; returns (graph, inference, layer node)."""
    g = Graph()
    x = g.add_node(g.make_node("Input", "x", {"shape": in_shape, "dtype": dtype}))
    layer = g.add_node(g.make_node(kind, "layer", params))
    out = g.add_node(g.make_node("Output", "y"))
    g.connect(Edge(x.id, "out", layer.id, layer.input_ports()[0].name))
    g.connect(Edge(layer.id, "out", out.id, "in"))
    return g, infer_shapes(g), layer


CASES = [
    ("Linear", [20], {"out_features": 7}, (7,)),
    ("Linear", [5, 20], {"out_features": 7}, (5, 7)),
    ("Conv1d", [3, 50], {"out_channels": 8, "kernel_size": 5, "stride": 2, "padding": 1}, (8, 24)),
    ("Conv2d", [3, 32, 30], {"out_channels": 4, "kernel_size": [3, 5], "stride": [2, 1], "dilation": 2},
     (4, 14, 22)),
    ("Conv2d", [4, 9, 9], {"out_channels": 6, "kernel_size": 3, "groups": 2, "padding": 1}, (6, 9, 9)),
    ("ConvTranspose2d", [4, 7, 7], {"out_channels": 2, "kernel_size": 3, "stride": 2, "padding": 1,
                                    "output_padding": 1}, (2, 14, 14)),
    ("MaxPool1d", [2, 9], {"kernel_size": 2}, (2, 4)),
    ("MaxPool2d", [2, 9, 8], {"kernel_size": 3, "stride": 2, "padding": 1}, (2, 5, 4)),
    ("AvgPool1d", [2, 9], {"kernel_size": 3, "stride": 1}, (2, 7)),
    ("AvgPool2d", [2, 8, 8], {"kernel_size": 2}, (2, 4, 4)),
    ("AdaptiveAvgPool1d", [3, 17], {"output_size": 4}, (3, 4)),
    ("AdaptiveAvgPool2d", [3, 17, 9], {"output_size": 1}, (3, 1, 1)),
    ("Flatten", [64, 3, 3], {}, (576,)),
    ("Flatten", [2, 3, 4, 5], {"start_dim": 2, "end_dim": 3}, (2, 12, 5)),
    ("Reshape", [12], {"shape": [3, -1]}, (3, 4)),
    ("Permute", [2, 3, 4], {"dims": [0, 3, 1, 2]}, (4, 2, 3)),
    ("Transpose", [2, 3, 4], {"dim0": 1, "dim1": -1}, (4, 3, 2)),
    ("Dropout", [5], {"p": 0.3}, (5,)),
    ("BatchNorm1d", [5], {}, (5,)),
    ("BatchNorm1d", [5, 7], {}, (5, 7)),
    ("BatchNorm2d", [3, 4, 4], {}, (3, 4, 4)),
    ("LayerNorm", [4, 6], {"dims": 2}, (4, 6)),
    ("LocalResponseNorm", [6, 4, 4], {"size": 3}, (6, 4, 4)),
    ("RNN", [7, 3], {"hidden_size": 5, "output": "sequence", "nonlinearity": "relu"}, (7, 5)),
    ("LSTM", [7, 3], {"hidden_size": 5, "num_layers": 2, "dropout": 0.1}, (5,)),
    ("GRU", [7, 3], {"hidden_size": 5, "bidirectional": True, "output": "sequence"}, (7, 10)),
    ("MultiheadAttention", [6, 8], {"num_heads": 2}, (6, 8)),
    ("TransformerEncoderLayer", [6, 8], {"nhead": 4, "dim_feedforward": 16}, (6, 8)),
    ("Softmax", [4, 3], {"dim": 1}, (4, 3)),
    ("LogSoftmax", [4], {}, (4,)),
    ("PReLU", [3, 2], {}, (3, 2)),
    ("GELU", [3], {"approximate": "tanh"}, (3,)),
]


@pytest.mark.parametrize(("kind", "shape", "params", "expected"), CASES,
                         ids=[f"{c[0]}-{k}" for k, c in enumerate(CASES)])
def test_rule_matches_torch(kind, shape, params, expected) -> None:
    g, inference, layer = single(kind, shape, **params)
    assert not inference.errors, [p.message for p in inference.errors]
    assert inference.outputs(layer.id)["out"].shape == expected
    module = build_module(g, inference).eval()
    assert tuple(module(torch.randn(2, *shape)).shape) == (2, *expected)


def test_embedding_takes_int_ids() -> None:
    g, inference, layer = single("Embedding", [5], "int64", num_embeddings=10, embedding_dim=3)
    assert inference.outputs(layer.id)["out"].shape == (5, 3)
    assert build_module(g)(torch.randint(0, 10, (2, 5))).shape == (2, 5, 3)


def test_every_kind_is_documented_and_its_defaults_are_valid() -> None:
    assert len(CATALOG) >= 42
    for spec in CATALOG.values():
        assert spec.doc and spec.category in CATEGORIES
        assert all(p.doc for p in spec.params), spec.kind
        for p in spec.params:
            assert p.check(p.default) is None, (spec.kind, p.name)


@pytest.mark.parametrize(
    ("kind", "shape", "dtype", "params", "message"),
    [
        ("Linear", [64, 3, 3], "float32", {},
         r"Linear 'layer' needs \[N, F\] \(or \[N, T, F\] for a sequence\); got \[N, 64, 3, 3\]: insert Flatten"),
        ("Conv2d", [1, 3, 3], "float32", {"kernel_size": 5},
         r"Conv2d 'layer' needs H of at least 5 for kernel_size 5; got \[N, 1, 3, 3\]: use a smaller kernel_size"),
        ("Conv2d", [784], "float32", {},
         r"Conv2d 'layer' needs \[N, C, H, W\]; got \[N, 784\]: insert Reshape to \[C, H, W\]"),
        ("LSTM", [2], "float32", {},
         r"LSTM 'layer' needs \[N, T, F\] \(batch, time steps, features\); got \[N, 2\]: "
         r"insert Reshape to \[T, F\] \(e\.g\. \[2, 1\]"),
        ("MultiheadAttention", [5, 10], "float32", {"num_heads": 4},
         r"MultiheadAttention 'layer' needs an embedding width divisible by num_heads=4 at 'query'; "
         r"got \[N, 5, 10\]: set num_heads to a divisor of 10"),
        ("Linear", [5], "int64", {},
         r"Linear 'layer' needs a float32 tensor; got \[N, 5\] int64: .*insert an Embedding"),
        ("Embedding", [5], "float32", {}, r"Embedding 'layer' needs int64 token ids.*set the Input's dtype to int64"),
        ("Reshape", [10], "float32", {"shape": [3, -1]}, r"Reshape 'layer' needs a size that divides"),
        ("BatchNorm2d", [4, 7], "float32", {},
         r"BatchNorm2d 'layer' needs \[N, C, H, W\]; got \[N, 4, 7\]: use BatchNorm1d"),
        ("Conv2d", [3, 8, 8], "float32", {"groups": 2, "out_channels": 4},
         r"Conv2d 'layer' needs channels divisible by groups=2"),
        ("Softmax", [4], "float32", {"dim": 0}, r"Softmax 'layer' needs dim other than the batch dimension 0"),
    ],
)
def test_problems_name_node_expected_got_and_fix(kind, shape, dtype, params, message) -> None:
    _, inference, layer = single(kind, shape, dtype, **params)
    problem = inference.info(layer.id).problem
    assert problem is not None and problem.node == layer.id
    assert problem.severity == "error"
    assert re.search(message, problem.message), problem.message


def test_cross_parameter_problem_is_reported_not_refused() -> None:
    _, inference, layer = single("Conv2d", [4, 8, 8], out_channels=6, groups=4)
    assert "parameter 'groups' (4) must divide out_channels (6)" in inference.info(layer.id).problem.message


def test_downstream_of_a_problem_waits_instead_of_piling_up_errors() -> None:
    g, inference, layer = single("Linear", [64, 3, 3])
    relu = g.add_node(g.make_node("ReLU"))
    g.connect(Edge(layer.id, "out", relu.id, "in"))
    assert inference.info(relu.id).waiting
    assert [p.node for p in inference.errors] == [layer.id]


def test_whole_graph_problems() -> None:
    g = Graph()
    inference = ShapeInference(g)
    codes = {p.code for p in inference.problems}
    assert codes == {"no-input", "no-output"}
    x = g.add_node(g.make_node("Input", "x", {"shape": [3]}))
    fc = g.add_node(g.make_node("Linear", "fc"))
    dead = g.add_node(g.make_node("ReLU", "dead"))
    out = g.add_node(g.make_node("Output", "y"))
    g.connect(Edge(x.id, "out", fc.id, "in"))
    g.connect(Edge(fc.id, "out", out.id, "in"))
    g.connect(Edge(x.id, "out", dead.id, "in"))
    lonely = g.add_node(g.make_node("Linear", "lonely"))
    by_code = {p.code: p for p in inference.problems}
    assert by_code["unreachable"].severity == "warning"
    assert "ReLU 'dead' does not lead to any Output" in by_code["unreachable"].message
    assert by_code["unconnected"].node == lonely.id
    assert "Linear 'lonely' has nothing wired into its input" in by_code["unconnected"].message


def test_one_edit_reinfers_only_downstream() -> None:
    g = Graph()
    inference = ShapeInference(g)
    prev = g.add_node(g.make_node("Input", params={"shape": [8]}))
    ids = []
    for _ in range(100):
        node = g.add_node(g.make_node("Linear", params={"out_features": 8}))
        g.connect(Edge(prev.id, "out", node.id, "in"))
        ids.append(node.id)
        prev = node
    out = g.add_node(g.make_node("Output"))
    g.connect(Edge(prev.id, "out", out.id, "in"))
    assert inference.update() == 102
    before = {n: inference.info(n) for n in g.nodes}
    seen = inference.generation
    g.set_params(ids[89], {"out_features": 5})
    # fc90 (edited), fc91 (its input changed; its output is 8 again) and fc92, found unchanged:
    # the re-inference stops there, not at the Output 11 nodes on.
    assert inference.update() == 3
    assert inference.outputs(ids[89])["out"].shape == (5,)
    assert inference.info(ids[90]).inputs["in"].shape == (5,)
    assert inference.outputs(ids[-1])["out"].shape == (8,)
    assert inference.changed_since(seen) == {ids[89], ids[90]}
    assert [n for n in g.nodes if inference.info(n) is not before[n]] == [ids[89], ids[90]]
    g.move(ids[0], (50, 50))
    assert inference.update() == 0
    assert inference.changed_since(inference.generation) == set()


def test_a_change_that_carries_on_reaches_every_node_after_it() -> None:
    g = Graph()
    inference = ShapeInference(g)
    first = prev = g.add_node(g.make_node("Input", params={"shape": [8]}))
    for _ in range(50):
        node = g.add_node(g.make_node("ReLU"))
        g.connect(Edge(prev.id, "out", node.id, "in"))
        prev = node
    out = g.add_node(g.make_node("Output"))
    g.connect(Edge(prev.id, "out", out.id, "in"))
    inference.update()
    seen = inference.generation
    g.set_params(first.id, {"shape": [3, 4]})
    assert inference.update() == 52
    assert inference.info(out.id).inputs["in"].shape == (3, 4)
    assert inference.changed_since(seen) == set(g.nodes)
    for k in range(ShapeInference.KEPT_UPDATES + 1):  # further back than it remembers: "assume all"
        g.set_params(first.id, {"shape": [k % 2 + 1]})
        inference.update()
    assert inference.changed_since(seen) is None


# ---- merges: held against torch on full shapes, batch included ------------------------------
def merge_graph(kind: str, shapes: list[list[int]], **params):
    """One Input per shape -> kind -> Output; returns (graph, inference, merge node)."""
    g = Graph()
    counted = g.make_node(kind, "merge").spec.param("num_inputs") is not None  # Subtract, Divide: two, fixed
    merge = g.add_node(g.make_node(kind, "merge", {"num_inputs": len(shapes), **params} if counted else params))
    ports = [p.name for p in merge.input_ports()]
    for k, (shape, port) in enumerate(zip(shapes, ports, strict=True), start=1):
        x = g.add_node(g.make_node("Input", f"x{k}", {"shape": shape}))
        g.connect(Edge(x.id, "out", merge.id, port))
    out = g.add_node(g.make_node("Output", "y"))
    g.connect(Edge(merge.id, "out", out.id, "in"))
    return g, infer_shapes(g), merge


def torch_merge(kind: str, shapes: list[list[int]], batch: int, dim: int = 1) -> tuple[int, ...] | None:
    """The full shape torch gives for ``kind`` on these per-sample shapes at ``batch``, or None."""
    xs = [torch.zeros(batch, *s, device="meta") for s in shapes]
    try:
        if kind == "Concat":
            return tuple(torch.cat(xs, dim=dim).shape)
        op = {"Add": torch.add, "Multiply": torch.mul, "Subtract": torch.sub, "Divide": torch.div}[kind]
        y = xs[0]
        for x in xs[1:]:
            y = op(y, x)
        return tuple(y.shape)
    except (RuntimeError, IndexError):
        return None


sample_shapes = st.lists(st.sampled_from([1, 2, 3, 4]), min_size=1, max_size=3)


@settings(max_examples=300, deadline=None)  # the first torch call warms up
@given(st.sampled_from(["Add", "Multiply", "Concat", "Subtract", "Divide"]), st.lists(sample_shapes, min_size=2,
                                                                                      max_size=3),
       st.sampled_from([1, 2, -1]))
def test_merges_accept_exactly_what_torch_computes_the_same_way_at_every_batch_size(kind, shapes, dim) -> None:
    if kind in ("Subtract", "Divide"):
        shapes = shapes[:2]  # two inputs each
    _, inference, merge = merge_graph(kind, shapes, **({"dim": dim} if kind == "Concat" else {}))
    outputs = inference.outputs(merge.id)
    # Batch sizes 1, 2 and 3: torch lines full shapes up from the right, so a batch N that meets a
    # sample's size of 1 or 3 can pass at one batch size and fail or differ at another.
    by_batch = {b: torch_merge(kind, shapes, b, dim) for b in (1, 2, 3)}
    if outputs is not None:
        for b, got in by_batch.items():
            assert got == (b, *outputs["out"].shape), (b, inference.outputs(merge.id))
    else:
        same_everywhere = all(got is not None and got[0] == b and got[1:] == by_batch[1][1:]
                              for b, got in by_batch.items())
        assert not same_everywhere, inference.info(merge.id).problem.message


@pytest.mark.parametrize("kind", ["Add", "Multiply"])
def test_merge_of_different_ranks_is_refused_with_the_reshape_that_fixes_it(kind) -> None:
    _, inference, merge = merge_graph(kind, [[3, 4], [4]])
    problem = inference.info(merge.id).problem
    assert problem is not None and problem.node == merge.id and problem.port == "in2"
    assert re.search(rf"{kind} 'merge' needs rank 3 like in1 \[N, 3, 4\] at 'in2'; got \[N, 4\]: "
                     r"insert Reshape to \[1, 4\] before 'in2'", problem.message), problem.message
    # The lower-rank input may come first: the problem still points at it.
    _, inference, merge = merge_graph(kind, [[5], [2, 3, 5]])
    problem = inference.info(merge.id).problem
    assert problem.port == "in1" and "insert Reshape to [1, 1, 5] before 'in1'" in problem.message


def test_merge_of_same_rank_broadcasts_per_sample_and_runs() -> None:
    g, inference, merge = merge_graph("Add", [[3, 4], [1, 4]])
    assert inference.outputs(merge.id)["out"].shape == (3, 4)
    module = build_module(g, inference)
    for batch in (1, 3):
        a, b = torch.randn(batch, 3, 4), torch.randn(batch, 1, 4)
        torch.testing.assert_close(module(a, b), a + b)


def test_the_reshape_the_problem_names_fixes_the_merge() -> None:
    g, inference, merge = merge_graph("Multiply", [[3, 4], [4]])
    edge = g.in_edges(merge.id)["in2"]
    g.disconnect(edge)
    reshape = g.add_node(g.make_node("Reshape", "lift", {"shape": [1, 4]}))
    g.connect(Edge(edge.src, "out", reshape.id, "in"))
    g.connect(Edge(reshape.id, "out", merge.id, "in2"))
    assert not inference.errors and inference.outputs(merge.id)["out"].shape == (3, 4)
    a, b = torch.randn(2, 3, 4), torch.randn(2, 4)
    torch.testing.assert_close(build_module(g, inference)(a, b), a * b[:, None, :])
