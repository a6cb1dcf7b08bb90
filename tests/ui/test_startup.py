"""Start-up: the window paints before torch is imported; torch loads afterwards and the heap is frozen."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

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


def private_env(tmp_path) -> dict[str, str]:
    """Offscreen, with settings and autosaves in ``tmp_path``, not the user's."""
    return {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "NETBUILDER_DATA_DIR": str(tmp_path / "data")}


def test_window_paints_before_torch_loads_then_torch_loads_and_the_heap_is_frozen(tmp_path):
    env = private_env(tmp_path)
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "painted; torch imported: False", out.stdout
    assert lines[1] == "ready; torch imported: True frozen: True status: Ready error: ''", out.stdout


OPEN_FILE = """
import sys
from ui.app import open_window
app, window, startup = open_window(sys.argv[1])
startup.painted.connect(lambda: (print("painted; torch imported:", "torch" in sys.modules, flush=True), app.quit()))
app.exec()
"""


def test_a_project_opened_from_its_file_paints_before_torch_loads_too(tmp_path):
    """A saved project lists its runs (beside its file) in the Runs dock at start-up: that lookup must not
    import torch, or reopening one's own project waits for torch before the first paint."""
    from netbuilder import load_project
    from netbuilder.examples import example_path

    path = load_project(example_path("mnist_cnn")).save(tmp_path / "mine.nbproj")
    (tmp_path / "mine-runs").mkdir()
    out = subprocess.run([sys.executable, "-c", OPEN_FILE, str(path)], capture_output=True, text=True,
                         env=private_env(tmp_path), timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0] == "painted; torch imported: False", out.stdout


BROKEN = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from ui.app import open_window
app, window, startup = open_window(sys.argv[1])
def report():
    box = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible())
    print("title:", window.windowTitle(), flush=True)
    print("message:", box.text().replace(chr(10), " "), flush=True)
    box.close()
    app.quit()
startup.painted.connect(lambda: QTimer.singleShot(100, report))
app.exec()
"""


def test_a_broken_project_on_the_command_line_is_named_and_the_window_opens_on_the_example(tmp_path):
    broken = tmp_path / "broken.nbproj"
    broken.write_text("{ not json")
    out = subprocess.run([sys.executable, "-c", BROKEN, str(broken)], capture_output=True, text=True,
                         env=private_env(tmp_path), timeout=120)
    assert out.returncode == 0, out.stderr
    assert "title: Digits CNN[*] — netbuilder" in out.stdout, out.stdout  # the example, not the file
    assert f"message: Could not open {broken}" in out.stdout, out.stdout


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11/Wayland displays are a Linux matter")
def test_without_a_display_the_app_says_so_instead_of_aborting(tmp_path):
    env = {k: v for k, v in private_env(tmp_path).items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    out = subprocess.run([sys.executable, "-m", "ui.entry"], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 2
    assert "no display" in out.stderr and "netbuilder --help" in out.stderr


QUIT = """
import sys
from PySide6.QtCore import QTimer
import ui.app as app_module
opened = app_module.open_window
def open_then_quit(path):
    app, window, startup = opened(path)
    startup.painted.connect(lambda: QTimer.singleShot(200, window.close))
    return app, window, startup
app_module.open_window = open_then_quit
app_module.run_app(None)
"""


def test_quitting_the_app_exits_0_with_its_window_layout_saved(tmp_path):
    """The app leaves without Python's teardown (it aborted now and then with torch and ONNX Runtime loaded),
    so what must be on disk is written first: the window's layout, read back by the next start."""
    env = private_env(tmp_path)
    for _ in range(2):
        out = subprocess.run([sys.executable, "-c", QUIT], capture_output=True, text=True, env=env, timeout=120)
        assert out.returncode == 0, (out.returncode, out.stderr[-2000:])
        assert "terminate called" not in out.stderr
    saved = list((tmp_path / "config").rglob("*.conf")) + list((tmp_path / "config").rglob("*.ini"))
    assert saved and any("geometry" in f.read_text(errors="replace") for f in saved), saved
