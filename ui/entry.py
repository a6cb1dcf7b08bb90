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
    print("netbuilder: the desktop app is not built yet (see the open GUI issue).\n"
          "Headless commands work now: netbuilder check FILE, netbuilder summary FILE "
          "(FILE may be a built-in example: mnist_cnn, lstm_sequence, ...).", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
