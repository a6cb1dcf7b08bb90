"""Tab with the mouse over the canvas opens the quick-add, wherever the keyboard focus is, but in a form.

Node editors take keys where the mouse is (Blender, ComfyUI): a user who clicked in the Problems list or
a dock's button, then moved to the canvas and pressed Tab, saw the focus hop to the next widget instead.
:class:`TabOverCanvas` watches the application's key presses for a plain Tab and asks
:func:`tab_opens_quick_add`. Fields of a form (the Inspector's, the training settings') keep Tab for going
to the next field, wherever the mouse rests. (Not ``focusNextPrevChild``: Qt calls that too when the
focused widget goes away, and a quick fix that rebuilt the Problems list opened the quick-add by itself.)
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QCursor, QKeyEvent
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


class TabOverCanvas(QObject):
    """An application event filter: a plain Tab that :func:`tab_opens_quick_add` allows calls ``open_quick_add``
    instead of moving the focus. Parented to the window, it goes (and Qt drops the filter) with it."""

    def __init__(self, view: QGraphicsView, open_quick_add: Callable[[], object], parent: QObject) -> None:
        super().__init__(parent)
        self.view = view
        self.open_quick_add = open_quick_add
        QApplication.instance().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent) and event.key() == Qt.Key.Key_Tab
                and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier):
            focus = QApplication.focusWidget()
            # The canvas's own Tab is the quick-add's (ui/canvas/quick_add.py); others' only over the canvas.
            if focus is not self.view and tab_opens_quick_add(self.view, focus):
                self.view.setFocus(Qt.FocusReason.TabFocusReason)
                self.open_quick_add()
                return True
        return False
