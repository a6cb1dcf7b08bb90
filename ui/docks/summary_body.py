"""The Summary dock's body: the table, its totals and its buttons, laid out for the dock's shape.

In a bottom dock (wide and low) the totals and the buttons stand beside the table, so the table keeps the
dock's whole height for its rows and nothing but the table scrolls; in a side dock or a narrow floating one
(too narrow for the table and the totals side by side) they go under it, and the table takes what is left.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QBoxLayout, QLabel, QPushButton, QStyle, QTableWidget, QWidget

# Qt's QWIDGETSIZE_MAX: no maximum.
NO_MAXIMUM = (1 << 24) - 1
Direction = QBoxLayout.Direction


class SummaryBody(QWidget):
    """Lays out ``table``, ``totals`` and ``buttons`` side by side when the body is wide enough for the table's
    columns and the totals' longest line, one above the other when not (:meth:`arrange`)."""

    def __init__(self, table: QTableWidget, totals: QLabel, buttons: list[QPushButton]) -> None:
        super().__init__()
        self.table, self.totals, self.buttons = table, totals, buttons
        self.outer = QBoxLayout(Direction.TopToBottom, self)
        self.outer.setContentsMargins(6, 4, 6, 4)
        self.side = QBoxLayout(Direction.TopToBottom)
        self.button_box = QBoxLayout(Direction.LeftToRight)
        for button in buttons:
            self.button_box.addWidget(button)
        self.button_box.addStretch(1)
        totals.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.side.addWidget(totals)
        self.side.addLayout(self.button_box)
        self.outer.addWidget(table, 1)
        self.outer.addLayout(self.side)
        self.outer.addStretch(0)  # beside a table at its full width, the rest of a wide dock stays empty
        self.wide: bool | None = None
        self.arrange()

    def table_width(self) -> int:
        """The table's width showing every column and a vertical scrollbar: wider only adds empty space."""
        table = self.table
        bar = table.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, table)
        columns = sum(table.columnWidth(c) for c in range(table.columnCount()))
        return columns + bar + 2 * table.frameWidth()

    def side_width(self) -> int:
        """The totals' longest line, unwrapped, and the buttons one above the other, beside it."""
        metrics = self.totals.fontMetrics()
        text = max((metrics.horizontalAdvance(line) for line in self.totals.text().splitlines()), default=0)
        buttons = max((b.sizeHint().width() for b in self.buttons), default=0)
        spacing = max(0, self.outer.spacing())
        return text + 2 * self.totals.margin() + 4 + spacing + buttons

    def wide_width(self) -> int:
        margins = self.outer.contentsMargins()
        return self.table_width() + max(0, self.outer.spacing()) + self.side_width() + margins.left() + margins.right()

    def arrange(self) -> None:
        """Beside or under, for the body's width now (the contents' widths decide, not the layout in use, so
        the choice never flips back and forth)."""
        wide = self.width() >= self.wide_width()
        if wide:
            self.table.setMaximumWidth(self.table_width())  # the rest of the width stays beside the buttons
        if wide == self.wide:
            return
        self.wide = wide
        self.outer.setDirection(Direction.LeftToRight if wide else Direction.TopToBottom)
        self.side.setDirection(Direction.LeftToRight if wide else Direction.TopToBottom)
        self.button_box.setDirection(Direction.TopToBottom if wide else Direction.LeftToRight)
        self.totals.setWordWrap(not wide)  # beside the table every line is whole; under it, a narrow dock wraps
        if not wide:
            self.table.setMaximumWidth(NO_MAXIMUM)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.arrange()
