"""Property: any run of edits through the GUI's command layer undoes and redoes to the very same file.

Edits go through ``Document.push`` (and the Edit menu's duplicate, paste, arrange and quick-add) with a
canvas scene following the graph; then the QUndoStack is walked down to the start and back
up, and the saved project text must match, byte for byte, what it was at every step.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netbuilder.examples import example_path
from netbuilder.files.fragment import fragment_of
from netbuilder.files.project import loads_project
from netbuilder.model.edits import AddNode, Compound, Connect, Disconnect, Move, RemoveNode, Rename, SetParams
from tests.engine.strategies import LAYER_KINDS, random_params
from ui.canvas.quick_add import insert_layer
from ui.canvas.scene import CanvasScene
from ui.document import Document
from ui.edit_menu import arrange, duplicate_nodes, paste_fragment

EXAMPLES = {name: example_path(name).read_text("utf-8") for name in ("mnist_cnn", "lstm_sequence")}
OPS = ("add", "remove", "connect", "disconnect", "params", "move", "rename", "duplicate", "paste", "arrange",
       "cut", "quick_add", "undo")
NAMES = ("a", "b", "conv1", "relu1", "fc2", "x_1", "class", "fresh")


def apply_op(op: str, scene: CanvasScene, data: st.DataObject) -> None:
    """One user action, drawn against the graph as it is now; refusals are part of the test."""
    doc = scene.document
    graph = doc.project.graph
    ids = [n.id for n in graph]
    coords = st.tuples(st.integers(-50, 150).map(lambda v: v * 10.0), st.integers(-50, 150).map(lambda v: v * 10.0))
    some_nodes = st.lists(st.sampled_from(ids), min_size=1, max_size=4, unique=True) if ids else st.nothing()
    if op == "add":
        doc.push(AddNode(graph.make_node(data.draw(st.sampled_from(LAYER_KINDS)), position=data.draw(coords))))
    elif op == "undo":
        doc.undo_stack.undo()
    elif not ids:
        return
    elif op == "remove":
        doc.push(RemoveNode(data.draw(st.sampled_from(ids))))
    elif op == "connect":  # mostly into a free input from a node upstream-able, sometimes anything
        free = [n for n in ids if any(p.name not in graph.in_edges(n) for p in graph.node(n).input_ports())]
        dst = graph.node(data.draw(st.sampled_from(free or ids)))
        below = graph.downstream([dst.id])
        src = graph.node(data.draw(st.sampled_from([n for n in ids if n not in below] or ids)))
        ports = [p.name for p in dst.input_ports() if p.name not in graph.in_edges(dst.id)] or [
            p.name for p in dst.input_ports()]
        if src.output_ports() and ports:
            doc.push(Connect(src.id, data.draw(st.sampled_from(src.output_ports())), dst.id,
                             data.draw(st.sampled_from(ports))))
    elif op == "disconnect" and graph.edges:  # often a wire that is not its source's last: undo must keep order
        inner = [e for e in graph.edges if graph.out_edges(e.src)[-1] != e]
        doc.push(Disconnect(data.draw(st.sampled_from(inner) if inner else st.sampled_from(graph.edges))))
    elif op == "params":
        node = graph.node(data.draw(st.sampled_from(ids)))
        values = random_params(node.kind, None, random.Random(data.draw(st.integers(0, 10**6))))
        keys = data.draw(st.lists(st.sampled_from(sorted(values)), unique=True)) if values else []
        if keys:
            doc.push(SetParams(node.id, {k: values[k] for k in keys}))
    elif op == "move":
        doc.push(Move({n: data.draw(coords) for n in data.draw(some_nodes)}))
    elif op == "rename":
        doc.push(Rename(data.draw(st.sampled_from(ids)), data.draw(st.sampled_from(NAMES))))
    elif op == "duplicate":
        duplicate_nodes(doc, data.draw(some_nodes))
    elif op == "paste":
        at = data.draw(st.none() | coords)
        paste_fragment(doc, fragment_of(graph, data.draw(some_nodes)), at=at)
    elif op == "arrange":
        arrange(doc)
    elif op == "quick_add":  # Tab after a selected node: a new layer wired from it, often a second wire out
        scene.select_nodes([data.draw(st.sampled_from(ids))])
        insert_layer(scene, data.draw(st.sampled_from(LAYER_KINDS)), None)
    elif op == "cut":
        chosen = data.draw(some_nodes)
        doc.push(Compound("Cut", [RemoveNode(n) for n in chosen]))


@pytest.mark.parametrize("example", sorted(EXAMPLES))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_undo_all_and_redo_all_restore_the_saved_text_exactly(qapp, example: str, data: st.DataObject) -> None:
    doc = Document(loads_project(EXAMPLES[example]))
    scene = CanvasScene(doc)  # the canvas follows every edit, undo and redo, as in the window
    stack = doc.undo_stack
    states = {0: doc.project.to_json()}
    try:
        for op in data.draw(st.lists(st.sampled_from(OPS), min_size=5, max_size=25), label="ops"):
            apply_op(op, scene, data)
            states[stack.index()] = doc.project.to_json()
        top = stack.index()
        for index in range(top, -1, -1):
            stack.setIndex(index)
            assert doc.project.to_json() == states[index], f"undo down to step {index} differs"
        for index in range(top + 1):
            stack.setIndex(index)
            assert doc.project.to_json() == states[index], f"redo up to step {index} differs"
        graph = doc.project.graph
        assert set(scene.node_items) == set(graph.nodes) and set(scene.wire_items) == set(graph.edges)
    finally:
        scene.close()
        scene.deleteLater()
        doc.deleteLater()
