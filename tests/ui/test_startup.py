"""Start-up: the window paints before torch is imported; torch loads afterwards and the heap is frozen."""

from __future__ import annotations

import os
import subprocess
import sys

CHILD = """
import gc, sys
from ui.app import open_window
app, window, startup = open_window()
startup.painted.connect(lambda: print("painted; torch imported:", "torch" in sys.modules, flush=True))
def ready(error):
    print("ready; torch imported:", "torch" in sys.modules, "frozen:", gc.get_freeze_count() > 0,
          "status:", window.statusBar().currentMessage(), "error:", repr(error), flush=True)
    app.quit()
startup.ready.connect(ready)
app.exec()
"""


def test_window_paints_before_torch_loads_then_torch_loads_and_the_heap_is_frozen():
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "painted; torch imported: False", out.stdout
    assert lines[1] == "ready; torch imported: True frozen: True status: Ready error: ''", out.stdout
