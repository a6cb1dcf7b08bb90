"""Help: the shortcut sheet read from the window's actions, the user guide from the shipped docs, About."""

from __future__ import annotations

from importlib import metadata

from PySide6.QtCore import Qt, QUrl, qVersion
from PySide6.QtGui import QAction, QKeySequence, QTextDocument
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

import netbuilder
from ui.help.about import about_text
from ui.help.shortcut_sheet import ShortcutRow
from ui.help.user_guide import PAGES, guide_dir, guide_pages
from ui.shortcuts import ACTION_KEYS, action_keys

NATIVE = QKeySequence.SequenceFormat.NativeText


def help_menu_entries(win) -> list[str]:
    menu = next(a.menu() for a in win.menuBar().actions() if a.text() == "&Help")
    return [a.text() for a in menu.actions() if not a.isSeparator()]


def test_help_is_the_last_menu_with_shortcuts_guide_and_about(window) -> None:
    win = window()
    assert win.menuBar().actions()[-1].text() == "&Help"
    assert help_menu_entries(win) == ["&Keyboard Shortcuts", "&User Guide", "&About netbuilder"]


def open_sheet(win):
    win.help_menu.shortcuts_action.trigger()
    sheet = win.help_menu.sheet
    assert sheet is not None and sheet.isVisible()
    return sheet


def test_the_sheet_lists_every_action_that_has_keys_with_its_keys_and_menu(window) -> None:
    win = window()
    rows = {row.action: row for row in open_sheet(win).rows()}
    # Every action of the window with a key (menus, toolbar and window-wide actions alike) has its row.
    everything = {id(a): a for a in [*win.actions(), *win.findChildren(QAction)]}.values()
    for action in everything:
        keys = [k for k in action.shortcuts() if k[0].key().value <= Qt.Key.Key_F12.value]
        if not keys:
            continue
        name = action.text().replace("&", "").split("\t")[0]
        assert name in rows, f"{name} has {keys[0].toString()} but is not on the sheet"
        for key in keys:
            assert key.toString(NATIVE) in rows[name].keys.split(", "), (name, key.toString())
    for name in ACTION_KEYS:  # the documented keys, each under the menu it is in
        assert action_keys(name)[0].toString(NATIVE) in rows[name].keys.split(", "), name
    assert rows["Quick Add Layer…"] == ShortcutRow("Quick Add Layer…", "Tab", "Edit")  # a key the canvas handles
    assert rows["Save"].menu == "File" and rows["Train"].menu == "Run" and rows["Frame All"].menu == "View"
    assert rows["Undo"].keys.split(", ")[0] == "Ctrl+Z"
    assert all(k not in rows["Copy"].keys.split(", ") for k in ("Copy", "F16"))  # no keys a keyboard lacks


def test_the_sheet_names_undo_and_redo_as_such_whatever_they_would_undo(window) -> None:
    from netbuilder.model.edits import RemoveNode

    win = window()
    first, second = list(win.document.project.graph.nodes)[:2]
    win.document.push(RemoveNode(first))
    win.document.push(RemoveNode(second))
    win.document.undo_stack.undo()  # now there is something to undo and something to redo
    # The Edit menu says what they would do; the sheet names the actions.
    assert win.undo_action.text().startswith("&Undo ") and win.redo_action.text().startswith("&Redo ")
    rows = {row.action: row for row in open_sheet(win).rows()}
    assert rows["Undo"].keys.split(", ")[0] == "Ctrl+Z" and rows["Undo"].menu == "Edit"
    assert rows["Redo"].menu == "Edit" and rows["Redo"].keys
    assert not [name for name in rows if name.startswith(("Undo ", "Redo "))]


def test_the_sheet_is_read_again_each_time_it_opens_so_it_cannot_drift(window) -> None:
    win = window()
    sheet = open_sheet(win)
    assert "Zap" not in [r.action for r in sheet.rows()]
    sheet.close()
    zap = QAction("&Zap", win)  # an action added later (by a plug-in, or by the next change to the code)
    zap.setShortcut(QKeySequence("Ctrl+Alt+J"))
    win.addAction(zap)
    win.menuBar().actions()[1].menu().addAction(zap)  # in Edit
    hidden = QAction("Peek", win)  # a key that works in the window without a menu entry
    hidden.setShortcut(QKeySequence("Ctrl+Alt+K"))
    win.addAction(hidden)
    rows = {r.action: r for r in open_sheet(win).rows()}
    assert rows["Zap"] == ShortcutRow("Zap", QKeySequence("Ctrl+Alt+J").toString(NATIVE), "Edit")
    assert rows["Peek"] == ShortcutRow("Peek", QKeySequence("Ctrl+Alt+K").toString(NATIVE), "(window)")


