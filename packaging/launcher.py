"""The bundle's entry point (packaging/netbuilder.spec): the ``netbuilder`` script's own ``main``.

One executable is both the desktop app and the command line: ``netbuilder check ...`` and the training
worker's ``netbuilder train ...`` go to the headless CLI before Qt loads (ui/entry.py).
"""

import multiprocessing
import sys

from ui.entry import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # a child started by multiprocessing runs its task, not the app
    sys.exit(main())
