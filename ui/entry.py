"""The ``netbuilder`` script.

Subcommands go to the headless CLI before anything imports Qt, so ``netbuilder check``
works on a machine without a display or without PySide6.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    from netbuilder.cli import SUBCOMMANDS
    from netbuilder.cli import main as cli_main

    if args and (args[0] in SUBCOMMANDS or args[0].startswith("-")):
        return cli_main(args)
    if len(args) > 1:
        print("usage: netbuilder [FILE.nbproj] | netbuilder COMMAND ... (check, summary, train, export, codegen, "
              "import; --help for more)", file=sys.stderr)
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
