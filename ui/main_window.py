"""The main window: canvas in the middle, layers on the left, inspector on the right, problems below."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QFileDialog, QMainWindow, QMessageBox

from netbuilder.errors import ProjectError
from netbuilder.examples import EXAMPLE_NAMES, example_path
from netbuilder.files.project import Project, load_project
from ui import settings
from ui.canvas.items import NodeItem
from ui.canvas.scene import CanvasScene
from ui.canvas.view import CanvasView
from ui.docks.inspector import InspectorDock
from ui.docks.palette import PaletteDock
from ui.docks.problems import ProblemsDock
from ui.document import Document
from ui.edit_menu import EditActions
from ui.files.autosave import Autosaver
from ui.files.file_exchange import build_export_menu, import_onnx_dialog
from ui.files.recent_menu import RecentFilesMenu
from ui.theme import apply_theme, install_theme_menu

FILE_FILTER = "netbuilder projects (*.nbproj)"


class MainWindow(QMainWindow):
    def __init__(self, document: Document | None = None) -> None:
        super().__init__()
        apply_theme(settings.theme())
        self.document = document or Document()
        self.document.setParent(self)  # deleted with the window, in Qt's order, not by the garbage collector
        self.scene = CanvasScene(self.document, self)
        self.view = CanvasView(self.scene)
        self.setCentralWidget(self.view)
        self.palette = PaletteDock()
        self.inspector = InspectorDock(self.document)
        self.problems = ProblemsDock(self.document)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.palette)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.inspector)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.problems)
        self.palette.add_requested.connect(self.add_at_centre)
        self.problems.node_clicked.connect(self.focus_node)
        self._build_menus()
        install_theme_menu(self)
        self._attach()
        self.resize(1400, 860)
        self._laid_out = False
        self._restored = settings.restore_window(self)  # size, place and docks as last closed
        self.autosave = Autosaver(self)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._laid_out:  # once the window has its real size
            self._laid_out = True
            if not self._restored:  # a layout restored from the last session keeps its dock sizes
                self.resizeDocks([self.problems], [130], Qt.Orientation.Vertical)
                self.resizeDocks([self.palette, self.inspector], [250, 300], Qt.Orientation.Horizontal)
            QTimer.singleShot(0, self.view.frame_all)

    # ---- wiring a document ---------------------------------------------------------------
    def _attach(self) -> None:
        doc = self.document
        doc.refused.connect(self.statusBar().showMessage)
        self.scene.message.connect(self.statusBar().showMessage)
        self.scene.selectionChanged.connect(self._selection_changed)
        doc.undo_stack.cleanChanged.connect(self._update_title)
        doc.changed.connect(self._update_title)
        self._update_title()

    def set_document(self, document: Document) -> None:
        self.scene.close()
        self.scene.deleteLater()
        self.document.deleteLater()
        document.setParent(self)
        self.document = document
        self.scene = CanvasScene(document, self)
        self.view.setScene(self.scene)
        self.autosave.discard()  # the old document was saved or given up
        self.inspector.set_document(document)
        self.problems.set_document(document)
        self._rebuild_undo_actions()
        self._attach()
        self.view.frame_all()

    def _update_title(self, *_: object) -> None:
        path = self.document.project.path
        name = path.name if path else self.document.project.name
        self.setWindowModified(not self.document.undo_stack.isClean())
        self.setWindowTitle(f"{name}[*] — netbuilder")

    def _selection_changed(self) -> None:
        nodes = [i.node_id for i in self.scene.selectedItems() if isinstance(i, NodeItem)]
        self.inspector.show_node(nodes[0] if len(nodes) == 1 else None)

    # ---- actions ---------------------------------------------------------------------------
    def _build_menus(self) -> None:
        file = self.menuBar().addMenu("&File")
        file.addAction("&New", self.new).setShortcuts(QKeySequence.StandardKey.New)
        file.addAction("&Open…", self.open_dialog).setShortcuts(QKeySequence.StandardKey.Open)
        self.recent_menu = RecentFilesMenu(self.open_recent, self)
        file.addMenu(self.recent_menu)
        examples = file.addMenu("&Examples")
        for name in EXAMPLE_NAMES:
            examples.addAction(load_project(example_path(name)).name, lambda n=name: self.open_example(n))
        file.addSeparator()
        file.addAction("&Save", self.save).setShortcuts(QKeySequence.StandardKey.Save)
        file.addAction("Save &As…", self.save_as).setShortcuts(QKeySequence.StandardKey.SaveAs)
        file.addSeparator()
        file.addAction("&Import ONNX…", lambda: import_onnx_dialog(self))
        build_export_menu(self, file)
        file.addSeparator()
        file.addAction("&Quit", QApplication.closeAllWindows).setShortcuts(
            QKeySequence.keyBindings(QKeySequence.StandardKey.Quit) or [QKeySequence("Ctrl+Q")])
        self.edit_menu = self.menuBar().addMenu("&Edit")
        self.delete_action = QAction("&Delete", self)
        self.delete_action.setShortcuts(QKeySequence.StandardKey.Delete)
        self.delete_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)  # Del in a text box
        self.view.addAction(self.delete_action)                                                # edits the text
        self.delete_action.triggered.connect(lambda: self.scene.delete_selection())
        self.edit_actions = EditActions(self)
        self._rebuild_undo_actions()
        view = self.menuBar().addMenu("&View")
        for text, slot, key in (("Zoom &In", lambda: self.view.zoom(1.15),  # Ctrl+= too: the + key without Shift
                                 [*QKeySequence.keyBindings(QKeySequence.StandardKey.ZoomIn), QKeySequence("Ctrl+=")]),
                                ("Zoom &Out", lambda: self.view.zoom(1 / 1.15), QKeySequence.StandardKey.ZoomOut),
                                ("&Actual Size", self.view.reset_zoom, QKeySequence("Ctrl+0")),
                                ("&Frame Selection", self.view.frame_selection, QKeySequence(Qt.Key.Key_F)),
                                ("Frame A&ll", self.view.frame_all, QKeySequence(Qt.Key.Key_Home))):
            action = view.addAction(text, slot)
            action.setShortcuts(key) if isinstance(key, (QKeySequence.StandardKey, list)) else action.setShortcut(key)
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.view.addAction(action)  # the canvas's keys: F typed in a search box stays a letter
        view.addSeparator()
        for dock in (self.palette, self.inspector, self.problems):
            view.addAction(dock.toggleViewAction())
        self.edit_actions.fill_view_menu(view)

    def _rebuild_undo_actions(self) -> None:
        for action in self.edit_menu.actions():  # not clear(): PySide's clear() kills the kept actions' wrappers
            self.edit_menu.removeAction(action)
        for old in (getattr(self, "undo_action", None), getattr(self, "redo_action", None)):
            if old is not None:  # they follow the previous document's stack
                old.deleteLater()
        self.undo_action = self.document.undo_stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcuts(QKeySequence.StandardKey.Undo)
        self.redo_action = self.document.undo_stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcuts(QKeySequence.StandardKey.Redo)
        self.edit_menu.addAction(self.undo_action)
        self.edit_menu.addAction(self.redo_action)
        self.edit_menu.addSeparator()
        self.edit_menu.addAction(self.delete_action)
        self.edit_actions.fill_edit_menu(self.edit_menu)

    def add_at_centre(self, kind: str) -> None:
        centre = self.view.mapToScene(self.view.viewport().rect().center())
        self.scene.add_layer(kind, centre)

    def focus_node(self, node_id: str) -> None:
        item = self.scene.node_items.get(node_id)
        if item is not None:
            self.scene.clearSelection()
            item.setSelected(True)
            self.view.centerOn(item)

    def _may_discard(self) -> bool:
        if self.document.undo_stack.isClean():
            return True
        answer = QMessageBox.question(self, "Unsaved changes", "Save the changes to this project first?",
                                      QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                                      | QMessageBox.StandardButton.Cancel)
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def new(self) -> None:
        if self._may_discard():
            self.set_document(Document(Project()))

    def open_path(self, path: str | Path) -> None:
        self.set_document(Document.open(path))
        settings.add_recent_file(path)
        self.recent_menu.rebuild()

    def open_recent(self, path: Path) -> None:
        if not self._may_discard():
            return
        try:
            self.open_path(path)
        except Exception as exc:  # gone or broken since: say why, and forget it
            settings.remove_recent_file(path)
            self.recent_menu.rebuild()
            QMessageBox.warning(self, "Cannot open", f"{exc}\n\nIt has been taken off the Open Recent list.")

    def open_example(self, name: str) -> None:
        if self._may_discard():
            project = load_project(example_path(name))
            project.path = None  # saving asks where, instead of writing into the installed examples
            self.set_document(Document(project))

    def open_dialog(self) -> None:
        if not self._may_discard():
            return
        path, _ = QFileDialog.getOpenFileName(self, "Open project", "", FILE_FILTER)
        if path:
            try:
                self.open_path(path)
            except Exception as exc:  # a broken file: say why, keep what is open
                QMessageBox.warning(self, "Cannot open", str(exc))

    def save(self) -> bool:
        if self.document.project.path is None:
            return self.save_as()
        return self._save_to(None)

    def save_as(self) -> bool:
        path, _ = QFileDialog.getSaveFileName(self, "Save project", f"{self.document.project.name}.nbproj",
                                              FILE_FILTER)
        if not path:
            return False
        return self._save_to(path)

    def _save_to(self, path: str | None) -> bool:
        """Save; then the file goes first in Open Recent and the autosave goes."""
        try:
            saved = self.document.save(path)
        except ProjectError as exc:
            QMessageBox.warning(self, "Cannot save", str(exc))
            return False
        self._update_title()
        settings.add_recent_file(saved)
        self.recent_menu.rebuild()
        self.autosave.discard()
        self.statusBar().showMessage(f"Saved {saved}", 4000)
        return True

    def closeEvent(self, event) -> None:
        if self._may_discard():
            # The scene goes with the window: stop hearing its selection and the graph's events.
            self.scene.selectionChanged.disconnect(self._selection_changed)
            self.scene.close()
            settings.save_window(self)
            self.autosave.stop()
            event.accept()
        else:
            event.ignore()
