"""Fragments: copy a selection to JSON, paste it back with fresh names, refuse garbage."""

from __future__ import annotations

import json

import pytest

from netbuilder import load_project
from netbuilder.examples import example_path
from netbuilder.files.fragment import FragmentError, fragment_of, fragment_to_json, parse_fragment, paste_edits
from netbuilder.model.edits import Compound
from netbuilder.model.graph import Graph


def cnn() -> Graph:
    return load_project(example_path("mnist_cnn")).graph


def ids_of(graph: Graph, *names: str) -> list[str]:
    return [graph.by_name(n).id for n in names]


def test_fragment_holds_the_nodes_and_only_the_wires_among_them() -> None:
    g = cnn()
    frag = fragment_of(g, ids_of(g, "conv1", "relu1", "pool2"))
    assert [n["name"] for n in frag["nodes"]] == ["conv1", "relu1", "pool2"]
    assert [(e["src"], e["dst"]) for e in frag["edges"]] == [tuple(ids_of(g, "conv1", "relu1"))]
    assert parse_fragment(fragment_to_json(frag)) == frag


def test_paste_into_the_same_graph_gets_fresh_names_ids_and_an_offset() -> None:
    g = cnn()
    conv1, relu1 = (g.by_name(n) for n in ("conv1", "relu1"))
    edits, new = paste_edits(g, fragment_of(g, [conv1.id, relu1.id]))
    Compound("Paste", edits).apply(g)
    a, b = (g.node(i) for i in new)
    assert (a.kind, b.kind) == ("Conv2d", "ReLU") and a.params == conv1.params
    assert a.name not in ("conv1", "relu1") and b.name not in ("conv1", "relu1")
    assert a.name.startswith("conv") and b.name.startswith("relu")
    assert a.position == (conv1.position[0] + 40, conv1.position[1] + 40)
    assert [e for e in g.edges if e.src == a.id] == [(a.id, "out", b.id, "in")]
    assert len(g) == 16


def test_paste_twice_never_clashes_and_keeps_free_names() -> None:
    g = cnn()
    frag = fragment_of(g, ids_of(g, "fc1", "fc2"))
    for _ in range(2):
        Compound("Paste", paste_edits(g, frag)[0]).apply(g)
    assert len({n.name for n in g}) == len(g) == 18
    other = Graph()
    Compound("Paste", paste_edits(other, frag)[0]).apply(other)
    assert [n.name for n in other] == ["fc1", "fc2"]


def test_paste_at_a_point_centres_the_fragment_on_the_grid() -> None:
    g = cnn()
    frag = fragment_of(g, ids_of(g, "conv1", "relu1"))  # at (300, 0) and (600, 0)
    edits, new = paste_edits(g, frag, at=(1003.0, 507.0))
    Compound("Paste", edits).apply(g)
    assert [g.node(i).position for i in new] == [(850.0, 510.0), (1150.0, 510.0)]


def test_paste_then_revert_restores_the_graph_exactly() -> None:
    g = cnn()
    before = json.dumps(fragment_of(g, [n.id for n in g]))
    edit = Compound("Paste", paste_edits(g, fragment_of(g, [n.id for n in g]))[0])
    edit.apply(g)
    assert len(g) == 28
    edit.revert(g)
    assert json.dumps(fragment_of(g, [n.id for n in g])) == before


@pytest.mark.parametrize("text, message", [
    ("", "empty"),
    ("hello world", "not valid JSON"),
    ("[1, 2]", "not netbuilder layers"),
    ('{"format": "netbuilder-project"}', "not netbuilder layers"),
    ('{"format": "netbuilder-fragment", "version": 9, "nodes": []}', "version"),
    ('{"format": "netbuilder-fragment", "version": 1, "nodes": {}}', "must be lists"),
    ('{"format": "netbuilder-fragment", "version": 1, "nodes": [{"id": "a", "kind": "Nope", "name": "x"}]}',
     "unknown kind"),
    ('{"format": "netbuilder-fragment", "version": 1, "nodes": '
     '[{"id": "a", "kind": "Linear", "name": "x", "params": {"out_features": -3}}]}', "out_features"),
    ('{"format": "netbuilder-fragment", "version": 1, "nodes": '
     '[{"id": "a", "kind": "ReLU", "name": "x", "position": [1, "y"]}]}', "position"),
    ('{"format": "netbuilder-fragment", "version": 1, "nodes": [{"id": "a", "kind": "ReLU", "name": "x"}], '
     '"edges": [{"src": "a", "src_port": "out", "dst": "b", "dst_port": "in"}]}', "not there"),
    ('{"format": "netbuilder-fragment", "version": 1, "nodes": '
     '[{"id": "a", "kind": "ReLU", "name": "x", "position": [1.7e308, 0]}]}', "within"),
])
def test_garbage_is_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(FragmentError, match=message):
        parse_fragment(text)


def test_a_bad_port_in_a_fragment_is_refused_whole() -> None:
    g = cnn()
    frag = fragment_of(g, ids_of(g, "conv1", "relu1"))
    frag["edges"][0]["dst_port"] = "nope"
    before = len(g)
    with pytest.raises(Exception, match="no input port 'nope'"):
        Compound("Paste", paste_edits(g, frag)[0]).apply(g)
    assert len(g) == before


@pytest.mark.parametrize("name, expected", [("1a", "layer_1a1"), ("é", "layer1"), ("conv 2", "conv_1"),
                                            ("self", "self1"), ("x" * 3, "xxx")])
def test_pasted_names_that_cannot_name_a_layer_get_a_valid_one(name: str, expected: str) -> None:
    """Names typed into a fragment by hand: a digit first, non-ASCII letters, spaces, reserved words."""
    g = Graph()
    frag = {"format": "netbuilder-fragment", "version": 1, "nodes": [{"id": "a", "kind": "ReLU", "name": name}]}
    edits, ids = paste_edits(g, frag)
    Compound("paste", edits).apply(g)
    assert g.node(ids[0]).name == expected


def test_the_unique_name_of_an_odd_base_is_valid() -> None:
    g = Graph()
    assert g.unique_name("1x") == "layer_1x1" and g.unique_name("µ") == "layer1"
