"""Graph model and undoable edits: refusals leave the graph unchanged; undo is exact."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netbuilder import Edge, EditRefused, Graph, Project
from netbuilder.analysis.shape_inference import ShapeInference, infer_shapes
from netbuilder.model.edits import (
    AddNode,
    Compound,
    Connect,
    Disconnect,
    Move,
    RemoveNode,
    Rename,
    SetParams,
)
from tests.engine.strategies import LAYER_KINDS, random_params


def snapshot(graph: Graph) -> str:
    return json.dumps(Project(graph).to_dict(), sort_keys=True)


def chain(*kinds: str) -> tuple[Graph, list[str]]:
    g = Graph()
    ids = []
    for kind in kinds:
        params = {"shape": [4]} if kind == "Input" else {}
        node = g.add_node(g.make_node(kind, params=params))
        if ids:
            port = node.input_ports()[0].name
            g.connect(Edge(ids[-1], "out", node.id, port))
        ids.append(node.id)
    return g, ids


def test_events_fire_for_every_change() -> None:
    g = Graph()
    seen = []
    for event in (g.node_added, g.node_removed, g.edge_added, g.edge_removed, g.node_changed):
        event.sub(lambda *args, name=event.name: seen.append(name))
    a = g.add_node(g.make_node("Input", params={"shape": [3]}))
    b = g.add_node(g.make_node("Linear"))
    e = g.connect(Edge(a.id, "out", b.id, "in"))
    g.set_params(b.id, {"out_features": 5})
    g.rename(b.id, "head")
    g.move(b.id, (10, 20))
    g.disconnect(e)
    g.remove_node(b.id)
    assert seen == ["node_added", "node_added", "edge_added", "node_changed", "node_changed",
                    "node_changed", "edge_removed", "node_removed"]


@pytest.mark.parametrize(
    ("make_edge", "reason"),
    [
        (lambda ids: Edge(ids[2], "out", ids[0], "in"), "has no input port"),
        (lambda ids: Edge(ids[2], "out", ids[1], "in"), "would make a loop"),
        (lambda ids: Edge(ids[1], "out", ids[1], "in"), "would make a loop|cannot feed itself|already has a wire"),
        (lambda ids: Edge(ids[0], "out", ids[1], "in"), "already has a wire from 'input1'; remove that wire first"),
        (lambda ids: Edge(ids[3], "out", ids[1], "in"), "has no output port"),
        (lambda ids: Edge(ids[0], "bogus", ids[3], "in"), "has no output port 'bogus'"),
        (lambda ids: Edge(ids[0], "out", "nope", "in"), "no node with id 'nope'"),
    ],
)
def test_bad_wires_are_refused_with_a_reason_and_change_nothing(make_edge, reason) -> None:
    g, ids = chain("Input", "Linear", "ReLU", "Output")
    before = snapshot(g)
    with pytest.raises(EditRefused, match=reason):
        g.connect(make_edge(ids))
    assert snapshot(g) == before


def test_bad_params_and_names_are_refused() -> None:
    g, ids = chain("Input", "Linear", "Output")
    before = snapshot(g)
    with pytest.raises(EditRefused, match="out_features must be at least 1, not -3"):
        g.set_params(ids[1], {"out_features": -3})
    with pytest.raises(EditRefused, match="out_features must be at most"):
        g.set_params(ids[1], {"out_features": 10**12})
    with pytest.raises(EditRefused, match="must be a whole number"):
        g.set_params(ids[1], {"out_features": "64"})
    with pytest.raises(EditRefused, match="has no parameter"):
        g.set_params(ids[1], {"units": 3})
    with pytest.raises(EditRefused, match="already exists"):
        g.rename(ids[1], "input1")
    for bad in ("1x", "class", "forward", "has space", ""):
        with pytest.raises(EditRefused):
            g.rename(ids[1], bad)
    assert snapshot(g) == before


def test_merge_port_count_cannot_drop_a_wired_port() -> None:
    g = Graph()
    a = g.add_node(g.make_node("Input", params={"shape": [3]}))
    add = g.add_node(g.make_node("Add", params={"num_inputs": 3}))
    g.connect(Edge(a.id, "out", add.id, "in3"))
    with pytest.raises(EditRefused, match="input 'in3' of 'add1' is wired"):
        g.set_params(add.id, {"num_inputs": 2})


def test_remove_node_edit_takes_its_wires_and_undo_restores_them() -> None:
    g, ids = chain("Input", "Linear", "ReLU", "Output")
    before = snapshot(g)
    edit = RemoveNode(ids[1])
    edit.apply(g)
    assert ids[1] not in g.nodes and len(g.edges) == 1
    edit.revert(g)
    assert snapshot(g) == before


def test_compound_is_all_or_nothing() -> None:
    g, ids = chain("Input", "Linear", "Output")
    before = snapshot(g)
    bad = Compound("Paste", [SetParams(ids[1], {"out_features": 7}), Connect(ids[0], "out", ids[1], "in")])
    with pytest.raises(EditRefused):
        bad.apply(g)
    assert snapshot(g) == before


def _random_edit(g: Graph, rng: random.Random):
    nodes = list(g)
    choice = rng.random()
    if choice < 0.3 or not nodes:
        kind = rng.choice(["Input", *LAYER_KINDS, "Output"])
        params = {"shape": [rng.randint(1, 6)]} if kind == "Input" else random_params(kind, None, rng)
        return AddNode(g.make_node(kind, params=params, position=(rng.uniform(-500, 500), rng.uniform(0, 900))))
    node = rng.choice(nodes)
    if choice < 0.55:
        dst = rng.choice(nodes)
        ports = [p.name for p in dst.input_ports()] or ["in"]
        return Connect(node.id, "out", dst.id, rng.choice(ports))
    if choice < 0.65 and g.edges:
        return Disconnect(rng.choice(g.edges))
    if choice < 0.75:
        return RemoveNode(node.id)
    if choice < 0.85 and node.spec.params:
        p = rng.choice(node.spec.params)
        value = random_params(node.kind, None, rng).get(p.name, p.default)
        return SetParams(node.id, {p.name: rng.choice([value, -1, 0, 10**12, "x"])})
    if choice < 0.92:
        return Rename(node.id, rng.choice(["a", "b", "fc", node.name + "x", "class", "9"]))
    return Move({node.id: (rng.uniform(-1e3, 1e3), rng.uniform(-1e3, 1e3))})


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 60))
def test_random_edit_sequences_undo_and_redo_to_the_same_file(seed: int, steps: int) -> None:
    rng = random.Random(seed)
    g = Graph()
    inference = ShapeInference(g)
    history: list[tuple[object, str]] = []
    for _ in range(steps):
        edit = _random_edit(g, rng)
        before = snapshot(g)
        try:
            edit.apply(g)
        except EditRefused:
            assert snapshot(g) == before, "a refused edit changed the graph"
            continue
        history.append((edit, before))
    final = snapshot(g)
    # The incremental inference agrees with a fresh one after every kind of edit.
    fresh = infer_shapes(g)
    for node in g:
        assert inference.info(node.id).outputs == fresh.info(node.id).outputs
        assert inference.info(node.id).problem == fresh.info(node.id).problem
    assert inference.problems == fresh.problems  # the whole-graph ones too, kept between edits
    for edit, before in reversed(history):
        edit.revert(g)
        assert snapshot(g) == before
        assert_kinds_indexed(g)
    for edit, _ in history:
        edit.apply(g)
        assert_kinds_indexed(g)
    assert snapshot(g) == final
    assert inference.problems == infer_shapes(g).problems


def assert_kinds_indexed(g: Graph) -> None:
    """Graph.of_kind answers as a pass over every node would, in node order."""
    for kind in {n.kind for n in g} | {"Input", "Output"}:
        assert g.of_kind(kind) == [n for n in g if n.kind == kind]


def test_topological_order_puts_inputs_first_and_respects_wires() -> None:
    g, ids = chain("Input", "Linear", "ReLU", "Output")
    extra = g.add_node(g.make_node("Input", params={"shape": [4]}))
    add = g.add_node(g.make_node("Add"))
    g.connect(Edge(extra.id, "out", add.id, "in1"))
    g.connect(Edge(ids[2], "out", add.id, "in2"))
    order = g.topological_order()
    for e in g.edges:
        assert order.index(e.src) < order.index(e.dst)
