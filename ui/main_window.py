"""The main window: canvas in the middle, layers on the left, inspector on the right, problems below."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QMainWindow, QMessageBox

from netbuilder.errors import ProjectError
from netbuilder.examples import example_path
from netbuilder.files.project import Project, load_project
from netbuilder.gc_pause import without_gc
from ui import settings
from ui.bottom_docks import BottomDocks
from ui.canvas.context_menus import CanvasContextMenus
from ui.canvas.items import NodeItem
from ui.canvas.nudge import NudgeActions
from ui.canvas.problem_badge import ProblemBadges
from ui.canvas.quick_add import insert_in_view
from ui.canvas.scene import CanvasScene
from ui.canvas.view import CanvasView, ZoomLabel
from ui.dock_actions import dock_view_action
from ui.docks.data_dock import DataDock
from ui.docks.inspector import InspectorDock
from ui.docks.palette import PaletteDock
from ui.docks.problems import ProblemsDock
from ui.docks.summary_dock import SummaryDock
from ui.docks.training_dock import TrainingDock
from ui.document import Document
from ui.edit_menu import EditActions, UndoStackAction
from ui.files.autosave import Autosaver
from ui.files.file_dialogs import open_file, save_file
from ui.files.file_exchange import build_export_menu, export_dialog, import_onnx_dialog, import_onnx_file
from ui.files.recent_menu import RecentFilesMenu
from ui.fitting_scroll import fitting_height
from ui.help.menu import install_help_menu
from ui.layer_menu import LayerActions
from ui.shortcuts import action_keys, canvas_action
from ui.status_message import tell
from ui.tab_over_canvas import TabOverCanvas
from ui.theme import apply_theme, install_theme_menu
from ui.toolbar import MainToolBar, export_button_action
from ui.training.controller import RunController
from ui.training.results_dock import ResultsDock
from ui.training.run_actions import RunActions
from ui.training.run_dock import RunDock
from ui.training.run_words import picker_label
from ui.training.runs_dock import RunsDock

FILE_FILTER = "netbuilder projects (*.nbproj)"


class MainWindow(QMainWindow):
    @without_gc  # a large graph's items, docks and their first fill: many objects, none garbage yet
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
        self.data_dock = DataDock(self.document, self)
        self.training_dock = TrainingDock(self.document, self)
        self.data_dock.changed_also.connect(self.statusBar().showMessage)
        for dock in (self.data_dock, self.training_dock):
            self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
            self.tabifyDockWidget(self.inspector, dock)
        self.inspector.raise_()
        self.palette.add_requested.connect(self.add_at_centre)
        self.problems.node_clicked.connect(self.focus_node)
        self.problems.fixed.connect(self._problem_fixed)
        self.edit_actions = EditActions(self.view, self.document, self)
        self._tab_over_canvas = TabOverCanvas(self.view, lambda: self.edit_actions.quick_add.open(), self)
        self.layer_actions = LayerActions(self.view, self)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.edit_actions.history)
        self.autosave = Autosaver(self.document, self)
        self.autosave.failed.connect(lambda message: self.statusBar().showMessage(message, 8000))
        self.runs = RunController(self.document, self)
        self.run_actions = RunActions(self.runs, self, lambda: self.document)
        self.run_actions.message.connect(self.statusBar().showMessage)
        self.run_actions.run_problem.connect(self.problems.set_run_problems)
        self.run_actions.blocked.connect(self._show_why_blocked)
        self.run_dock = RunDock(self.runs, self)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.run_dock)
        self.tabifyDockWidget(self.problems, self.run_dock)
        self.results_dock = ResultsDock(self)
        self.results_dock.project_path = self.run_dock.chart.project_path = lambda: self.document.project.path
        self.results_dock.message.connect(self.statusBar().showMessage)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.results_dock)
        self.tabifyDockWidget(self.run_dock, self.results_dock)
        self.runs.ended.connect(self._run_ended)
        self.runs_dock = RunsDock(self.runs, self.run_dock.chart, lambda: self.document, self)
        self.runs_dock.message.connect(self.statusBar().showMessage)
        self.runs_dock.show_results.connect(self._show_results)
        self.runs_dock.train_requested.connect(self.run_actions.start)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.runs_dock)
        self.tabifyDockWidget(self.results_dock, self.runs_dock)
        self.runs_dock.refresh()
        self.runs.state_changed.connect(self._run_state_changed)
        self.summary_dock = SummaryDock(self.document, self)
        self.summary_dock.node_clicked.connect(self.focus_node)
        self.summary_dock.message.connect(self.statusBar().showMessage)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.summary_dock)
        self.tabifyDockWidget(self.runs_dock, self.summary_dock)
        self.runs_dock.raise_()  # the tab in front stays the one it was
        self._build_menus()
        install_theme_menu(self)
        # The last menu, as on every desktop; About names the device the open project trains on.
        self.help_menu = install_help_menu(self, lambda: str(self.document.project.training.get("device", "auto")))
        self.statusBar().addPermanentWidget(ZoomLabel(self.view))  # the zoom in %; a click sets 100 %
        self._attach()
        screen = self.screen()
        self.resize(settings.first_start_size(screen.availableGeometry().size() if screen else None))
        self._laid_out = False
        self.bottom = BottomDocks(self)  # how tall the bottom docks are, and their one growth for a first chart
        self._restored = settings.restore_window(self)  # size, place and docks as last closed

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._laid_out:  # once the window has its real size
            self._laid_out = True
            if not self._restored:  # a layout restored from the last session keeps its dock sizes
                # Tall enough for the tab in front (Runs) to show whole; every bottom dock scrolls below that.
                self.bottom.resize(self.runs_dock, max(130, fitting_height(self.runs_dock)))
                self.resizeDocks([self.palette, self.inspector], [250, 300], Qt.Orientation.Horizontal)
            QTimer.singleShot(0, self.view.frame_readable)
            QTimer.singleShot(0, self, self.bottom.note_height)
            self.view.setFocus()  # Tab (quick add) and the arrow keys go to the canvas from the start

    # ---- wiring a document ---------------------------------------------------------------
    def _attach(self) -> None:
        doc = self.document
        doc.refused.connect(self.statusBar().showMessage)
        self.scene.message.connect(self.statusBar().showMessage)
        self.scene.selectionChanged.connect(self._selection_changed)
        doc.undo_stack.cleanChanged.connect(self._update_title)
        doc.changed.connect(self._update_title)
        doc.changed.connect(self.run_actions.update)  # Train's tooltip follows the problems
        self.badges = ProblemBadges(self.scene, self.layer_actions.apply)  # a Fix badge on each fixable layer
        # The last run's failure is the user's to act on: any edit (a lower rate, other data) clears it.
        doc.changed.connect(lambda: self.problems.run_problems and self.problems.set_run_problems([]))
        self._update_title()

    @without_gc
    def set_document(self, document: Document) -> None:
        self.scene.close()
        self.scene.deleteLater()
        self.document.deleteLater()
        document.setParent(self)
        self.document = document
        self.scene = CanvasScene(document, self)
        self.view.setScene(self.scene)
        self.autosave.set_document(document)  # the old document was saved or given up
        self.inspector.set_document(document)
        self.data_dock.set_document(document)
        self.training_dock.set_document(document)
        self.problems.set_document(document)
        self.summary_dock.set_document(document)
        self.edit_actions.set_document(document)
        self.undo_action.follow(document.undo_stack)
        self.redo_action.follow(document.undo_stack)
        self.runs.set_document(document)  # a live run goes on: it trains its own snapshot
        self.runs_dock.refresh()  # the new project's runs
        if not self.runs.busy:  # idle, not the old project's last run (a live run of the old one goes on showing)
            self.run_dock.reset(has_runs=bool(self.runs_dock.records))
        self.problems.set_run_problems([])  # the last run's failure was the old project's
        self.results_dock.clear()
        # The chart shows this project's runs: a run of the old one still training stays, the rest go.
        live = self.runs.run_id if self.runs.busy else None
        for key in self.run_dock.chart.runs():
            if key != live:
                self.run_dock.chart.remove_run(key)
        self._attach()
        self.run_actions.update()
        self.view.frame_readable()
        self.view.setFocus()  # the new graph's keys work at once (an open or an import moved the focus)

    def open_document(self, document: Document) -> bool:
        """Show ``document`` instead, once the open one's unsaved work is saved or given up."""
        if not self._may_discard():
            return False
        self.set_document(document)
        return True

    def _update_title(self, *_: object) -> None:
        path = self.document.project.path
        name = path.name if path else self.document.project.name
        self.setWindowModified(not self.document.undo_stack.isClean())
        self.setWindowTitle(f"{name}[*] — netbuilder")

    def _selection_changed(self) -> None:
        nodes = [i.node_id for i in self.scene.selectedItems() if isinstance(i, NodeItem)]
        self.inspector.show_node(nodes[0] if len(nodes) == 1 else None)
        self.summary_dock.select_nodes(nodes)

    # ---- actions ---------------------------------------------------------------------------
    def _file_action(self, menu, text: str, slot) -> QAction:
        action = menu.addAction(text, slot)
        action.setShortcuts(action_keys(text.replace("&", "")))
        return action

    def _build_menus(self) -> None:
        file = self.menuBar().addMenu("&File")
        self.new_action = self._file_action(file, "&New", self.new)
        self.open_action = self._file_action(file, "&Open…", self.open_dialog)
        self.recent_menu = RecentFilesMenu(self.open_recent, self.open_example, self)  # and the examples
        file.addMenu(self.recent_menu)
        file.addSeparator()
        self.save_action = self._file_action(file, "&Save", self.save)
        self._file_action(file, "Save &As…", self.save_as)
        self.close_action = self._file_action(file, "&Close", self.close_project)
        file.addSeparator()
        file.addAction("&Import ONNX…", self.import_onnx_dialog)
        export = self.export_menu = build_export_menu(file, self.export_dialog)
        export.addSeparator()  # a run's own weights rather than the project's (the Runs dock's menu has them too)
        export.addAction("A Run's Model to ONNX…", lambda: self.export_run("onnx"))
        export.addAction("A Run's Weights (safetensors)…", lambda: self.export_run("weights"))
        export.addSeparator()
        export.addAction(self.summary_dock.save_csv_action)
        file.addSeparator()
        self._file_action(file, "&Quit", QApplication.closeAllWindows)
        self.edit_menu = self.menuBar().addMenu("&Edit")
        self.undo_action = UndoStackAction("&Undo", self.document.undo_stack, self)
        self.redo_action = UndoStackAction("&Redo", self.document.undo_stack, self)
        self.delete_action = canvas_action("&Delete", self, lambda: self.scene.delete_selection(), [self])
        for action in (self.undo_action, self.redo_action, None, self.delete_action):
            self.edit_menu.addSeparator() if action is None else self.edit_menu.addAction(action)
        self.edit_actions.fill_edit_menu(self.edit_menu)
        self.nudge = NudgeActions(self.view, self)
        self.nudge.fill_menu(self.edit_menu)
        self.edit_menu.addSeparator()
        self.edit_menu.addAction(self.summary_dock.copy_markdown_action)
        self.edit_menu.addAction(self.summary_dock.copy_csv_action)
        self.layer_menu = self.menuBar().addMenu("&Layer")
        self.layer_actions.fill_menu(self.layer_menu, (self.problems.select_node_action,))
        view = self.menuBar().addMenu("&View")
        self.view_actions: dict[str, QAction] = {}
        for text, slot in (("Zoom &In", lambda: self.view.zoom(1.15)),
                           ("Zoom &Out", lambda: self.view.zoom(1 / 1.15)),
                           ("&Actual Size", lambda: self.view.reset_zoom()),
                           ("&Frame Selection", lambda: self.view.frame_selection()),
                           ("Frame A&ll", lambda: self.view.frame_all())):
            # Window-wide but not in text fields: F typed in a search box stays a letter.
            self.view_actions[text.replace("&", "")] = canvas_action(text, self, slot, [self])
            view.addAction(self.view_actions[text.replace("&", "")])
        frame_all = self.view_actions["Frame All"]
        self.context_menus = CanvasContextMenus(self.view, self.edit_actions, self.layer_actions,
                                                self.delete_action, frame_all)
        view.addSeparator()
        self.dock_actions = {dock: dock_view_action(dock, self) for dock in (
            self.palette, self.inspector, self.data_dock, self.training_dock, self.problems, self.run_dock,
            self.results_dock, self.runs_dock, self.summary_dock)}
        for action in self.dock_actions.values():
            view.addAction(action)
        self.edit_actions.fill_view_menu(view)
        run = self.menuBar().addMenu("&Run")
        self.run_actions.fill_menu(run)
        run.addSeparator()
        self.runs_dock.fill_menu(run.addMenu("Selected &Run"))  # what the Runs dock's right-click menu does
        self.toolbar = self._build_toolbar()
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.toolbar)
        view.addAction(self.toolbar.toggleViewAction())

    def _build_toolbar(self) -> MainToolBar:
        """The menus' own actions on the toolbar (ui/toolbar.py), with their icons."""
        run = self.run_actions
        return MainToolBar([
            (self.new_action, "mdi6.file-plus-outline", False), (self.open_action, "mdi6.folder-open-outline", False),
            (self.save_action, "mdi6.content-save-outline", False), None,
            (self.undo_action, "mdi6.undo", False), (self.redo_action, "mdi6.redo", False), None,
            (self.edit_actions.arrange, "mdi6.sitemap-outline", True),
            (self.view_actions["Frame All"], "mdi6.fit-to-screen-outline", True), None,
            (run.train, "mdi6.play", True), (run.pause, "mdi6.pause", True), (run.stop, "mdi6.stop", True), None,
            (export_button_action(self.export_menu), "mdi6.export", True),
        ], own_tooltips=(run.train, run.pause, run.stop), parent=self)

    def add_at_centre(self, kind: str) -> None:  # placed and wired as Tab's quick-add does, one undo step
        insert_in_view(self.view, kind)

    def _problem_fixed(self, fix) -> None:
        """A fix applied from the Problems dock: its layer selected and on screen, the canvas focused."""
        self.layer_actions.show_fixed(fix)
        self.view.setFocus(Qt.FocusReason.OtherFocusReason)

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

    def close_project(self) -> bool:
        """File ▸ Close: the window stays, on an empty untitled project, once unsaved work is saved or given up."""
        if not self._may_discard():
            return False
        self.set_document(Document(Project()))
        self.statusBar().showMessage("Project closed", 4000)
        return True

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

    def import_onnx_dialog(self) -> None:
        if self._may_discard() and (imported := import_onnx_dialog(self, self.document.project.path)) is not None:
            self._opened_import(*imported)

    def import_onnx_file(self, path: str | Path, out: str | Path) -> bool:
        """Import the ONNX model ``path`` as the project ``out`` (with its weights) and open it."""
        message = import_onnx_file(self, path, out)
        if message is not None:
            self._opened_import(Path(out), message)
        return message is not None

    def _opened_import(self, out: Path, message: str) -> None:
        self.open_path(out)
        self.statusBar().showMessage(message, 8000)

    def export_dialog(self, kind: str) -> None:
        if (message := export_dialog(self.document, self, kind)) is not None:
            self.tell(message)

    def tell(self, message: str, ms: int = 8000) -> None:
        """``message`` in the status bar, or in a message box where the status bar would cut it off."""
        self.last_told = tell(self.statusBar(), self, message, ms)

    def open_example(self, name: str) -> None:
        if self._may_discard():
            project = load_project(example_path(name))
            project.path = None  # saving asks where, instead of writing into the installed examples
            self.set_document(Document(project))

    def open_dialog(self) -> None:
        if not self._may_discard():
            return
        path = open_file(self, "Open project", "project", FILE_FILTER, self.document.project.path)
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
        project = self.document.project
        name = project.path.name if project.path else f"{project.name}.nbproj"
        path = save_file(self, "Save project", "project", name, FILE_FILTER, project.path)
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

    def _run_state_changed(self, state: str) -> None:
        if state == "starting":  # the curves come to the front when a run starts
            self.run_dock.show()
            self.run_dock.raise_()
            self.bottom.tall_enough(self.run_dock)

    def export_run(self, kind: str, run_id: int | None = None) -> bool:
        """Export one run's best weights (as ONNX, or as a weights file): the user picks the run."""
        from PySide6.QtWidgets import QInputDialog

        dock = self.runs_dock
        dock.refresh()
        records = [r for r in dock.records if r.status != "running"]
        if not records:
            self.statusBar().showMessage("No runs to export yet: train the project first (F5)", 8000)
            return False
        if run_id is None:
            labels = [picker_label(r) for r in records]
            chosen, ok = QInputDialog.getItem(self, "Export a run", "Which run's best weights:", labels,
                                              len(labels) - 1, False)
            if not ok:
                return False
            record = records[labels.index(chosen)]
        else:
            record = next(r for r in records if r.id == run_id)
        return dock.export_onnx(record) if kind == "onnx" else dock.export_weights(record)

    def engine_ready(self) -> None:
        """Torch has loaded after the first paint (ui/startup.py): check and preview the data now."""
        self.data_dock.engine_ready()
        self.training_dock.engine_ready()
        self.problems.refresh()
        self.summary_dock.engine_ready()
        self.badges.refresh()  # the data's fixes are known now
        self.run_actions.update()

    def _show_why_blocked(self, _reason: str) -> None:
        """Train cannot start: bring forward the dock where the fix is (the Data dock when no data is chosen)."""
        dock = self.data_dock if not self.document.project.data.get("dataset") else self.problems
        dock.show()
        dock.raise_()

    def _run_ended(self, last) -> None:
        """A run that kept weights shows what its model does; the Results dock comes forward."""
        run_dir = self.runs.run_dir
        if run_dir is None or not any((run_dir / f"{tag}.safetensors").is_file() for tag in ("best", "last")):
            return
        if type(last).__name__ == "Failed":  # a diverged model's "best" is no result to show
            return
        stopped = getattr(last, "reason", "") in ("stopped", "interrupted")  # mid-epoch: its last weights
        tag = "last" if stopped else "best"
        kept = run_dir / f"{tag}.safetensors"
        # Stopped or finished, the model the app holds is the trained one now: exports carry its weights.
        self.document.trained_weights = (kept if kept.is_file() else next(run_dir.glob("*.safetensors")),
                                         f"run {self.runs.run_id}'s {tag} weights")
        # After the run's end has been handled everywhere (and never once the window is gone): loading takes a moment.
        # A stopped run's results wait in their tab: its weights may be half-trained, and the curves stay in front.
        QTimer.singleShot(0, self, lambda: self._show_results(run_dir, tag, forward=not stopped))

    def _show_results(self, run_dir: Path, which: str, forward: bool = True) -> None:
        if self.results_dock.show_run(run_dir, which) and forward:
            self.results_dock.show()
            self.results_dock.raise_()
            self.bottom.tall_enough(self.results_dock)

    def _may_stop_run(self) -> bool:
        """Closing during a run asks first; yes stops it after the current batch and waits for it to save."""
        if not self.runs.busy:
            return True
        answer = QMessageBox.question(
            self, "A run is training", "Stop the run and close? The weights trained so far are saved in the run.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel)
        if answer != QMessageBox.StandardButton.Yes:
            return False
        if not self.runs.stop_and_wait():
            self.statusBar().showMessage("The run did not stop in time and was ended", 4000)
        return True

    def closeEvent(self, event) -> None:
        if self._may_stop_run() and self._may_discard():
            # The scene goes with the window: stop hearing its selection and the graph's events.
            self.scene.selectionChanged.disconnect(self._selection_changed)
            self.scene.close()
            settings.save_window(self)
            settings.set_last_project(self.document.project.path)  # reopened at the next start
            self.autosave.stop()
            event.accept()
        else:
            event.ignore()
