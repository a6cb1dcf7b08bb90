"""Every documented key works on every platform, and the canvas's keys work wherever the focus is."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from netbuilder.examples import example_path
from ui.shortcuts import ACTION_KEYS, SCHEMES, STANDARD_BINDINGS, action_keys

EDITOR_DOC = Path(__file__).parents[2] / "docs" / "editor.md"
CTRL = Qt.KeyboardModifier.ControlModifier


def documented_keys() -> dict[str, list[str]]:
    """docs/editor.md's key table: menu text -> the keys it documents (alternatives split on ' or ')."""
    table = EDITOR_DOC.read_text(encoding="utf-8").split("## Keys and menus", 1)[1].split("\n\n| Action")[1]
    found: dict[str, list[str]] = {}
    for line in table.split("\n\n")[0].splitlines()[2:]:
        action, keys, _menu = (cell.strip() for cell in line.strip().strip("|").split("|"))
        if not keys:
            continue
        names = re.sub(r"\s*\(.*?\)", "", action).split(", ")
        per_name = keys.split(", ")
        assert len(names) == len(per_name), f"docs/editor.md: {line!r} names {len(names)} actions, {len(per_name)} keys"
        for name, alternatives in zip(names, per_name, strict=True):
            found[name] = alternatives.split(" or ")
    return found


def menu_actions(win) -> dict[str, QAction]:
    """Every action in the window's menus, by its text without & and without a shown key."""
    found: dict[str, QAction] = {}

    def walk(actions) -> None:
        for action in actions:
            if action.menu() is not None:
                walk(action.menu().actions())
            elif action.text():
                found.setdefault(action.text().replace("&", "").split("\t")[0], action)

    walk(win.menuBar().actions())
    return found


@pytest.mark.parametrize("scheme", SCHEMES)
def test_no_two_actions_share_a_key_under_any_platforms_bindings(scheme: str) -> None:
    owner: dict[str, str] = {}
    for name in ACTION_KEYS:
        for sequence in action_keys(name, scheme):
            key = sequence.toString()
            assert key not in owner, f"{scheme}: {key} is both {owner[key]!r} and {name!r}"
            owner[key] = name


@pytest.mark.parametrize("scheme", SCHEMES)
def test_every_documented_key_is_its_actions_key_on_every_platform(scheme: str, window) -> None:
    documented = documented_keys()
    assert set(ACTION_KEYS) <= set(documented), "every action with keys is in docs/editor.md's table"
    actions = menu_actions(window())
    for name, keys in documented.items():
        assert name in actions, f"docs/editor.md names {name!r}, which is in no menu"
        if name not in ACTION_KEYS:  # a key the widget handles itself (Tab): the menu shows it
            assert actions[name].text().endswith("\t" + keys[0]), name
            continue
        bound = action_keys(name, scheme)
        for key in keys:
            assert QKeySequence(key) in bound, f"{scheme}: {name} documents {key}, has {[s.toString() for s in bound]}"


def test_the_table_holds_the_bindings_of_the_platform_running_the_tests(qapp) -> None:
    """Offscreen Qt uses Windows' scheme, xcb X11's: the table was read from Qt, not guessed."""
    here = {key: tuple(s.toString() for s in QKeySequence.keyBindings(key)) for key in STANDARD_BINDINGS["x11"]}
    matching = [scheme for scheme, table in STANDARD_BINDINGS.items()
                if all(tuple(QKeySequence(t).toString() for t in table[k]) == here[k] for k in here)]
    assert matching, f"this platform's bindings are in no scheme of the table: {here}"


def test_the_window_uses_these_keys_and_no_two_of_its_actions_share_one(window) -> None:
    win = window()
    actions = menu_actions(win)
    for name in ACTION_KEYS:
        assert actions[name].shortcuts() == action_keys(name), name
    owner: dict[str, str] = {}
    for action in {id(a): a for a in win.findChildren(QAction)}.values():
        for sequence in action.shortcuts():
            key = sequence.toString()
            assert owner.get(key, action.text()) == action.text(), f"{key}: {owner[key]!r} and {action.text()!r}"
            owner[key] = action.text()


# ---- focus: keys typed right after start-up or an import, without clicking the canvas -------------
def active(win):
    """``win`` activated, as the desktop's window manager does with a new window (Xvfb has none)."""
    win.activateWindow()
    assert QTest.qWaitForWindowActive(win)
    return win


def press(key: Qt.Key, modifiers=CTRL) -> None:
    """A key typed where the keyboard focus is (as on a desktop: nobody clicked anything first)."""
    QTest.keyClick(QApplication.focusWidget(), key, modifiers)


def test_after_start_up_the_canvas_has_the_focus_and_its_keys_work(window) -> None:
    win = active(window())
    assert QApplication.focusWidget() is win.view
    press(Qt.Key.Key_A)
    press(Qt.Key.Key_D)
    assert len(win.document.project.graph) == 28
    press(Qt.Key.Key_Z)
    assert len(win.document.project.graph) == 14
    press(Qt.Key.Key_Y)
    assert len(win.document.project.graph) == 28
    press(Qt.Key.Key_Z)
    press(Qt.Key.Key_Z, CTRL | Qt.KeyboardModifier.ShiftModifier)
    assert len(win.document.project.graph) == 28


def test_canvas_keys_work_with_the_focus_in_a_dock_that_is_not_a_text_field(window) -> None:
    win = active(window())
    win.palette.tree.setFocus()
    assert QApplication.focusWidget() is win.palette.tree
    press(Qt.Key.Key_A)
    press(Qt.Key.Key_D)
    assert len(win.document.project.graph) == 28 and win.document.undo_stack.count() == 1


def test_canvas_keys_decline_while_a_text_field_is_edited(window) -> None:
    win = active(window())
    win.scene.select_nodes([win.document.project.graph.by_name("conv1").id])
    win.palette.search.setFocus()
    QTest.keyClicks(win.palette.search, "conv")
    for key in (Qt.Key.Key_D, Qt.Key.Key_Y, Qt.Key.Key_L):
        press(key)
    press(Qt.Key.Key_Delete, Qt.KeyboardModifier.NoModifier)
    assert len(win.document.project.graph) == 14 and win.document.undo_stack.count() == 0
    assert win.palette.search.text() == "conv"  # Del at the end of the text deletes nothing
    win.edit_actions.duplicate.trigger()  # the menu still acts: a click is no typing
    assert len(win.document.project.graph) == 15


def test_after_an_import_or_open_the_canvas_has_the_focus(window, tmp_path) -> None:
    win = active(window("linear_regression"))
    win.palette.search.setFocus()
    path = tmp_path / "linear.nbproj"
    shutil.copy(example_path("linear_regression"), path)
    win.open_path(path)
    assert QApplication.focusWidget() is win.view
    press(Qt.Key.Key_A)
    press(Qt.Key.Key_D)
    assert len(win.document.project.graph) == 2 * 3