def test_typing_in_the_filter_narrows_the_sheet(window, qtbot) -> None:
    win = window()
    sheet = open_sheet(win)
    everything = sheet.rows()
    assert len(everything) >= len(ACTION_KEYS)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is sheet.filter)  # typing goes to the filter at once
    QTest.keyClicks(sheet.filter, "undo")
    assert [r.action for r in sheet.rows()] == ["Undo"]
    assert sheet.count.text() == f"1 of {len(everything)} shortcuts"
    sheet.filter.clear()
    QTest.keyClicks(sheet.filter, "ctrl+s")  # a key, as a user writes it
    assert [r.action for r in sheet.rows()] == ["Save"]
    sheet.filter.clear()
    QTest.keyClicks(sheet.filter, "run")  # a menu
    assert [r.action for r in sheet.rows()] == ["Train", "Pause", "Stop"]
    sheet.filter.clear()
    QTest.keyClicks(sheet.filter, "file save")  # every word, anywhere in the row
    assert [r.action for r in sheet.rows()] == ["Save", "Save As…"]
    sheet.filter.clear()
    assert sheet.rows() == everything
    sheet.close()


def test_the_user_guide_shows_the_shipped_docs_and_follows_their_links(window) -> None:
    win = window()
    assert guide_dir() is not None and [p.path.name for p in guide_pages()][: len(PAGES)] == list(PAGES)
    QTest.keyClick(win, Qt.Key.Key_F1)  # F1, as on every desktop
    guide = win.help_menu.guide
    assert guide is not None and guide.isVisible()
    assert guide.page_title() == "User guide: panels, menus and keys"
    text = guide.browser.toPlainText()
    assert text.startswith("User guide: panels, menus and keys") and "Keyboard shortcuts" in text
    assert "](" not in text and "generated:" not in text  # rendered, the generated sections' markers unseen
    picture = guide.browser.source().resolved(QUrl("images/mnist_cnn.png"))
    image = guide.browser.document().resource(QTextDocument.ResourceType.ImageResource, picture)
    assert not image.isNull() and image.width() <= guide.browser.viewport().width()  # fits the page
    guide.contents.setCurrentRow(2)
    assert guide.page_title() == "Training" and "Train" in guide.browser.toPlainText()
    guide._follow(QUrl("file-format.md"))  # the link in training.md
    assert guide.page_title() == "The project file format (.nbproj)"
    assert guide.browser.toPlainText().startswith("The project file format")
    guide.close()


def test_the_user_guides_contents_read_in_full_at_the_default_size(window, qtbot) -> None:
    win = window()
    win.help_menu.guide_action.trigger()
    guide = win.help_menu.guide
    qtbot.waitExposed(guide)
    contents = guide.contents
    metrics = contents.fontMetrics()
    room = contents.viewport().width()
    for row in range(contents.count()):
        title = contents.item(row).text()
        assert metrics.horizontalAdvance(title) <= room, f"{title!r} is cut off: {room} px for it"
    assert contents.horizontalScrollBar().maximum() == 0  # nothing to scroll to: every title is in view
    assert guide.browser.viewport().width() >= 600  # and the page keeps most of the window
    guide.close()


def test_about_names_the_versions_and_the_training_device(window, qtbot) -> None:
    win = window()
    win.document.project.training["device"] = "cpu"
    box = win.help_menu.show_about()
    try:
        assert isinstance(box, QMessageBox) and box.isVisible() and box.windowTitle() == "About netbuilder"
        text = box.text()
        for name, version in (("netbuilder", netbuilder.__version__), ("Qt", qVersion()),
                              ("torch", metadata.version("torch")), ("pyqtgraph", metadata.version("pyqtgraph")),
                              ("ONNX Runtime", metadata.version("onnxruntime")), ("onnx", metadata.version("onnx"))):
            assert f"<td>{name}</td><td>&nbsp;&nbsp;{version}</td>" in text, name
        assert "Training device: CPU (this project's Device setting: CPU)" in text
    finally:
        box.close()
    assert "Training device: none: device 'mps' was asked for" in about_text("mps")  # a setting this machine lacks
    assert "Training device: CPU (this project's Device setting: Automatic)" in about_text("auto")  # no GPU here


def test_ctrl_slash_opens_the_shortcut_sheet(window, qtbot) -> None:
    # A new user found no key for the sheet in Help; Ctrl+/ is what Google Docs, Slack and many editors use.
    win = window()
    QTest.keyClick(win, Qt.Key.Key_Slash, Qt.KeyboardModifier.ControlModifier)
    sheet = win.help_menu.sheet
    assert sheet is not None and sheet.isVisible()
    sheet.close()
