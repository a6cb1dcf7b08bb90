"""Tab with the mouse over the canvas opens the quick-add wherever the focus is, but in a form field."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QCursor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLineEdit


def over_canvas(win) -> None:
    QCursor.setPos(win.view.viewport().mapToGlobal(win.view.viewport().rect().center() + QPoint(7, 3)))


def popup_shown(win) -> bool:
    popup = win.edit_actions.quick_add.popup
    return popup is not None and popup.isVisible()


def test_tab_from_the_problems_list_with_the_mouse_on_the_canvas_opens_the_quick_add(window, qtbot) -> None:
    # Seen on Xvfb: focus in the Problems list, the mouse moved onto the canvas, Tab: the focus went on to a
    # combo box in a dock, and the layer name typed next went into it.
    win = window("mnist_cnn")
    win.problems.show()
    win.problems.raise_()
    win.problems.list.setFocus()
    assert QApplication.focusWidget() is win.problems.list
    over_canvas(win)
    QTest.keyClick(win.problems.list, Qt.Key.Key_Tab)
    qtbot.waitUntil(lambda: popup_shown(win))
    popup = win.edit_actions.quick_add.popup
    assert QApplication.focusWidget() is popup.search
    before = len(win.document.project.graph)
    QTest.keyClicks(popup.search, "dropout")
    QTest.keyClick(popup.search, Qt.Key.Key_Enter)
    assert len(win.document.project.graph) == before + 1
    assert QApplication.focusWidget() is win.view


def test_tab_in_a_form_field_goes_to_the_next_field_wherever_the_mouse_is(window, qtbot) -> None:
    win = window("mnist_cnn")
    win.scene.select_nodes([win.document.project.graph.by_name("conv1").id])
    name = next(e for e in win.inspector.findChildren(QLineEdit) if e.isVisible())
    name.setFocus()
    over_canvas(win)
    QTest.keyClick(name, Qt.Key.Key_Tab)
    assert not popup_shown(win)
    assert QApplication.focusWidget() is not name


def test_tab_with_the_mouse_off_the_canvas_moves_the_focus_as_usual(window, qtbot) -> None:
    win = window("mnist_cnn")
    win.problems.show()
    win.problems.list.setFocus()
    QCursor.setPos(win.menuBar().mapToGlobal(QPoint(5, 5)))
    QTest.keyClick(win.problems.list, Qt.Key.Key_Tab)
    assert not popup_shown(win)


def test_a_quick_fix_with_the_mouse_on_the_canvas_opens_no_quick_add(window, qtbot) -> None:
    # The fix rebuilds the Problems list and deletes the focused button; Qt moves the focus on as for a Tab.
    # That is no Tab: the quick-add must not open (it did, and took the Ctrl+Z meant to undo the fix).
    from tests.ui.test_quick_fixes_ui import broken_cnn, codes

    win = broken_cnn(window)
    [button] = win.problems.fix_buttons()
    over_canvas(win)
    button.setFocus()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "shape" not in codes(win))
    assert not popup_shown(win) and QApplication.activePopupWidget() is None
    steps = win.document.undo_stack.index()
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert win.document.undo_stack.index() == steps - 1
