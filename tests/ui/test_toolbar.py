"""The toolbar: the menus' own actions with icons in the theme's colours, and a layout that stays where it was left."""

from __future__ import annotations

import sys

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QAction, QColor, QIcon, QPalette
from PySide6.QtWidgets import QApplication, QToolButton

from netbuilder import Project
from ui.document import Document
from ui.icons import icon_colour, themed_icon
from ui.main_window import MainWindow
from ui.theme import apply_theme

TOOLBAR = ["New", "Open…", "Save", "Undo", "Redo", "Arrange Layers", "Frame All", "Train", "Pause", "Stop", "Export"]


def plain(action: QAction) -> str:
    return action.text().replace("&", "").split("\t")[0]


def menu_actions(win) -> list[QAction]:
    found: list[QAction] = []

    def walk(actions) -> None:
        for action in actions:
            found.append(action)
            if action.menu() is not None:
                walk(action.menu().actions())

    walk(win.menuBar().actions())
    return found


def button(win, action: QAction) -> QToolButton:
    widget = win.toolbar.widgetForAction(action)
    assert isinstance(widget, QToolButton) and widget.isVisible()
    return widget


def click(qtbot, win, action: QAction) -> None:
    qtbot.mouseClick(button(win, action), Qt.MouseButton.LeftButton)


def test_the_toolbar_holds_the_menus_own_actions_in_order(window) -> None:
    win = window()
    shown = win.toolbar.actions_shown()
    assert [plain(a).split(" ")[0] for a in shown] == [t.split(" ")[0] for t in TOOLBAR]
    in_menus = menu_actions(win)
    for action in shown:  # one action, two places: the very object of the menu, not a copy
        assert any(action is a for a in in_menus), plain(action)
    assert shown[-1].menu() is win.export_menu  # the Export button opens File ▸ Export
    run = win.run_actions
    assert shown[7:10] == [run.train, run.pause, run.stop]


def test_toolbar_buttons_do_what_their_menu_entries_do(window, qtbot) -> None:
    win = window()
    graph = win.document.project.graph
    before = len(graph)
    win.add_at_centre("Dropout")
    assert len(graph) == before + 1
    click(qtbot, win, win.undo_action)
    assert len(graph) == before
    click(qtbot, win, win.redo_action)
    assert len(graph) == before + 1
    click(qtbot, win, win.edit_actions.arrange)
    assert win.document.undo_stack.undoText().startswith("Arrange")
    win.view.zoom(3.0)
    zoomed = win.view.transform().m11()
    click(qtbot, win, win.view_actions["Frame All"])
    assert win.view.transform().m11() < zoomed  # everything in view again
    win.document.undo_stack.setClean()
    click(qtbot, win, win.new_action)
    assert len(win.document.project.graph) == 0 and win.document is not None


def test_undo_and_redo_buttons_follow_the_stack_and_their_tooltip_names_the_step_and_key(window) -> None:
    win = window()
    assert not button(win, win.undo_action).isEnabled()
    win.add_at_centre("Dropout")
    assert button(win, win.undo_action).isEnabled() and not button(win, win.redo_action).isEnabled()
    key = win.undo_action.shortcut().toString()
    assert win.undo_action.toolTip() == f"Undo {win.document.undo_stack.undoText()} ({key})"
    assert win.save_action.toolTip() == f"Save ({win.save_action.shortcut().toString()})"
    assert win.run_actions.train.toolTip().startswith(("Train this project", "Cannot train yet"))  # its own words


def dominant_colour(icon: QIcon, mode: QIcon.Mode) -> QColor:
    """The colour of the icon's most opaque pixel (the glyph's body, not its antialiased edge)."""
    image = icon.pixmap(QSize(32, 32), mode).toImage()
    best = max((image.pixelColor(x, y) for x in range(image.width()) for y in range(image.height())),
               key=lambda c: c.alpha())
    assert best.alpha() > 200, "the icon drew nothing"
    return best


def luminance(colour: QColor) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(colour.redF()) + 0.7152 * channel(colour.greenF()) + 0.0722 * channel(colour.blueF())


