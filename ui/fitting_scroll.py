"""A scroll area that keeps a dock's body at the dock's own size: the body fills the dock, and scrolls only when
the user makes the dock smaller than the body's minimum (so no dock's contents stop the splitter)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QDockWidget, QFrame, QScrollArea, QWidget


class FittingScroll(QScrollArea):
    """Holds a dock's body at the dock's own size, scrolling only when the dock is smaller than the body's
    minimum (a narrow window), so a chart or a matrix always fills the dock it is in."""

    def __init__(self, body: QWidget) -> None:
        super().__init__()
        # Sized here, not by QScrollArea: its own resizing asks word-wrapped labels for the height they
        # want at this width (heightForWidth) and makes the body taller than the dock.
        self.setWidgetResizable(False)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setWidget(body)
        body.installEventFilter(self)  # new contents (a filled table, a longer label) change the body's least size

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            QTimer.singleShot(0, self, self._fit)  # once the layout has taken the new contents in
        return super().eventFilter(watched, event)

    def least_height(self, width: int | None = None) -> int:
        """The body's least height at ``width`` (the viewport's): a word-wrapped label's lines count, which
        the body's minimumSizeHint alone leaves out (the Summary's totals lost a line, with no scrollbar)."""
        body = self.widget()
        least = body.minimumSizeHint().height()
        layout = body.layout()
        if layout is not None and layout.hasHeightForWidth():
            least = max(least, layout.totalMinimumHeightForWidth(width or self.viewport().width()))
        return least

    def _fit(self) -> None:
        body, view = self.widget(), self.viewport()
        width = max(body.minimumSizeHint().width(), view.width())
        body.resize(width, max(self.least_height(width), view.height()))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._fit()


def fitting_height(dock: QDockWidget) -> int:
    """How tall ``dock`` must be to show its body whole, without scrolling: the body's minimum and the dock's
    title bar."""
    content = dock.widget()
    chrome = max(0, dock.minimumSizeHint().height() - content.minimumSizeHint().height())
    if isinstance(content, FittingScroll):
        return content.least_height(max(content.width(), content.widget().minimumSizeHint().width())) + chrome
    body = content.widget() if isinstance(content, QScrollArea) else content
    return body.minimumSizeHint().height() + chrome
