"""The node editor with a large graph: open, repaint when panning or zooming, one parameter edit.

Two sizes, each with its issue's targets:

* 1,000 nodes (issue 5): open <= 1 s; a pan or zoom repaint <= 16 ms even zoomed out with every
  node visible, and within 1.5 x the reference; one parameter edit updates shapes and labels (and
  repaints) in <= 20 ms.
* 10,000 nodes (issue 12: real transformer exports run to thousands of nodes): open <= 2 s; the
  zoomed-out repaint with every node visible within 1.2 x the reference; one parameter edit
  updates shapes and labels in <= 20 ms (what it adds to the repaint).

Reference measured in the same run, interleaved step by step with ours: the same view repainting
a bare QGraphicsScene holding Qt's own items for the picture zoomed out, one rectangle per node and
one line per wire, the least Qt itself can do for it. The edit is timed against the same view's
repaint without an edit; what the edit adds (shapes, labels) is held to 20 ms. The absolute 16 ms
and 20 ms budgets were set on a machine where the bare scene repaints in about 9 ms; they are judged
only where the bare scene itself fits in 16 ms (on a slower or loaded machine no code could meet
them, and the ratios decide). "Open" runs from reading the file to the window's first paint with
the events that start-up queued handled (the window answers the user); it has no Qt-only
equivalent, so it is held to the issue's figure alone. (For scale, from issue 5: NodeGraphQt took
4.8-6.0 s to build a 1,000-node chain and 40 ms per repaint with every node visible.)

Printed: median and range of every timing, ratios as the median (and range) of per-pair ratios,
PASS or FAIL for each target. Exits 1 when any target is missed.

    python benchmarks/bench_canvas_scale.py [--repeats 30] [--nodes 1000 10000]
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).parent))

from bench_shape_inference import make_graph
from PySide6.QtCore import QCoreApplication, QEvent, QLineF
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QGraphicsScene, QGraphicsView

from netbuilder.files.project import Project
from netbuilder.model.edits import SetParams
from netbuilder.model.layout import layered_positions
from ui.document import Document
from ui.main_window import MainWindow

TARGET_REPAINT_MS, TARGET_EDIT_MS = 16.0, 20.0


def targets_for(nodes: int) -> tuple[float, float]:
    """(open ms, zoomed-out repaint / the bare scene's) for a graph of ``nodes``: issue 5's up to 1,000
    nodes, issue 12's from 10,000 (in between, the stricter ratio and a budget in proportion)."""
    if nodes <= 1000:
        return 1000.0, 1.5
    return (2000.0 if nodes >= 10_000 else 1000.0 + nodes / 9), 1.2
COLUMNS = 25  # bands of 25 columns, so that zoomed to fit, every node is on screen


def write_project(path: Path, nodes: int) -> tuple[str, str]:
    graph, first_bn, last_edit = make_graph(nodes)
    for node_id, position in layered_positions(graph, max_columns=COLUMNS).items():
        graph.node(node_id).position = position
    project = Project(name=f"scale-{nodes}")
    project.graph = graph
    project.save(path)
    return first_bn, last_edit


def timed_ms(fn: Callable[[], None]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def interleaved(ours: Callable[[], None], reference: Callable[[], None], repeats: int) -> tuple[list, list]:
    """Times ``ours`` and ``reference`` alternately, so a change in the machine's load hits both alike."""
    a, b = [], []
    for _ in range(repeats):
        a.append(timed_ms(ours))
        b.append(timed_ms(reference))
    return a, b


def spread(ms: list[float]) -> str:
    return f"median {statistics.median(ms):7.2f} ms (range {min(ms):.2f}-{max(ms):.2f})"


def pair_ratios(ours: list[float], reference: list[float]) -> list[float]:
    return [a / b for a, b in zip(ours, reference, strict=True)]


def ratio_text(ratios: list[float]) -> str:
    return f"ratio median {statistics.median(ratios):.2f} (range {min(ratios):.2f}-{max(ratios):.2f})"


def repaint_after(view: QGraphicsView, move: Callable[[], None]) -> Callable[[], None]:
    def step() -> None:
        move()
        view.viewport().repaint()  # a synchronous paint of the whole viewport
    return step


def panner(view: QGraphicsView) -> Callable[[], None]:
    flip = [1]

    def pan() -> None:
        flip[0] = -flip[0]
        view.horizontalScrollBar().setValue(view.horizontalScrollBar().value() + 15 * flip[0])
    return repaint_after(view, pan)


def zoomer(view: QGraphicsView) -> Callable[[], None]:
    flip = [1]

    def zoom() -> None:
        flip[0] = -flip[0]
        view.scale(1.05 ** flip[0], 1.05 ** flip[0])
    return repaint_after(view, zoom)


def bare_scene_view(window: MainWindow) -> QGraphicsView:
    scene = QGraphicsScene()
    for item in window.scene.node_items.values():
        scene.addRect(item.sceneBoundingRect())
    for wire in window.scene.wire_items.values():
        path = wire.path()
        scene.addLine(QLineF(path.elementAt(0).x, path.elementAt(0).y, path.currentPosition().x(),
                             path.currentPosition().y()))
    view = QGraphicsView(scene)
    scene.setParent(view)  # kept alive with the view (a view does not own its scene)
    view.setRenderHints(window.view.renderHints())
    view.resize(window.view.size())
    view.show()
    QTest.qWaitForWindowExposed(view)
    return view


def open_window(path: Path) -> tuple[MainWindow, float]:
    start = time.perf_counter()
    window = MainWindow(Document.open(path))
    window.resize(1400, 860)
    window.show()
    window.view.frame_readable()
    window.view.viewport().repaint()
    QApplication.processEvents()  # what start-up queued (the docks' first fill, the labels' placing)
    return window, (time.perf_counter() - start) * 1000


def close_window(window: MainWindow) -> None:
    """Close and delete ``window`` and collect what it held, as the app's event loop would: a
    ``deleteLater`` outside ``exec`` waits for DeferredDelete events that ``processEvents`` never sends,
    so without this each open after the first paid to walk the earlier windows' objects in every
    garbage collection (the 3rd of 3 opens at 10,000 nodes ran with 20,000 dead node items alive)."""
    window.close()
    window.deleteLater()
    QApplication.processEvents()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--opens", type=int, default=3, help="how many times the window is opened on the graph")
    parser.add_argument("--nodes", type=int, nargs="+", default=[1000, 10_000], help="graph sizes (200 or more)")
    parser.add_argument("--target-scale", type=float, default=1.0,
                        help="multiplies every target (for checking the gate itself; 1 is the real targets)")
    args = parser.parse_args()
    # The window's layout comes from settings: a private, empty folder, so a layout left by a user's session
    # (a Summary dock in front, say) does not change what is measured.
    from PySide6.QtCore import QSettings

    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tempfile.mkdtemp(prefix="bench-settings-"))
    app = QApplication.instance() or QApplication([])
    failed = [n for n in args.nodes if not measure(app, n, args)]
    if failed:
        print(f"missed targets at {', '.join(f'{n:,}' for n in failed)} nodes")
    return 1 if failed else 0


def measure(app: QApplication, nodes: int, args: argparse.Namespace) -> bool:
    """One graph size: every figure printed; True when every target is met."""
    scale_target = args.target_scale
    target_open_ms, target_ratio = targets_for(nodes)
    print(f"== {nodes:,} nodes (targets: open <= {target_open_ms:g} ms, zoomed-out repaint <= {target_ratio:g} x "
          f"the bare scene, an edit adds <= {TARGET_EDIT_MS:g} ms)")
    gc.unfreeze()
    gc.collect()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scale.nbproj"
        _, last_edit = write_project(path, nodes)
        open_ms = []
        for _ in range(args.opens - 1):  # the last one opened stays for the rest of the run
            window, ms = open_window(path)
            open_ms.append(ms)
            window.document.undo_stack.setClean()
            close_window(window)
        window, ms = open_window(path)
        open_ms.append(ms)
    app.processEvents()
    gc.collect()
    start = time.perf_counter()
    gc.collect()
    gc_before = time.perf_counter() - start
    gc.freeze()  # as the app does once it is up (ui/startup.py)
    start = time.perf_counter()
    gc.collect()
    gc_after = time.perf_counter() - start
    view = window.view
    bare = bare_scene_view(window)
    view.fit_everything()  # zoomed out until every node is on screen
    bare.setTransform(view.transform())
    bare.centerOn(view.mapToScene(view.viewport().rect().center()))
    app.processEvents()
    on_screen = view.mapToScene(view.viewport().rect()).boundingRect()
    visible = sum(1 for i in window.scene.node_items.values() if on_screen.contains(i.sceneBoundingRect()))
    zoom_scale = view.transform().m11()
    pan_out = interleaved(panner(view), panner(bare), args.repeats)
    zoom_out = interleaved(zoomer(view), zoomer(bare), args.repeats)
    view.resetTransform()
    view.centerOn(window.scene.node_items[last_edit])
    bare.resetTransform()
    bare.centerOn(window.scene.node_items[last_edit].sceneBoundingRect().center())
    app.processEvents()
    pan_in = interleaved(panner(view), panner(bare), args.repeats)
    zoom_in = interleaved(zoomer(view), zoomer(bare), args.repeats)

    doc = window.document
    values = iter([32, 48] * (2 * args.repeats))

    def edit(node_id: str, param: str) -> Callable[[], None]:
        def step() -> None:
            doc.push(SetParams(node_id, {param: next(values)}))
            view.viewport().repaint()
        return step

    def repaint_only() -> None:
        view.viewport().repaint()

    view.fit_everything()
    app.processEvents()
    edit_late = interleaved(edit(last_edit, "out_features"), repaint_only, args.repeats)
    first_conv = next(n.id for n in doc.project.graph if n.kind == "Conv2d")
    edit_early = interleaved(edit(first_conv, "out_channels"), repaint_only, args.repeats)

    print(f"graph: {len(doc.project.graph)} nodes, {len(doc.project.graph.edges)} wires; {args.repeats} interleaved "
          f"repeats (netbuilder, reference, netbuilder, ...)")
    print(f"open (load, check, build the scene, first paint), {args.opens} times: {spread(open_ms)}")
    print(f"zoomed out to fit (scale {zoom_scale:.3f}, {visible} of {nodes} nodes fully on screen):")
    for name, (ours, ref) in (("pan ", pan_out), ("zoom", zoom_out)):
        print(f"  {name} repaint {spread(ours)}; bare scene {spread(ref)}; {ratio_text(pair_ratios(ours, ref))}")
    print("at 100 % zoom:")
    for name, (ours, ref) in (("pan ", pan_in), ("zoom", zoom_in)):
        print(f"  {name} repaint {spread(ours)}; bare scene {spread(ref)}; {ratio_text(pair_ratios(ours, ref))}")
    print("parameter edit + repaint, zoomed out, against the same repaint without an edit:")
    for name, (ours, ref) in (("near the end", edit_late), ("at the start (re-infers the whole graph)", edit_early)):
        print(f"  {name}: {spread(ours)}; repaint alone {spread(ref)}; {ratio_text(pair_ratios(ours, ref))}")
    print(f"a full garbage collection: {gc_before * 1000:.1f} ms before gc.freeze(), {gc_after * 1000:.1f} ms after "
          f"(torch {'loaded' if 'torch' in sys.modules else 'not loaded'})")

    med = statistics.median
    checks = [
        ("open", med(open_ms), target_open_ms * scale_target, "ms"),
        ("pan repaint / bare scene, zoomed out", med(pair_ratios(*pan_out)), target_ratio * scale_target, "x"),
        ("zoom repaint / bare scene, zoomed out", med(pair_ratios(*zoom_out)), target_ratio * scale_target, "x"),
        ("edit at the start, what it adds to the repaint", med([a - b for a, b in zip(*edit_early, strict=True)]),
         TARGET_EDIT_MS * scale_target, "ms"),
    ]
    bare_ms = med(pan_out[1] + zoom_out[1])
    if bare_ms <= TARGET_REPAINT_MS:  # this machine is fast enough for the absolute budgets to mean something
        checks += [("pan repaint, zoomed out", med(pan_out[0]), TARGET_REPAINT_MS * scale_target, "ms"),
                   ("zoom repaint, zoomed out", med(zoom_out[0]), TARGET_REPAINT_MS * scale_target, "ms"),
                   ("edit at the start + repaint", med(edit_early[0]), TARGET_EDIT_MS * scale_target, "ms")]
    else:
        print(f"not judged: the 16 ms repaint and 20 ms edit + repaint budgets (the bare scene itself takes "
              f"{bare_ms:.1f} ms here; the ratios above decide)")
    for name, value, target, unit in checks:
        print(f"{'PASS' if value <= target else 'FAIL'}: {name} {value:.2f} {unit} (target <= {target:g} {unit})")
    failed = [name for name, value, target, _ in checks if value > target]
    if failed:
        print(f"missed {len(failed)} of {len(checks)} targets; a loaded machine moves the ms figures but not the "
              "ratios: rerun on a quiet one before reading a miss of ms alone as a regression")
    doc.undo_stack.setClean()
    bare.close()
    bare.deleteLater()
    close_window(window)
    return not failed


if __name__ == "__main__":
    sys.exit(main())
