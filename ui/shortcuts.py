"""The keys of every action: the platform's standard bindings, made unambiguous, and when they fire.

Qt's standard keys differ per platform (``QKeySequence.keyBindings`` asks the platform theme
at run time), and on X11 they collide with keys netbuilder documents: X11's Delete includes
Ctrl+D (Emacs), so a Duplicate on Ctrl+D was an "Ambiguous shortcut overload" and did
nothing; X11's Redo has no Ctrl+Y. :func:`action_keys` therefore starts from the platform's
bindings, adds the documented keys every platform gets (:data:`ACTION_KEYS`), and drops a
standard binding that another action claims explicitly. :data:`STANDARD_BINDINGS` holds the
bindings of each keyboard scheme for the keys used here, so a test can check all platforms
from one machine.

The canvas's actions are window-wide (:class:`CanvasAction`): they work wherever the focus
is in the window, except while a text field is being edited, where the keys stay the text's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QLineEdit, QPlainTextEdit, QTextEdit

SK = QKeySequence.StandardKey

# Qt's table (qtbase src/gui/kernel/qplatformtheme.cpp, QPlatformThemePrivate::keyBindings) for
# the standard keys used here, as Qt 6.11 returns them. "windows" and "x11" were read back from
# QKeySequence.keyBindings (offscreen, and xcb on Xvfb; GNOME's and KDE's schemes add nothing to
# X11's for these keys); "macos" is transcribed from the table (Ctrl is Cmd there, Meta is Control).
STANDARD_BINDINGS: dict[str, dict[QKeySequence.StandardKey, tuple[str, ...]]] = {
    "windows": {
        SK.New: ("Ctrl+N", "New"), SK.Open: ("Ctrl+O", "Open"), SK.Save: ("Ctrl+S", "Save"),
        SK.SaveAs: ("Ctrl+Shift+S", "Shift+Save"), SK.Quit: (),
        SK.Undo: ("Ctrl+Z", "Alt+Backspace", "Undo"),
        SK.Redo: ("Ctrl+Y", "Alt+Shift+Backspace", "Ctrl+Shift+Z", "Redo"),
        SK.Delete: ("Del",), SK.SelectAll: ("Ctrl+A",), SK.Cut: ("Ctrl+X", "Shift+Del", "Cut"),
        SK.Copy: ("Ctrl+C", "Ctrl+Ins", "Copy"), SK.Paste: ("Ctrl+V", "Shift+Ins", "Paste"),
        SK.ZoomIn: ("Ctrl++", "Zoom In"), SK.ZoomOut: ("Ctrl+-", "Zoom Out"),
        SK.Close: ("Ctrl+F4", "Ctrl+W", "Close"), SK.HelpContents: ("F1", "Help"),
    },
    "x11": {
        SK.New: ("Ctrl+N", "New"), SK.Open: ("Ctrl+O", "Open"), SK.Save: ("Ctrl+S", "Save"),
        SK.SaveAs: ("Ctrl+Shift+S", "Shift+Save"), SK.Quit: ("Ctrl+Q", "Exit"),
        SK.Undo: ("Ctrl+Z", "F14", "Undo"), SK.Redo: ("Ctrl+Shift+Z", "Redo"),
        SK.Delete: ("Del", "Ctrl+D"), SK.SelectAll: ("Ctrl+A",), SK.Cut: ("Ctrl+X", "Shift+Del", "F20", "Cut"),
        SK.Copy: ("Ctrl+C", "Ctrl+Ins", "F16", "Copy"),
        SK.Paste: ("Ctrl+V", "Ctrl+Shift+Ins", "Shift+Ins", "F18", "Paste"),
        SK.ZoomIn: ("Ctrl++", "Zoom In"), SK.ZoomOut: ("Ctrl+-", "Zoom Out"),
        SK.Close: ("Ctrl+W", "Close"), SK.HelpContents: ("F1", "Help"),
    },
    "macos": {
        SK.New: ("Ctrl+N", "New"), SK.Open: ("Ctrl+O", "Open"), SK.Save: ("Ctrl+S", "Save"),
        SK.SaveAs: ("Ctrl+Shift+S", "Shift+Save"), SK.Quit: ("Ctrl+Q",),
        SK.Undo: ("Ctrl+Z", "Undo"), SK.Redo: ("Ctrl+Shift+Z", "Redo"),
        SK.Delete: ("Del", "Meta+D"), SK.SelectAll: ("Ctrl+A",), SK.Cut: ("Ctrl+X", "Meta+K", "Cut"),
        SK.Copy: ("Ctrl+C", "Copy"), SK.Paste: ("Ctrl+V", "Meta+Y", "Paste"),
        SK.ZoomIn: ("Ctrl++", "Zoom In"), SK.ZoomOut: ("Ctrl+-", "Zoom Out"),
        SK.Close: ("Ctrl+W",), SK.HelpContents: ("Ctrl+?",),
    },
}
SCHEMES = tuple(STANDARD_BINDINGS)


@dataclass(frozen=True)
class Keys:
    """An action's keys: a standard key's platform bindings, plus keys it has on every platform."""

    standard: QKeySequence.StandardKey | None = None
    everywhere: tuple[str, ...] = ()


# Every action with keys, by the menu text it has (without the &). The keys in `everywhere` are
# the documented ones (docs/editor.md) that some platform's standard binding lacks.
ACTION_KEYS: dict[str, Keys] = {
    "New": Keys(SK.New), "Open…": Keys(SK.Open), "Save": Keys(SK.Save),
    "Save As…": Keys(SK.SaveAs, ("Ctrl+Shift+S",)), "Quit": Keys(SK.Quit, ("Ctrl+Q",)),
    "Undo": Keys(SK.Undo, ("Ctrl+Z",)), "Redo": Keys(SK.Redo, ("Ctrl+Shift+Z", "Ctrl+Y")),
    "Delete": Keys(SK.Delete, ("Del",)), "Select All": Keys(SK.SelectAll),
    "Cut": Keys(SK.Cut), "Copy": Keys(SK.Copy), "Paste": Keys(SK.Paste),
    "Duplicate": Keys(None, ("Ctrl+D",)), "Arrange Layers": Keys(None, ("Ctrl+L",)),
    # Blender's Ctrl+Del: delete, keep the wire through; Ctrl+Backspace for keyboards without Del (a Mac's Cmd+⌫).
    "Dissolve": Keys(None, ("Ctrl+Del", "Ctrl+Backspace")),
    "Zoom In": Keys(SK.ZoomIn, ("Ctrl+=",)),  # Ctrl+= too: the + key without Shift
    "Zoom Out": Keys(SK.ZoomOut), "Actual Size": Keys(None, ("Ctrl+0",)),
    "Frame Selection": Keys(None, ("F",)), "Frame All": Keys(None, ("Home",)),
    "Rename Layer…": Keys(None, ("F2",)),  # the file managers' and IDEs' rename key
    # Run: the debugger keys of VS Code and Visual Studio (F5 go, Shift+F5 stop, F6 pause).
    "Train": Keys(None, ("F5",)), "Pause": Keys(None, ("F6",)), "Stop": Keys(None, ("Shift+F5",)),
    "Close": Keys(SK.Close, ("Ctrl+W",)), "User Guide": Keys(SK.HelpContents, ("F1",)),
    "Keyboard Shortcuts": Keys(None, ("Ctrl+/",)),  # as in Google Docs, Slack and many editors
    # Nudge the selected layers a grid step (Shift: ten); only while the canvas has the focus.
    "Nudge Left": Keys(None, ("Left",)), "Nudge Right": Keys(None, ("Right",)),
    "Nudge Up": Keys(None, ("Up",)), "Nudge Down": Keys(None, ("Down",)),
    "Nudge Left ×10": Keys(None, ("Shift+Left",)), "Nudge Right ×10": Keys(None, ("Shift+Right",)),
    "Nudge Up ×10": Keys(None, ("Shift+Up",)), "Nudge Down ×10": Keys(None, ("Shift+Down",)),
}


def _standard(key: QKeySequence.StandardKey, scheme: str | None) -> list[QKeySequence]:
    if scheme is None:
        return list(QKeySequence.keyBindings(key))
    return [QKeySequence(text) for text in STANDARD_BINDINGS[scheme][key]]


def action_keys(name: str, scheme: str | None = None) -> list[QKeySequence]:
    """The keys of action ``name`` (a key of :data:`ACTION_KEYS`) under ``scheme`` (None: this platform's).

    The platform's standard bindings come first (the first is what the menu shows), then the keys
    every platform gets; a standard binding another action names explicitly is left out.
    """
    claimed = {QKeySequence(k) for other, keys in ACTION_KEYS.items() if other != name for k in keys.everywhere}
    keys = ACTION_KEYS[name]
    found: list[QKeySequence] = []
    standard = _standard(keys.standard, scheme) if keys.standard is not None else []
    for sequence in [*(s for s in standard if s not in claimed), *map(QKeySequence, keys.everywhere)]:
        if not sequence.isEmpty() and sequence not in found:
            found.append(sequence)
    return found


def editing_text() -> bool:
    """Whether the keyboard focus is in a text field (a line edit, a spin box, a text box)."""
    widget = QApplication.focusWidget()
    return isinstance(widget, (QLineEdit, QAbstractSpinBox, QTextEdit, QPlainTextEdit))


STABLE_NAME = "stableName"  # a QAction property: its name where its text changes (Undo's "Undo Insert ReLU…")


def action_name(action: QAction) -> str:
    """``action``'s name as lists of actions show it: its stable name when it has one (Undo, Redo), else its text
    without the mnemonic ampersands and any key after a tab."""
    stable = action.property(STABLE_NAME)
    if stable:
        return str(stable)
    return action.text().split("\t")[0].replace("&&", "\0").replace("&", "").replace("\0", "&")


class CanvasAction(QAction):
    """A window-wide action whose keys decline while a text field has the focus.

    The text fields keep what they handle themselves (Del, Ctrl+A, Ctrl+Z, letters); a key
    they do not handle (Ctrl+D in a search box) does nothing there rather than edit the graph.
    A click in the menu always acts.
    """

    def __init__(self, text: str, parent: QObject, name: str | None = None) -> None:
        super().__init__(text, parent)
        name = name if name is not None else text.replace("&", "").split("\t")[0]
        if name in ACTION_KEYS:
            self.setShortcuts(action_keys(name))
        self.setShortcutContext(Qt.ShortcutContext.WindowShortcut)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Shortcut and editing_text():
            return True  # taken and dropped: the text field's key, not the canvas's
        return super().event(event)


def canvas_action(text: str, parent: QObject, slot: Callable[[], object],
                  widgets: Iterable[QObject] = ()) -> CanvasAction:
    """A :class:`CanvasAction` calling ``slot``, added to ``widgets`` so its keys work in their window."""
    action = CanvasAction(text, parent)
    action.triggered.connect(lambda _checked=False: slot())
    for widget in widgets:
        widget.addAction(action)
    return action


def apply_keys(action: QAction, name: str) -> None:
    """Give ``action`` (made elsewhere, e.g. by a QUndoStack) the keys of ``name``."""
    action.setShortcuts(action_keys(name))
