"""The ``netbuilder`` script.

Subcommands go to the headless CLI before anything imports Qt, so ``netbuilder check``
works on a machine without a display or without PySide6.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence


def no_display() -> bool:
    """On Linux without X11 or Wayland (and no QT_QPA_PLATFORM chosen), Qt would abort the process."""
    return (sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM")
            and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"))


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["--self-test"]:  # the installed app checks itself, window included (ui/self_test.py)
        try:
            from ui.self_test import main as self_test
        except ImportError as exc:
            print(f"netbuilder --self-test: the desktop app needs PySide6 and pyqtgraph ({exc}); "
                  "install netbuilder[gui]", file=sys.stderr)
            return 2
        return self_test()
    from netbuilder.cli import SUBCOMMANDS
    from netbuilder.cli import main as cli_main

    if args and (args[0] in SUBCOMMANDS or args[0].startswith("-")):
        return cli_main(args)
    if len(args) > 1:
        print("usage: netbuilder [FILE.nbproj] | netbuilder COMMAND ... (check, summary, train, export, codegen, "
              "import; --help for more) | netbuilder --self-test", file=sys.stderr)
        return 2
    if no_display():
        print("netbuilder: no display to open the window on (neither DISPLAY nor WAYLAND_DISPLAY is set). "
              "Run it in a desktop session, or use the headless commands: netbuilder --help", file=sys.stderr)
        return 2
    try:
        from ui.app import run_app
    except ImportError as exc:
        print(f"netbuilder: the desktop app needs PySide6 and pyqtgraph ({exc}); install netbuilder[gui]. "
              "Headless commands work without them: netbuilder --help", file=sys.stderr)
        return 2
    return run_app(args[0] if args else None)


if __name__ == "__main__":
    sys.exit(main())
