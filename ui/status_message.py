"""A message for the user, in the status bar where it fits, else in a message box: the status bar cuts a long
one off mid-word under its permanent widgets (seen: an export's weights note ran into the zoom label)."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QStatusBar, QWidget


def tell(bar: QStatusBar, parent: QWidget, message: str, ms: int = 8000) -> QMessageBox | None:
    """Show ``message`` in ``bar`` for ``ms``, or in a non-modal message box over ``parent`` (returned) where
    the bar's free room is too narrow for it."""
    permanent = sum(w.width() for w in bar.findChildren(QWidget) if w.parent() is bar and w.isVisible())
    room = bar.width() - permanent - 40  # the size grip and the margins
    if bar.fontMetrics().horizontalAdvance(message) <= room:
        bar.showMessage(message, ms)
        return None
    box = QMessageBox(QMessageBox.Icon.Information, "netbuilder", message, QMessageBox.StandardButton.Ok, parent)
    box.setModal(False)
    box.open()
    return box
