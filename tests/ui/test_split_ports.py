"""A Split node on the canvas: one output port per part, one row each, named, and a wire drawn from
each port to where it goes (issue 12)."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication

from netbuilder import Project
from netbuilder.model.graph import Edge, Graph
from ui.canvas.items import HEADER, NODE_WIDTH, ROW
from ui.document import Document
from ui.main_window import MainWindow


def split_project() -> Project:
    """x [N, 6, 4] -> Split [2, 4] along dim 1 -> out1: exp -> y1; out2 -> y2."""
    g = Graph()
    x = g.add_node(g.make_node("Input", "x", {"shape": [6, 4]}, position=(0, 100)))
    sp = g.add_node(g.make_node("Split", "halves", {"sizes": [2, 4], "dim": 1}, position=(260, 100)))
    ex = g.add_node(g.make_node("Math", "expo", {"function": "exp"}, position=(520, 20)))
    y1 = g.add_node(g.make_node("Output", "y1", position=(780, 20)))
    y2 = g.add_node(g.make_node("Output", "y2", position=(780, 200)))
    for e in (Edge(x.id, "out", sp.id, "in"), Edge(sp.id, "out1", ex.id, "in"), Edge(ex.id, "out", y1.id, "in"),
              Edge(sp.id, "out2", y2.id, "in")):
        g.connect(e)
    return Project(g, name="split")


def test_split_shows_a_port_per_part_and_a_wire_from_each(qtbot, tmp_path: Path) -> None:
    win = MainWindow(Document(split_project()))
    try:
        win.resize(1200, 600)
        win.show()
        qtbot.waitExposed(win)
        scene = win.view.scene()
        graph = win.document.project.graph
        split = graph.by_name("halves")
        item = scene.node_items[split.id]
        ports = {name: item.ports[(name, False)] for name in ("out1", "out2")}
        assert set(k for k, is_input in item.ports if not is_input) == {"out1", "out2"}
        # One row each on the right edge, the node tall enough for both.
        assert [p.pos().x() for p in ports.values()] == [NODE_WIDTH, NODE_WIDTH]
        assert ports["out2"].pos().y() - ports["out1"].pos().y() == ROW
        assert item.height() >= HEADER + 2 * ROW
        # Each wire starts at its own port and is labelled with that part's shape.
        for port, shape in (("out1", "[N, 2, 4]"), ("out2", "[N, 4, 4]")):
            edge = next(e for e in graph.out_edges(split.id) if e.src_port == port)
            wire = scene.wire_items[edge]
            start = wire.path().pointAtPercent(0)
            assert (start - ports[port].scenePos()).manhattanLength() < 1.0, port
            assert wire.label.text() == shape
        shots = Path(os.environ.get("NETBUILDER_SHOTS", tmp_path))
        shots.mkdir(parents=True, exist_ok=True)
        win.view.frame_all()
        qtbot.wait(50)
        win.view.viewport().grab().save(str(shots / "split_ports.png"))
    finally:
        win.document.undo_stack.setClean()
        win.close()
        win.deleteLater()
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
