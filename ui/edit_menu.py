"""The Edit menu's node-editor commands: select all, duplicate, copy/cut/paste, arrange, snap, history.

Each change is one engine edit (a Compound where it takes several) pushed on the document's
undo stack, so it is one undo step. The clipboard carries a :mod:`netbuilder.files.fragment` as
JSON under its own MIME type and as plain text, so layers travel between windows and processes.
"""

from __future__ import annotations

import atexit
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QMimeData, QObject, Qt
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QMenu

from netbuilder.files.fragment import FragmentError, fragment_of, fragment_to_json, parse_fragment, paste_edits
from netbuilder.model.edits import Compound, Move, RemoveNode
from netbuilder.model.layout import layered_positions
from ui.canvas.items import GRID, HEADER, NODE_WIDTH
from ui.canvas.quick_add import QuickAdd, cursor_scene_pos
from ui.canvas.scene import CanvasScene
from ui.docks.undo_history import HistoryDock
from ui.document import Document

if TYPE_CHECKING:
    from ui.main_window import MainWindow

FRAGMENT_MIME = "application/x-netbuilder-fragment+json"
DUPLICATE_OFFSET = (40.0, 40.0)
ARRANGE_COLUMNS = 5  # the examples' layout: five columns, then the next band below


def _plural(n: int) -> str:
    return f"{n} layer" if n == 1 else f"{n} layers"


def paste_fragment(document: Document, fragment: dict[str, Any], at: tuple[float, float] | None = None,
                   offset: tuple[float, float] = DUPLICATE_OFFSET, verb: str = "Paste") -> list[str]:
    """Add a copy of ``fragment`` as one undo step; the new node ids (none when refused)."""
    edits, new_ids = paste_edits(document.project.graph, fragment, at=at, offset=offset, grid=GRID)
    if not new_ids or not document.push(Compound(f"{verb} {_plural(len(new_ids))}", edits)):
        return []
    return new_ids


def duplicate_nodes(document: Document, node_ids: list[str]) -> list[str]:
    """Copy these nodes and the wires among them, offset by DUPLICATE_OFFSET; the copies' ids."""
    fragment = fragment_of(document.project.graph, node_ids)
    return paste_fragment(document, fragment, verb="Duplicate") if node_ids else []


def arrange(document: Document) -> bool:
    """Lay every node out by depth (netbuilder.model.layout) as one undo step; False when nothing moves."""
    graph = document.project.graph
    target = layered_positions(graph, ARRANGE_COLUMNS)
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


def clipboard_fragment() -> dict[str, Any]:
    """The fragment on the system clipboard; :class:`FragmentError` when it holds something else."""
    data = QGuiApplication.clipboard().mimeData()
    if data is not None and data.hasFormat(FRAGMENT_MIME):
        return parse_fragment(bytes(data.data(FRAGMENT_MIME).data()))
    text = data.text() if data is not None else ""
    if not text.strip():
        raise FragmentError("the clipboard is empty")
    return parse_fragment(text)


class EditActions(QObject):
    """The node-editor actions of a :class:`MainWindow`; they act on whatever document it shows.

    :meth:`fill_edit_menu` runs each time the window rebuilds its Edit menu (a new document);
    :meth:`fill_view_menu` once.
    """

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self._pasted: tuple[str, int] = ("", 0)  # the last pasted text and how often, to stagger repeats
        self.history = HistoryDock(window.document)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.history)
        self.history.hide()
        self.quick_add = QuickAdd(window.view)
        self.select_all = self._action("Select &All", QKeySequence.StandardKey.SelectAll, self._select_all)
        self.cut = self._action("Cu&t", QKeySequence.StandardKey.Cut, self._cut)
        self.copy = self._action("&Copy", QKeySequence.StandardKey.Copy, lambda: copy_to_clipboard(self.scene))
        self.paste = self._action("&Paste", QKeySequence.StandardKey.Paste, self._paste)
        self.duplicate = self._action("Dupl&icate", QKeySequence("Ctrl+D"), self._duplicate)
        self.add_layer = self._action("Quick Add &Layer…\tTab", None, self.quick_add.open)
        self.arrange = self._action("Arra&nge Layers", QKeySequence("Ctrl+L"), self._arrange)
        self.snap = self._action("Snap to &Grid", None, self._set_snap)
        self.snap.setCheckable(True)
        self.snap.setChecked(True)

    def _action(self, text: str, key: QKeySequence | QKeySequence.StandardKey | None, slot) -> QAction:
        """A menu action whose keys work while the canvas has the focus: Del or Ctrl+A typed in
        the palette or the inspector edit the text there, not the graph."""
        action = QAction(text, self)
        if key is not None:  # every binding of a standard key (Redo: Ctrl+Shift+Z and Ctrl+Y)
            action.setShortcuts(key) if isinstance(key, QKeySequence.StandardKey) else action.setShortcut(key)
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.window.view.addAction(action)
        action.triggered.connect(slot)
        return action

    @property
    def scene(self) -> CanvasScene:
        return self.window.scene

    @property
    def document(self) -> Document:
        return self.window.document

    def fill_edit_menu(self, menu: QMenu) -> None:
        """Add the actions after Undo/Redo/Delete, and follow the window's (new) document."""
        self.history.set_document(self.document)
        self.scene.snap_to_grid = self.snap.isChecked()
        for action in (self.select_all, None, self.cut, self.copy, self.paste, self.duplicate, None,
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

    def _paste(self) -> None:
        try:
            fragment = clipboard_fragment()
        except FragmentError as exc:
            self.scene.message.emit(f"Cannot paste: {exc}")
            return
        at = cursor_scene_pos(self.window.view)
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

    def _arrange(self) -> None:
        if not len(self.document.project.graph):
            self.scene.message.emit("Nothing to arrange: add some layers first")
        elif arrange(self.document):
            self.window.view.frame_all()
        else:
            self.scene.message.emit("The layers are arranged already")

    def _set_snap(self, on: bool) -> None:
        self.scene.snap_to_grid = on


__all__ = ["FRAGMENT_MIME", "EditActions", "arrange", "clipboard_fragment", "copy_to_clipboard", "duplicate_nodes",
           "paste_fragment"]
