"""The Edit menu's node-editor commands: select all, duplicate, copy/cut/paste, arrange, snap, history.

Each change is one engine edit (a Compound where it takes several) pushed on the document's
undo stack, so it is one undo step. The clipboard carries a :mod:`netbuilder.files.fragment` as
JSON under its own MIME type and as plain text, so layers travel between windows and processes.
"""

from __future__ import annotations

import atexit
from typing import Any

from PySide6.QtCore import QMimeData, QObject
from PySide6.QtGui import QAction, QGuiApplication, QUndoStack
from PySide6.QtWidgets import QMenu, QWidget

from netbuilder.files.fragment import FragmentError, fragment_of, fragment_to_json, parse_fragment, paste_edits
from netbuilder.model.edits import Compound, Move, RemoveNode
from netbuilder.model.layout import NODE_HEIGHT, free_shift, layered_positions, node_height
from ui.canvas.items import GRID, HEADER, NODE_WIDTH
from ui.canvas.quick_add import QuickAdd, cursor_scene_pos
from ui.canvas.scene import CanvasScene
from ui.canvas.view import CanvasView
from ui.canvas.wire_gestures import dissolve
from ui.docks.undo_history import HistoryDock
from ui.document import Document
from ui.shortcuts import STABLE_NAME, CanvasAction

FRAGMENT_MIME = "application/x-netbuilder-fragment+json"
DUPLICATE_OFFSET = (40.0, 40.0)
ARRANGE_COLUMNS = 5  # the examples' layout: five columns, then the next band below
ARRANGE_TRIES_UP_TO = 300  # nodes: a graph this small is laid out to the view's shape where five columns do not fit
LOOP_ROOM = 50.0  # scene units a wire into the next band runs out beyond the band, each side


def _plural(n: int) -> str:
    return f"{n} layer" if n == 1 else f"{n} layers"


def paste_fragment(document: Document, fragment: dict[str, Any], at: tuple[float, float] | None = None,
                   offset: tuple[float, float] = DUPLICATE_OFFSET, verb: str = "Paste") -> list[str]:
    """Add a copy of ``fragment`` as one undo step; the new node ids (none when refused). Placed by ``offset``
    from the originals (not at the mouse), the copies move on to where they cover no layer: 40 units off, a
    pasted or duplicated layer covered most of its original, and its Fix badge the original's header."""
    graph = document.project.graph
    if at is None:
        try:
            boxes = [(float(n.get("position", [0, 0])[0]), float(n.get("position", [0, 0])[1]), NODE_HEIGHT)
                     for n in fragment.get("nodes", [])]
        except (AttributeError, TypeError, ValueError, IndexError):  # a damaged fragment: paste_edits says why
            boxes = []
        offset = free_shift(graph, boxes, *offset)
    edits, new_ids = paste_edits(graph, fragment, at=at, offset=offset, grid=GRID)
    if not new_ids or not document.push(Compound(f"{verb} {_plural(len(new_ids))}", edits)):
        return []
    return new_ids


def duplicate_nodes(document: Document, node_ids: list[str]) -> list[str]:
    """Copy these nodes and the wires among them, offset by DUPLICATE_OFFSET; the copies' ids."""
    fragment = fragment_of(document.project.graph, node_ids)
    return paste_fragment(document, fragment, verb="Duplicate") if node_ids else []


def arrange(document: Document, columns: int | None = ARRANGE_COLUMNS) -> bool:
    """Lay every node out by depth (netbuilder.model.layout), ``columns`` to a band, as one undo step; False when
    nothing moves."""
    graph = document.project.graph
    target = layered_positions(graph, columns)
    moves = [Move({n: pos}) for n, pos in target.items() if graph.node(n).position != pos]
    return bool(moves) and document.push(Compound(f"Arrange {_plural(len(graph))}", moves))


def copy_to_clipboard(scene: CanvasScene, verb: str = "copy") -> int:
    """Put the selected nodes (with their wires) on the system clipboard; how many."""
    ids = scene.selected_node_ids()
    if not ids:
        scene.message.emit(f"Select some layers to {verb} first")
        return 0
    text = fragment_to_json(fragment_of(scene.graph, ids))
    data = QMimeData()
    data.setData(FRAGMENT_MIME, text.encode("utf-8"))
    data.setText(text)
    QGuiApplication.clipboard().setMimeData(data)
    _hand_over_at_exit()
    scene.message.emit(f"Copied {_plural(len(ids))}")
    return len(ids)


def _hand_over_clipboard() -> None:
    """Swap our QMimeData on the clipboard for a plain-text copy that Qt made itself.

    With PySide6 (6.11 here), a QMimeData made in Python and still on the clipboard when the
    application is destroyed crashes the process on exit. The text holds the same JSON, which
    Paste reads, so the layers stay on the clipboard for this or another netbuilder.
    """
    if QGuiApplication.instance() is None:
        return
    clipboard = QGuiApplication.clipboard()
    data = clipboard.mimeData()
    if data is not None and data.hasFormat(FRAGMENT_MIME):
        clipboard.setText(data.text())