def contrast(a: QColor, b: QColor) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_icons_are_drawn_in_the_themes_text_colour_and_stand_out_in_light_and_dark(window) -> None:
    win = window()
    for theme in ("light", "dark"):
        apply_theme(theme)
        QApplication.processEvents()
        palette = QApplication.palette()
        background = palette.color(QPalette.ColorRole.Window)
        for action in win.toolbar.actions_shown():
            colour = dominant_colour(action.icon(), QIcon.Mode.Normal)
            assert colour.rgb() == icon_colour(QIcon.Mode.Normal, palette).rgb(), (theme, plain(action))
            assert contrast(colour, background) >= 4.5, (theme, plain(action))  # WCAG AA, as text
            disabled = dominant_colour(action.icon(), QIcon.Mode.Disabled)
            assert disabled.rgb() == palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText).rgb()
        assert (luminance(colour) > 0.5) == (theme == "dark")  # light glyphs on the dark theme, dark on the light


def test_the_icons_come_from_the_icon_set_without_importing_qtawesome_at_start_up(window) -> None:
    window()
    assert "qtpy" not in sys.modules and "qtawesome" not in sys.modules  # its import costs ~0.4 s before paint
    try:
        themed_icon("mdi6.no-such-icon")
    except KeyError as exc:
        assert "mdi6.no-such-icon" in str(exc)
    else:
        raise AssertionError("an unknown icon name must be refused, not drawn as a blank")


def test_an_icon_is_sharp_on_a_200_percent_screen_and_outlives_its_python_wrapper(qapp) -> None:
    import gc

    icon = QIcon(themed_icon("mdi6.undo"))  # a copy, as Qt makes them (the engine is cloned)
    gc.collect()
    pixmap = icon.pixmap(QSize(16, 16), 2.0)
    assert (pixmap.width(), pixmap.height()) == (32, 32) and pixmap.devicePixelRatio() == 2.0
    assert dominant_colour(icon, QIcon.Mode.Normal).alpha() > 200


def make_window(qtbot) -> MainWindow:
    win = MainWindow(Document(Project()))
    win.show()
    qtbot.waitExposed(win)
    qtbot.wait(50)
    return win


def close(win) -> None:
    win.close()
    win.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def test_docks_and_the_toolbar_come_back_where_the_user_left_them(qtbot) -> None:
    win = make_window(qtbot)
    win.resize(780, 560)  # inside the offscreen screen, so the restore does not move the window
    assert win.dockWidgetArea(win.palette) == Qt.DockWidgetArea.LeftDockWidgetArea  # the default places
    assert win.toolBarArea(win.toolbar) == Qt.ToolBarArea.TopToolBarArea
    win.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, win.palette)  # dragged to the right
    win.problems.setFloating(True)  # torn off
    win.runs_dock.hide()  # closed
    win.edit_actions.history.show()  # opened (hidden by default)
    win.addToolBar(Qt.ToolBarArea.LeftToolBarArea, win.toolbar)  # the toolbar dragged to the left edge
    qtbot.wait(20)
    close(win)
    win = make_window(qtbot)
    try:
        assert win.dockWidgetArea(win.palette) == Qt.DockWidgetArea.RightDockWidgetArea
        assert win.problems.isFloating() and win.problems.isVisible()
        assert win.runs_dock.isHidden()
        assert win.edit_actions.history.isVisible()
        assert win.toolBarArea(win.toolbar) == Qt.ToolBarArea.LeftToolBarArea
        win.toolbar.hide()  # and a hidden toolbar stays hidden
        close(win)
        win = make_window(qtbot)
        assert win.toolbar.isHidden() and win.toolBarArea(win.toolbar) == Qt.ToolBarArea.LeftToolBarArea
    finally:
        close(win)


def test_every_dock_and_toolbar_has_its_own_stable_name(window) -> None:
    """saveState files each dock and toolbar under its objectName: one without a name, or two alike, is lost."""
    from PySide6.QtWidgets import QDockWidget, QToolBar

    win = window()
    names = [w.objectName() for kind in (QDockWidget, QToolBar) for w in win.findChildren(kind)]
    assert all(names) and len(names) == len(set(names)), names
    assert "MainToolBar" in names
