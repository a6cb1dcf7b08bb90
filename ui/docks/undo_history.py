"""The history dock: every edit of the open document, newest last; click one to go back to it."""

from __future__ import annotations

from PySide6.QtWidgets import QDockWidget, QUndoView

from ui.document import Document


class HistoryDock(QDockWidget):
    """A QUndoView on the document's undo stack; :meth:`set_document` follows a replaced document."""

    def __init__(self, document: Document) -> None:
        super().__init__("History")
        self.setObjectName("HistoryDock")
        self.view = QUndoView()
        self.view.setEmptyLabel("Opened")
        self.setWidget(self.view)
        self.set_document(document)

    def set_document(self, document: Document) -> None:
        self.view.setStack(document.undo_stack)
