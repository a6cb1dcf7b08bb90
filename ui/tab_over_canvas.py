"""Tab with the mouse over the canvas opens the quick-add, wherever the keyboard focus is, but in a form.

Node editors take keys where the mouse is (Blender, ComfyUI): a user who clicked in the Problems list or
a dock's button, then moved to the canvas and pressed Tab, saw the focus hop to the next widget instead.
The window's :meth:`QWidget.focusNextPrevChild`, which Qt asks for every Tab that would move the focus
inside it, asks :func:`tab_opens_quick_add` first. Fields of a form (the Inspector's, the training
settings') keep Tab for going to the next field, wherever the mouse rests.
"""

from __future__ import annotations

from PySide6.QtGui import QCursor
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QCheckBox,
    QComboBox,
    QGraphicsView,
    QLineEdit,
    QPlainTextEdit,
    QRadioButton,
    QSlider,
    QTextEdit,
    QWidget,
)

FORM_FIELDS = (QLineEdit, QAbstractSpinBox, QComboBox, QTextEdit, QPlainTextEdit, QCheckBox, QRadioButton, QSlider)


def tab_opens_quick_add(view: QGraphicsView, focus: QWidget | None = None) -> bool:
    """Whether a Tab now should open the quick-add on ``view``: the mouse is over its canvas, the window is
    active, and the keyboard focus is not in a form field."""
    focus = focus if focus is not None else QApplication.focusWidget()
    if isinstance(focus, FORM_FIELDS) or not view.isVisible() or not view.window().isActiveWindow():
        return False
    viewport = view.viewport()
    return viewport.rect().contains(viewport.mapFromGlobal(QCursor.pos()))