def _hand_over_at_exit() -> None:
    """Hand the clipboard over when the application quits (the app) and when Python exits (scripts, tests)."""
    if getattr(_hand_over_at_exit, "done", False):
        return
    _hand_over_at_exit.done = True  # type: ignore[attr-defined]
    QGuiApplication.instance().aboutToQuit.connect(_hand_over_clipboard)
    atexit.register(_hand_over_clipboard)


def clipboard_may_hold_layers() -> bool:
    """Whether the clipboard holds layers, or text that could be (a JSON object): Paste is offered only then."""
    data = QGuiApplication.clipboard().mimeData()
    return data is not None and (data.hasFormat(FRAGMENT_MIME) or data.text().lstrip().startswith("{"))


def clipboard_fragment() -> dict[str, Any]:
    """The fragment on the system clipboard; :class:`FragmentError` when it holds something else."""
    data = QGuiApplication.clipboard().mimeData()
    if data is not None and data.hasFormat(FRAGMENT_MIME):
        return parse_fragment(bytes(data.data(FRAGMENT_MIME).data()))
    text = data.text() if data is not None else ""
    if not text.strip():
        raise FragmentError("the clipboard is empty; select layers and copy them (Ctrl+C) first")
    if not text.lstrip().startswith("{"):
        raise FragmentError("the clipboard holds text, not layers; select layers and copy them (Ctrl+C) first")
    return parse_fragment(text)


class UndoStackAction(CanvasAction):
    """Undo or Redo (``text`` "&Undo" or "&Redo") of an undo stack, window-wide like the canvas's keys.

    Not QUndoStack.createUndoAction: that action's keys would edit the graph while a text field is
    being edited (Ctrl+Y is no text field's key on X11). :meth:`follow` moves it to another stack.
    """

    def __init__(self, text: str, stack: QUndoStack, parent: QWidget) -> None:
        super().__init__(text, parent)
        self._prefix = text
        self.setProperty(STABLE_NAME, text.replace("&", ""))  # the shortcut sheet's "Undo", whatever it would undo
        self._redo = text.replace("&", "") == "Redo"
        self._stack: QUndoStack | None = None
        self.triggered.connect(self._act)
        parent.addAction(self)
        self.follow(stack)

    def follow(self, stack: QUndoStack) -> None:
        if self._stack is not None:
            for signal, slot in self._signals(self._stack):
                signal.disconnect(slot)
        self._stack = stack
        for signal, slot in self._signals(stack):
            signal.connect(slot)
        self.setEnabled(stack.canRedo() if self._redo else stack.canUndo())
        self._retitle(stack.redoText() if self._redo else stack.undoText())

    def _signals(self, stack: QUndoStack) -> list:
        if self._redo:
            return [(stack.canRedoChanged, self.setEnabled), (stack.redoTextChanged, self._retitle)]
        return [(stack.canUndoChanged, self.setEnabled), (stack.undoTextChanged, self._retitle)]

    def _retitle(self, what: str) -> None:
        self.setText(f"{self._prefix} {what}" if what else self._prefix)

    def _act(self) -> None:
        if self._stack is not None:
            self._stack.redo() if self._redo else self._stack.undo()


