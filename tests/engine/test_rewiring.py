"""The rewiring edits the context menus and the quick fixes share: each is one Compound, lands its new
layer clear of the others, and reverts to exactly the graph it started from."""

from __future__ import annotations

import json

import pytest

from netbuilder import Edge, Graph, Project
from netbuilder.analysis.shape_inference import ShapeInference, infer_shapes
from netbuilder.analysis.wiring import kinds_after, kinds_before
from netbuilder.errors import EditRefused
from netbuilder.model.layout import is_free, node_height
from netbuilder.model.rewiring import (
    disconnect_all,
    dissolve,
    free_position,
    insert_after,
    insert_before,
    insert_on_edge,
    set_as_output,
)


def chain() -> Graph:
    """x -> fc -> relu -> (y, and also head) in a row 300 apart."""
    g = Graph()
    x = g.add_node(g.make_node("Input", "x", {"shape": [4]}, (0, 0)))
    fc = g.add_node(g.make_node("Linear", "fc", {"out_features": 3}, (300, 0)))
    relu = g.add_node(g.make_node("ReLU", "relu", {}, (600, 0)))
    y = g.add_node(g.make_node("Output", "y", position=(900, 0)))
    head = g.add_node(g.make_node("Linear", "head", {"out_features": 2}, (900, 130)))
    for a, b in ((x, fc), (fc, relu), (relu, y), (relu, head)):
        g.connect(Edge(a.id, "out", b.id, "in"))
    return g


def text(g: Graph) -> str:
    return json.dumps(Project(g).to_dict(), sort_keys=True)


def applied(g: Graph, edit) -> str:
    before = text(g)
    edit.apply(g)
    after = text(g)
    edit.revert(g)
    assert text(g) == before
    edit.apply(g)
    assert text(g) == after
    return before


def clear_of_others(g: Graph, node_id: str) -> bool:
    node = g.node(node_id)
    return is_free(g, *node.position, node_height(node), ignore=frozenset({node_id}))


def test_insert_on_a_wire_goes_between_clear_of_both() -> None:
    g = chain()
    fc, relu = g.by_name("fc"), g.by_name("relu")
    edit, new = insert_on_edge(g, Edge(fc.id, "out", relu.id, "in"), "Dropout")
    applied(g, edit)
    assert g.in_edges(new.id)["in"].src == fc.id and g.in_edges(relu.id)["in"].src == new.id
    assert fc.position[0] < new.position[0] < relu.position[0] and clear_of_others(g, new.id)
    assert not infer_shapes(g).errors


def test_insert_after_moves_every_wire_of_the_output_to_the_new_layer() -> None:
    g = chain()
    relu = g.by_name("relu")
    edit, new = insert_after(g, relu.id, "Dropout")
    applied(g, edit)
    assert g.out_edges(relu.id) == [Edge(relu.id, "out", new.id, "in")]
    assert {e.dst for e in g.out_edges(new.id)} == {g.by_name("y").id, g.by_name("head").id}
    assert clear_of_others(g, new.id)


def test_insert_before_an_unwired_input_adds_a_layer_to_its_left() -> None:
    g = Graph()
    fc = g.add_node(g.make_node("Linear", "fc", {}, (600, 0)))
    edit, new = insert_before(g, fc.id, "ReLU")
    applied(g, edit)
    assert g.in_edges(fc.id)["in"].src == new.id and new.position == (300.0, 0.0)


def test_dissolve_keeps_the_wires_through() -> None:
    g = chain()
    fc, relu = g.by_name("fc"), g.by_name("relu")
    applied(g, dissolve(g, relu.id))
    assert g.by_name("relu") is None
    assert {e.dst for e in g.out_edges(fc.id)} == {g.by_name("y").id, g.by_name("head").id}


def test_disconnect_all_and_nothing_to_disconnect() -> None:
    g = chain()
    relu = g.by_name("relu")
    applied(g, disconnect_all(g, [relu.id]))
    assert not g.in_edges(relu.id) and not g.out_edges(relu.id) and len(g.edges) == 1
    assert disconnect_all(g, [relu.id]) is None


def test_set_as_output_moves_the_wire_or_adds_an_output() -> None:
    g = chain()
    fc, relu, y = g.by_name("fc"), g.by_name("relu"), g.by_name("y")
    edit, output = set_as_output(g, fc.id)
    applied(g, edit)  # the move undone with the wire
    assert output == y.id and g.in_edges(y.id)["in"].src == fc.id
    # The Output comes beside fc: right of it, off the row where relu sits (its wire ran under relu,
    # as if out of relu's port), clear of every layer.
    assert y.position == (fc.position[0] + 300, fc.position[1] + 130) and clear_of_others(g, y.id)
    with pytest.raises(EditRefused, match="is the output already"):
        set_as_output(g, fc.id)
    edit, _output = set_as_output(g, relu.id)
    applied(g, edit)
    assert y.position == (relu.position[0] + 300, relu.position[1])  # its row is free: on it
    bare = Graph()
    x = bare.add_node(bare.make_node("Input", "x", {"shape": [4]}, (0, 0)))
    edit, output = set_as_output(bare, x.id)
    applied(bare, edit)
    assert bare.node(output).kind == "Output" and bare.node(output).position == (300.0, 0.0)


def test_a_free_position_is_the_nearest_spot_clear_of_every_box() -> None:
    g = chain()
    assert free_position(g, 1500, 0) == (1500.0, 0.0)  # free: taken as it is
    x, y = free_position(g, 900, 0)  # y sits there and head below it
    assert is_free(g, x, y)
    # Near, not rows below: a layer inserted in a full row once landed off screen.
    assert abs(x - 900) <= 600 and abs(y) <= 400




def test_the_layers_listed_before_or_after_a_layer_fit_there_and_insert_without_a_problem() -> None:
    g = chain()
    inference = ShapeInference(g)
    fc, relu, x = g.by_name("fc"), g.by_name("relu"), g.by_name("x")
    before, takes = kinds_before(g, inference, fc.id)
    assert str(takes) == "[N, 4]"
    assert {"ReLU", "Linear", "Dropout"} <= before
    assert not {"Input", "Output", "Add", "Conv2d", "Split"} & before  # no input, no output, two in, wrong shape
    after, takes = kinds_after(g, inference, relu.id)  # relu feeds y and head: the new layer feeds both
    assert str(takes) == "[N, 3]" and "Output" not in after and "Linear" in after
    already = infer_shapes(g).problems  # head leads to no Output: a warning
    for kind in sorted(before):
        edit, _node = insert_before(g, fc.id, kind)
        applied(g, edit)
        assert infer_shapes(g).problems == already, kind
        edit.revert(g)
    # Nothing wired in: anything that puts something out may feed it (an Input, first of all).
    g.disconnect(g.in_edges(fc.id)["in"])
    inference = ShapeInference(g)
    unwired, takes = kinds_before(g, inference, fc.id)
    assert takes is None and "Input" in unwired and "Output" not in unwired
    with pytest.raises(EditRefused, match="has no input"):
        kinds_before(g, inference, x.id)
