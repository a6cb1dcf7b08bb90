"""Writes docs/images/toolbar_light.png and toolbar_dark.png (the main window with its toolbar, in each theme)
and shortcut_sheet.png (Help ▸ Keyboard Shortcuts, filtered as a user would). Settings go to a temporary
folder, so the pictures do not depend on this machine's saved layout.

    QT_QPA_PLATFORM=offscreen python docs/chrome_screenshots.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

THEMES = ("light", "dark")


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    private = tempfile.mkdtemp(prefix="netbuilder-screenshots-")  # read by Qt once the app exists
    os.environ["XDG_CONFIG_HOME"] = os.path.join(private, "config")
    os.environ["NETBUILDER_DATA_DIR"] = os.path.join(private, "data")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from ui import settings
    from ui.files.last_project import example_document
    from ui.main_window import MainWindow

    out = Path(__file__).with_name("images")
    for theme in THEMES:
        settings.set_theme(theme)
        window = MainWindow(example_document())
        window.resize(1400, 860)
        window.show()
        QTest.qWait(200)
        window.grab().save(str(out / f"toolbar_{theme}.png"))
        print("wrote", out / f"toolbar_{theme}.png")
        if theme == "light":
            sheet = window.help_menu.show_shortcuts()
            sheet.resize(620, 600)
            QTest.qWait(100)
            QTest.keyClicks(sheet.filter, "ctrl+")  # the Ctrl keys
            QTest.qWait(50)
            sheet.grab().save(str(out / "shortcut_sheet.png"))
            print("wrote", out / "shortcut_sheet.png")
            sheet.close()
        window.document.undo_stack.setClean()
        window.close()
    app.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
