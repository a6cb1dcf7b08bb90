"""``python -m netbuilder SUBCOMMAND ...``: the headless command line, without Qt."""

from __future__ import annotations

import sys

from netbuilder.cli import main

if __name__ == "__main__":
    sys.exit(main())