class EditActions(QObject):
    """The node-editor actions on a canvas view and the document it shows.

    The actions are window-wide (:class:`ui.shortcuts.CanvasAction`): ``parent``, the widget they
    are added to, is the window, so their keys work wherever the focus is but in a text field.
    :meth:`set_document` follows a new document; ``history`` is a dock for the window to place.
    """

    def __init__(self, view: CanvasView, document: Document, parent: QWidget) -> None:
        super().__init__(parent)
        self.view = view
        self.document = document
        self._parent = parent
        self._pasted: tuple[str, int] = ("", 0)  # the last pasted text and how often, to stagger repeats
        self.history = HistoryDock(document)
        self.history.hide()
        self.quick_add = QuickAdd(view)
        self.select_all = self._action("Select &All", self._select_all)
        self.cut = self._action("Cu&t", self._cut)
        self.copy = self._action("&Copy", lambda: copy_to_clipboard(self.scene))
        self.paste = self._action("&Paste", self._paste)
        QGuiApplication.clipboard().dataChanged.connect(self._follow_clipboard)
        self._follow_clipboard()
        self.duplicate = self._action("Dupl&icate", self._duplicate)
        self.add_layer = self._action("Quick Add &Layer…\tTab", self.quick_add.open)
        self.arrange = self._action("Arra&nge Layers", self._arrange)
        self.dissolve = self._action("Dissol&ve", lambda: dissolve(self.scene, self.scene.selected_node_ids()))
        self.dissolve.setStatusTip("Delete the selected layer and keep its wire through (one input, one output)")
        self.snap = QAction("Snap to &Grid", self)
        self.snap.triggered.connect(self._set_snap)
        self.snap.setCheckable(True)
        self.snap.setChecked(True)

    def _action(self, text: str, slot) -> QAction:
        action = CanvasAction(text, self)
        action.triggered.connect(lambda _checked=False: slot())
        self._parent.addAction(action)  # its keys work in the whole window, also before the menu shows
        return action

    @property
    def scene(self) -> CanvasScene:
        return self.view.scene()

    def set_document(self, document: Document) -> None:
        """Act on ``document`` (shown in the view's new scene) from now on."""
        self.document = document
        self.history.set_document(document)
        self.scene.snap_to_grid = self.snap.isChecked()
        self.quick_add.follow(self.scene)

    def fill_edit_menu(self, menu: QMenu) -> None:
        """Add the actions after Undo/Redo/Delete."""
        for action in (self.select_all, None, self.cut, self.copy, self.paste, self.duplicate, self.dissolve, None,
                       self.add_layer, self.arrange, self.snap, None, self.history.toggleViewAction()):
            menu.addSeparator() if action is None else menu.addAction(action)

    def fill_view_menu(self, menu: QMenu) -> None:
        menu.addAction(self.snap)
        menu.addAction(self.history.toggleViewAction())

    # ---- slots -----------------------------------------------------------------------------
    def _select_all(self) -> None:
        for item in self.scene.items():
            if item.flags() & item.GraphicsItemFlag.ItemIsSelectable:
                item.setSelected(True)

    def _duplicate(self) -> None:
        ids = self.scene.selected_node_ids()
        if not ids:
            self.scene.message.emit("Select some layers to duplicate first")
            return
        self.scene.select_nodes(duplicate_nodes(self.document, ids) or ids)

    def _cut(self) -> None:
        ids = self.scene.selected_node_ids()
        if copy_to_clipboard(self.scene, "cut"):
            self.document.push(Compound(f"Cut {_plural(len(ids))}", [RemoveNode(n) for n in ids]))

    def _follow_clipboard(self) -> None:
        """Paste is enabled while the clipboard may hold layers (text copied from a table, say, is not)."""
        can = clipboard_may_hold_layers()
        self.paste.setEnabled(can)
        self.paste.setStatusTip("Paste the copied layers" if can else "Nothing to paste: select layers and copy them "
                                "(Ctrl+C) first")

    def _paste(self) -> None:
        try:
            fragment = clipboard_fragment()
        except FragmentError as exc:
            self.scene.message.emit(f"Cannot paste: {exc}")
            return
        at = cursor_scene_pos(self.view)
        text = fragment_to_json(fragment)
        repeats = self._pasted[1] + 1 if self._pasted[0] == text else 1
        self._pasted = (text, repeats)
        stagger = (DUPLICATE_OFFSET[0] * (repeats - 1), DUPLICATE_OFFSET[1] * (repeats - 1))  # repeats stay visible
        corner = None if at is None else (at.x() - NODE_WIDTH / 2 + stagger[0], at.y() - HEADER / 2 + stagger[1])
        offset = (DUPLICATE_OFFSET[0] * repeats, DUPLICATE_OFFSET[1] * repeats)
        new_ids = paste_fragment(self.document, fragment, at=corner, offset=offset)
        if new_ids:
            self.scene.select_nodes(new_ids)
            self.scene.message.emit(f"Pasted {_plural(len(new_ids))}")

    def columns_for_view(self) -> int | None:
        """How many columns a band of Arrange holds: ARRANGE_COLUMNS (the examples' layout) where the graph laid
        out so fits the view at a zoom where its text reads, else the count nearest it that does (a narrow or a
        short view), else the count that fits the view largest (a short canvas under a tall dock: Arrange then
        shows all of it, zoomed out further, see CanvasView.frame_arranged). A graph of more than
        ARRANGE_TRIES_UP_TO nodes gets ARRANGE_COLUMNS."""
        graph = self.document.project.graph
        if len(graph) > ARRANGE_TRIES_UP_TO:
            return ARRANGE_COLUMNS
        levels = len({x for x, _ in layered_positions(graph).values()})  # one band: a column per depth

        def fit(columns: int | None) -> float:
            positions = layered_positions(graph, columns)
            width = max(x for x, _ in positions.values()) + NODE_WIDTH + 2 * LOOP_ROOM  # wires loop round a band
            height = max(y + node_height(graph.node(n)) for n, (_, y) in positions.items())
            return self.view.fit_scale(width, height)

        least = self.view.least_readable_scale()
        fits: dict[int, float] = {}
        for columns in sorted(range(1, levels + 1), key=lambda c: (abs(c - ARRANGE_COLUMNS), -c)):
            fits[columns] = fit(columns)
            if fits[columns] >= least:
                return columns
        return max(fits, key=fits.__getitem__)  # the nearest ARRANGE_COLUMNS of the best, as tried first

    def _arrange(self) -> None:
        if not len(self.document.project.graph):
            self.scene.message.emit("Nothing to arrange: add some layers first")
        elif arrange(self.document, self.columns_for_view()):
            self.view.frame_arranged()
        else:  # framed all the same: arranged for a taller canvas, the graph may reach past this one
            self.view.frame_arranged()
            self.scene.message.emit("The layers are arranged already")

    def _set_snap(self, on: bool) -> None:
        self.scene.snap_to_grid = on


__all__ = ["FRAGMENT_MIME", "EditActions", "UndoStackAction", "arrange", "clipboard_fragment", "copy_to_clipboard",
           "duplicate_nodes", "paste_fragment"]
