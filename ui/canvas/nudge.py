"""Arrow keys nudge the selected layers: one grid step, ten with Shift, one undo step per press.

The actions' keys work only while the canvas has the keyboard focus (a widget shortcut on the view),
so arrows keep moving through lists and text fields elsewhere; with no layer selected the actions
are disabled and the arrows scroll the view as before. (The undo stack's commands have no merge id,
so each press is its own step.) The view follows a selection nudged off screen.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QWidget

from netbuilder.model.edits import Move
from netbuilder.model.layout import GRID
from ui.canvas.scene import CanvasScene
from ui.canvas.view import CanvasView
from ui.canvas.wire_gestures import reveal_rect
from ui.shortcuts import CanvasAction

FAR = 10  # Shift+arrow moves this many grid steps
DIRECTIONS = {"Left": (-1, 0), "Right": (1, 0), "Up": (0, -1), "Down": (0, 1)}


def nudge(scene: CanvasScene, dx: float, dy: float) -> bool:
    """Move the selected nodes by (dx, dy) as one undo step; False when none is selected."""
    ids = scene.selected_node_ids()
    if not ids:
        return False
    graph = scene.graph
    moves = {}
    for node_id in ids:
        x, y = graph.node(node_id).position
        moves[node_id] = (x + dx, y + dy)
    edit = Move(moves)
    edit.text = "Nudge" if len(ids) == 1 else f"Nudge {len(ids)} layers"
    return scene.document.push(edit)


class NudgeActions(QObject):
    """Edit ▸ Nudge: Left/Right/Up/Down (arrow keys) and the same ×10 (Shift+arrow) on ``view``'s selection."""

    def __init__(self, view: CanvasView, parent: QWidget) -> None:
        super().__init__(parent)
        self.view = view
        self.actions: list[QAction] = []
        for far in (False, True):
            for name, (dx, dy) in DIRECTIONS.items():
                step = GRID * (FAR if far else 1)
                action = CanvasAction(f"Nudge {name}{' ×10' if far else ''}", self)
                action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)  # the canvas's keys only
                action.triggered.connect(lambda _checked=False, x=dx * step, y=dy * step: self.nudge(x, y))
                view.addAction(action)
                self.actions.append(action)
        view.scene_replaced.connect(self._follow)
        self._follow(view.scene())

    @property
    def scene(self) -> CanvasScene:
        return self.view.scene()

    def nudge(self, dx: float, dy: float) -> None:
        """Nudge the selection, the view following it when it leaves the screen (Shift+Down near the edge)."""
        if not nudge(self.scene, dx, dy):
            return
        items = [self.scene.node_items[n] for n in self.scene.selected_node_ids() if n in self.scene.node_items]
        if items:
            bounds = items[0].sceneBoundingRect()
            for item in items[1:]:
                bounds |= item.sceneBoundingRect()
            reveal_rect(self.scene, bounds, 20)

    def _follow(self, scene: CanvasScene) -> None:
        scene.selectionChanged.connect(self._selection_changed)
        self._selection_changed()

    def _selection_changed(self) -> None:
        scene = self.view.scene()
        enabled = isinstance(scene, CanvasScene) and bool(scene.selected_node_ids())  # not while it is deleted
        for action in self.actions:
            action.setEnabled(enabled)

    def fill_menu(self, menu: QMenu) -> QMenu:
        """Add the Nudge submenu to ``menu``."""
        sub = menu.addMenu("N&udge")
        for k, action in enumerate(self.actions):
            if k == len(DIRECTIONS):
                sub.addSeparator()
            sub.addAction(action)
        return sub
