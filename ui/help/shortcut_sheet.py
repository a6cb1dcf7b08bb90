"""Help ▸ Keyboard Shortcuts: every key of the window, read from its actions when the sheet opens.

Nothing here lists keys by hand: the rows come from the window's menus and actions at the moment
the sheet is shown, so the sheet cannot drift from what the keys do. A filter field narrows the
table to the rows holding every word typed (in the action, the key or the menu).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QAction, QKeySequence, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ui.shortcuts import action_name

COLUMNS = ("Action", "Shortcut", "Menu")
NO_MENU = "(window)"  # a key that works in the window without being in a menu
FAR_KEYS = {Qt.Key.Key_Menu}  # keys of an ordinary keyboard that Qt numbers past F12


@dataclass(frozen=True)
class ShortcutRow:
    """One action with keys: its text, its keys as the platform writes them, and where it is in the menus."""

    action: str
    keys: str
    menu: str


def _plain(text: str) -> str:
    return text.split("\t")[0].replace("&&", "\0").replace("&", "").replace("\0", "&")


def on_a_keyboard(sequence: QKeySequence) -> bool:
    """Whether ``sequence`` is typed on an ordinary keyboard: not a dedicated New, Copy or Help key, nor F13-F35
    (the platform's standard bindings include them; the sheet lists what a user can press)."""
    if sequence.isEmpty():
        return False
    key = sequence[0].key()
    return key.value <= Qt.Key.Key_F12.value or key in FAR_KEYS  # Qt numbers the keys of a keyboard first


def action_keys_text(action: QAction) -> str:
    """``action``'s keys as the platform writes them ("Ctrl+Shift+Z, Ctrl+Y"); a key shown after a tab
    in its text (Tab for Quick Add, which the canvas handles itself) when it has no shortcut."""
    keys = [k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts() if on_a_keyboard(k)]
    if not keys and "\t" in action.text():
        keys = [action.text().split("\t", 1)[1]]
    return ", ".join(keys)


def _menu_places(window: QMainWindow) -> dict[int, tuple[QAction, list[str]]]:
    """Every action in the menu bar, by id, with the menus it is in ("File ▸ Export")."""
    found: dict[int, tuple[QAction, list[str]]] = {}

    def walk(menu: QMenu, path: str) -> None:
        for action in menu.actions():
            if action.menu() is not None:
                walk(action.menu(), f"{path} ▸ {_plain(action.menu().title())}")
            elif not action.isSeparator():
                places = found.setdefault(id(action), (action, []))[1]
                if path not in places:
                    places.append(path)

    for top in window.menuBar().actions():
        if top.menu() is not None:
            walk(top.menu(), _plain(top.menu().title()))
    return found


def shortcut_rows(window: QMainWindow) -> list[ShortcutRow]:
    """Every action of ``window`` that has keys, in menu order, then those in no menu."""
    placed = _menu_places(window)
    rows = [ShortcutRow(action_name(action), keys, ", ".join(places))
            for action, places in placed.values() if (keys := action_keys_text(action))]
    loose = {id(a): a for a in [*window.actions(), *window.findChildren(QAction)] if id(a) not in placed}
    rows += [ShortcutRow(action_name(a), keys, NO_MENU) for a in loose.values()
             if a.text() and (keys := action_keys_text(a))]
    return rows


def _word_matches(word: str, cells: list[str]) -> bool:
    """Whether filter ``word`` (casefolded) is in a row's ``cells``: a key (``ctrl+s``) must be one of the row's
    keys (Ctrl+Shift+S is no match for it), ``ctrl+shift+`` begins one; any other word is found anywhere."""
    text = " ".join(cells).casefold()
    if "+" not in word:
        return word in text
    keys = [k.strip().casefold() for k in cells[1].split(",")]
    if word.endswith("+"):
        return any(k.startswith(word) for k in keys)
    wanted = QKeySequence(word).toString(QKeySequence.SequenceFormat.NativeText).casefold() or word
    return wanted in keys or word in keys


class WordsFilter(QSortFilterProxyModel):
    """Keeps the rows that hold every word of the filter (see :func:`_word_matches`), case aside."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._words: list[str] = []

    def set_words(self, text: str) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt 6.9+ (6.10 deprecates invalidateFilter)
            self.beginFilterChange()
            self._words = text.casefold().split()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self._words = text.casefold().split()
            self.invalidateFilter()

    def filterAcceptsRow(self, row: int, parent: QModelIndex | QPersistentModelIndex) -> bool:
        model = self.sourceModel()
        cells = [str(model.index(row, c, parent).data() or "") for c in range(model.columnCount())]
        return all(_word_matches(word, cells) for word in self._words)


class ShortcutSheet(QDialog):
    """A searchable table of ``window``'s keys (action, shortcut, menu), rebuilt each time it is shown."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self._window = window
        self.setWindowTitle("Keyboard Shortcuts — netbuilder")
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter: an action, a key or a menu (e.g. undo, ctrl+s, run)")
        self.filter.setClearButtonEnabled(True)
        self.model = QStandardItemModel(0, len(COLUMNS), self)
        self.model.setHorizontalHeaderLabels(list(COLUMNS))
        self.proxy = WordsFilter(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # menu order until a header is clicked
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.count = QLabel()
        layout = QVBoxLayout(self)
        layout.addWidget(self.filter)
        layout.addWidget(self.table)
        layout.addWidget(self.count)
        self.filter.textChanged.connect(self._filter)
        self.resize(620, 560)

    def rows(self) -> list[ShortcutRow]:
        """The rows shown now (after the filter), top to bottom."""
        return [ShortcutRow(*(str(self.proxy.index(r, c).data()) for c in range(len(COLUMNS))))
                for r in range(self.proxy.rowCount())]

    def refresh(self) -> None:
        """Read the window's actions again (their keys and menus as they are now)."""
        self.model.removeRows(0, self.model.rowCount())
        for row in shortcut_rows(self._window):
            items = [QStandardItem(row.action), QStandardItem(row.keys), QStandardItem(row.menu)]
            self.model.appendRow(items)
        self._filter(self.filter.text())

    def showEvent(self, event) -> None:
        self.refresh()
        super().showEvent(event)
        self.filter.setFocus()

    def _filter(self, text: str) -> None:
        self.proxy.set_words(text)
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        self.count.setText(f"{total} shortcuts" if shown == total else f"{shown} of {total} shortcuts")
