"""The main window: canvas in the middle, layers on the left, inspector on the right, problems below."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox

from netbuilder.examples import EXAMPLE_NAMES, example_path
from netbuilder.project import Project, load_project
from ui.canvas import CanvasScene, CanvasView
from ui.canvas_items import NodeItem
from ui.document import Document
from ui.inspector import InspectorDock
from ui.palette import PaletteDock
from ui.problems import ProblemsDock

FILE_FILTER = "netbuilder projects (*.nbproj)"


class MainWindow(QMainWindow):
    def __init__(self, document: Document | None = None) -> None:
        super().__init__()
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
        self._attach()
        self.resize(1400, 860)
        self._laid_out = False

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._laid_out:  # once the window has its real size
            self._laid_out = True
            self.resizeDocks([self.problems], [130], Qt.Orientation.Vertical)
            self.resizeDocks([self.palette, self.inspector], [220, 300], Qt.Orientation.Horizontal)
            QTimer.singleShot(0, self.view.frame_all)

    # ---- wiring a document ---------------------------------------------------------------
    def _attach(self) -> None:
        doc = self.document
        doc.refused.connect(self.statusBar().showMessage)
        self.scene.message.connect(self.statusBar().showMessage)
        self.scene.selectionChanged.connect(self._selection_changed)
        doc.undo_stack.cleanChanged.connect(self._update_title)
        doc.changed.connect(self._update_title)
        self.undo_action.setEnabled(True)
        self._update_title()

    def set_document(self, document: Document) -> None:
        self.scene.close()
        self.scene.deleteLater()
        self.document.deleteLater()
        document.setParent(self)
        self.document = document
        self.scene = CanvasScene(document, self)
        self.view.setScene(self.scene)
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
        for text, key, slot in (("&New", QKeySequence.StandardKey.New, self.new),
                                ("&Open…", QKeySequence.StandardKey.Open, self.open_dialog),
                                ("&Save", QKeySequence.StandardKey.Save, self.save),
                                ("Save &As…", QKeySequence.StandardKey.SaveAs, self.save_as)):
            action = file.addAction(text, slot)
            action.setShortcut(key)
        examples = file.addMenu("&Examples")
        for name in EXAMPLE_NAMES:
            examples.addAction(load_project(example_path(name)).name, lambda n=name: self.open_example(n))
        file.addSeparator()
        file.addAction("&Quit", self.close).setShortcut(QKeySequence.StandardKey.Quit)
        self.edit_menu = self.menuBar().addMenu("&Edit")
        self._rebuild_undo_actions()
        view = self.menuBar().addMenu("&View")
        frame = view.addAction("&Frame All", self.view.frame_all)
        frame.setShortcut(QKeySequence(Qt.Key.Key_F))
        for dock in (self.palette, self.inspector, self.problems):
            view.addAction(dock.toggleViewAction())

    def _rebuild_undo_actions(self) -> None:
        self.edit_menu.clear()
        self.undo_action = self.document.undo_stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.redo_action = self.document.undo_stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcut(QKeySequence.StandardKey.Redo)
        self.edit_menu.addAction(self.undo_action)
        self.edit_menu.addAction(self.redo_action)
        self.edit_menu.addSeparator()
        delete = QAction("&Delete", self)
        delete.setShortcut(QKeySequence.StandardKey.Delete)
        delete.triggered.connect(lambda: self.scene.delete_selection())
        self.edit_menu.addAction(delete)

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
        self.document.save()
        self.statusBar().showMessage(f"Saved {self.document.project.path}", 4000)
        return True

    def save_as(self) -> bool:
        path, _ = QFileDialog.getSaveFileName(self, "Save project", f"{self.document.project.name}.nbproj",
                                              FILE_FILTER)
        if not path:
            return False
        self.document.save(path)
        self._update_title()
        return True

    def closeEvent(self, event) -> None:
        if self._may_discard():
            # The scene goes with the window: stop hearing its selection and the graph's events.
            self.scene.selectionChanged.disconnect(self._selection_changed)
            self.scene.close()
            event.accept()
        else:
            event.ignore()
