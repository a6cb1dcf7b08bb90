"""docs/user-guide.md says what the window has: every panel and menu has its section, and the menus, panels
and shortcut tables are the window's own (`python docs/generate.py` rewrites them; `--check` fails when stale)."""

from __future__ import annotations

import re
import shutil

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget

from tests.engine.test_docs_generated import ROOT, load_generator
from ui.help.shortcut_sheet import on_a_keyboard, shortcut_rows
from ui.shortcuts import SCHEMES, STANDARD_BINDINGS

generate = load_generator()
GUIDE = ROOT / "docs" / "user-guide.md"


def _this_platforms_scheme() -> str:
    """The keyboard scheme whose standard bindings are the ones Qt gives on this platform."""
    SK = QKeySequence.StandardKey
    live = {k: tuple(s.toString() for s in QKeySequence.keyBindings(k)) for k in (SK.Undo, SK.Redo, SK.Close)}
    found = [s for s in SCHEMES if all(STANDARD_BINDINGS[s][k] == v for k, v in live.items())]
    assert len(found) == 1, f"this platform's bindings {live} are none of the schemes in ui/shortcuts.py"
    return found[0]


def test_the_guides_tables_are_the_windows_own(window) -> None:
    win = window()
    assert generate.stale(generate.guide_pages(win)) == [], "docs/user-guide.md is stale: run python docs/generate.py"


def test_the_shortcut_table_gives_the_keys_the_actions_have_on_this_platform(window) -> None:
    win = window()
    scheme = _this_platforms_scheme()
    documented = {(action, menu): keys[scheme] for action, menu, keys in generate.scheme_keys(win)}
    keyed = {generate._plain(a.text()): a for a in win.findChildren(QAction) if a.shortcuts() or "\t" in a.text()}
    live = {}
    for row in shortcut_rows(win):
        action = keyed[row.action]
        keys = [k.toString(QKeySequence.SequenceFormat.PortableText) for k in action.shortcuts() if on_a_keyboard(k)]
        live[(row.action, row.menu)] = ", ".join(keys) or action.text().split("\t", 1)[1]
    if scheme == "macos":
        live = {k: generate._key_text(QKeySequence(v), "macos") if v else v for k, v in live.items()}
    assert documented == live
    assert documented[("Redo", "Edit")].startswith("Ctrl+") and documented[("Train", "Run")] == "F5"


def _headings(section: str) -> list[str]:
    text = GUIDE.read_text(encoding="utf-8")
    body = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^### (.+)$", body, re.MULTILINE)


def test_every_panel_and_every_menu_has_its_section(window) -> None:
    win = window()
    docks = [generate.dock_title(d) for d in win.findChildren(QDockWidget) if d.parent() is win]
    assert len(docks) >= 10 and sorted(_headings("Panels")) == sorted(docks)
    menus = [generate._plain(a.menu().title()) for a in win.menuBar().actions() if a.menu() is not None]
    assert _headings("Menus") == menus  # in the menu bar's order


def test_check_names_a_stale_guide_and_a_rewrite_mends_it(tmp_path, capsys) -> None:
    docs = tmp_path / "docs"
    shutil.copytree(ROOT / "docs", docs, ignore=shutil.ignore_patterns("images", "*.py"))
    assert generate.main(["--check", "--docs", str(docs)]) == 0
    guide = docs / "user-guide.md"
    guide.write_text(guide.read_text(encoding="utf-8").replace("| Train | F5 |", "| Train | F9 |"), encoding="utf-8")
    assert generate.main(["--check", "--docs", str(docs)]) == 1
    assert f"stale: {guide}" in capsys.readouterr().err
    assert generate.main(["--docs", str(docs)]) == 0
    assert "| Train | F5 |" in guide.read_text(encoding="utf-8")
    assert generate.main(["--check", "--docs", str(docs)]) == 0
    guide.write_text(guide.read_text(encoding="utf-8").replace("<!-- end generated: menus -->", ""), encoding="utf-8")
    assert generate.main(["--check", "--docs", str(docs)]) == 1
    assert "docs/user-guide.md has no '<!-- generated: menus -->'" in capsys.readouterr().err
