"""``netbuilder --self-test``: every step runs and says so; a broken step ends it with exit 1, named.

The test runs the command as a user does, in a child process with no display and no
QT_QPA_PLATFORM (the self-test chooses offscreen itself) and with the user's folders pointed at
empty ones, which must stay empty: the self-test keeps everything it writes to itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

STEPS = ("window", "examples", "compile", "train", "export", "onnxruntime", "import")
RUN = "import sys; from ui.entry import main; sys.exit(main(['--self-test']))"

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a Linux machine without a display")


def run_self_test(tmp_path: Path, before: str = "") -> subprocess.CompletedProcess:
    """The self-test in a child without a display; ``before`` runs first (to break something)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        env[name] = str(tmp_path / "user" / name)
    env.pop("NETBUILDER_DATA_DIR", None)
    if env.get("PYTHONPATH"):  # the child runs in tmp_path: a relative entry (".") must keep naming this checkout
        env["PYTHONPATH"] = os.pathsep.join(str(Path(p).resolve()) for p in env["PYTHONPATH"].split(os.pathsep))
    return subprocess.run([sys.executable, "-c", before + "\n" + RUN], capture_output=True, text=True, env=env,
                          timeout=300, cwd=tmp_path)


def step_lines(stdout: str) -> dict[str, str]:
    """Each step's line, by its name: '  name  ok  1.23 s  what it did'."""
    found = {}
    for line in stdout.splitlines():
        words = line.split()
        if line.startswith("  ") and words and words[0] in STEPS:
            found[words[0]] = line
    return found


def netbuilder_files(tmp_path: Path) -> list[Path]:
    """What netbuilder wrote in the user's folders (ONNX Runtime keeps a device id of its own in the cache)."""
    return [p for p in (tmp_path / "user").rglob("*") if p.is_file() and "netbuilder" in str(p.relative_to(tmp_path))]


def test_the_self_test_runs_every_step_offscreen_and_exits_0(tmp_path):
    out = run_self_test(tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = step_lines(out.stdout)
    assert list(lines) == list(STEPS), out.stdout
    for line in lines.values():
        assert line.split()[1:4:2] == ["ok", "s"], line  # "ok", the time, "s"
        float(line.split()[2])
    assert "on the offscreen platform" in lines["window"]
    shipped = len(list((Path(__file__).parents[2] / "docs").glob("*.md")))  # what the user guide lists
    assert f"icon and {shipped} user-guide pages found" in lines["window"], lines["window"]
    assert "5 opened in the window with no errors" in lines["examples"]
    assert "on the app's worker process: stopped after" in lines["train"]
    assert "ONNX Runtime matches torch" in lines["export"]
    assert "its output matches ONNX Runtime" in lines["import"]
    assert out.stdout.splitlines()[-1].startswith("self-test passed: 7 steps in ")
    assert netbuilder_files(tmp_path) == []  # none of the user's settings, autosaves or runs was written
    assert not list(tmp_path.glob("*.nbproj")) and not list(tmp_path.glob("*-runs"))


BREAK_EXPORT = """
import netbuilder.onnx.exporter as exporter
def refuse(*args, **kwargs):
    raise exporter.ExportError("the exporter was broken on purpose")
exporter.export_onnx = refuse
"""


def test_a_failing_export_ends_the_self_test_with_exit_1_naming_the_step_and_its_error(tmp_path):
    out = run_self_test(tmp_path, BREAK_EXPORT)
    assert out.returncode == 1, out.stdout + out.stderr
    lines = step_lines(out.stdout)
    assert list(lines) == ["window", "examples", "compile", "train", "export"], out.stdout  # none after it
    assert " FAILED " in lines["export"] and "the exporter was broken on purpose" in lines["export"]
    last = out.stdout.splitlines()[-1]
    assert last == "self-test FAILED at step 'export': ExportError: the exporter was broken on purpose"


CORRUPT_EXAMPLE = """
import pathlib, tempfile, netbuilder.examples as examples
real = examples.example_path
corrupt = pathlib.Path(tempfile.mkdtemp()) / "lstm_sequence.nbproj"
corrupt.write_text('{"format": "netbuilder-project", "graph": {"nodes": [')
examples.example_path = lambda name: corrupt if name == "lstm_sequence" else real(name)
"""


def test_a_corrupt_example_fails_the_self_test_naming_the_file(tmp_path):
    out = run_self_test(tmp_path, CORRUPT_EXAMPLE)
    assert out.returncode == 1, out.stdout + out.stderr
    last = out.stdout.splitlines()[-1]
    # File ▸ Open Example lists every example's title, so the window is the first to read it.
    assert last.startswith("self-test FAILED at step 'window': ProjectError: "), out.stdout
    assert "lstm_sequence.nbproj: not valid JSON" in last, out.stdout
    assert "examples" not in step_lines(out.stdout)
