"""Save crash-safety: a writer killed with SIGKILL at random moments, 200 times for each kind of file.

A project, weights (safetensors), a training checkpoint and the run history (SQLite) are each saved
over and over by a forked child (tests/engine/crash_saves_child.py) that is killed at a random
moment; after every kill the file loads with netbuilder's own loader, as exactly the version saved
before or the one being saved, and the history passes ``PRAGMA integrity_check``. Two interpreters
serve all 800 kills (writers are forked from them), so torch is imported once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
KINDS = ("project", "weights", "checkpoint", "history")
KILLS = 200

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the writers are forked; POSIX only")


@pytest.fixture(scope="module")
def crashes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("crashes")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    # Two killers side by side: most of their time is spent waiting on the disk, not the CPU. The first
    # never imports torch, so its forks are cheap.
    killers = [subprocess.Popen([sys.executable, "-m", "tests.engine.crash_saves_child", kinds, str(folder),
                                 str(KILLS), "20261201"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
               for kinds in ("project,history", "weights,checkpoint")]
    figures = []
    for killer in killers:
        out, err = killer.communicate(timeout=300)
        assert killer.returncode == 0, err[-3000:]
        figures += [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return {f["kind"]: f for f in figures}


@pytest.mark.parametrize("kind", KINDS)
def test_a_file_killed_mid_save_loads_as_the_old_or_the_new_version(crashes, kind: str) -> None:
    figures = crashes[kind]
    assert figures["failures"] == []
    assert figures["kills"] == KILLS  # every writer died by SIGKILL, none stopped by itself
    # Most kills landed inside a save (the rest between two); "new" ones came after the rename.
    assert figures["old"] + figures["new"] >= KILLS // 2, figures
    assert figures["final_ok"]


@pytest.mark.parametrize("kind", ["project", "weights", "checkpoint"])
def test_the_next_save_removes_what_killed_saves_left(crashes, kind: str) -> None:
    figures = crashes[kind]
    assert figures["kills_leaving_temps"] > 0  # kills leave temporary files behind...
    assert figures["most_temps"] == 1  # ...which the next save removes (it adds its own)
    assert figures["temps_left"] == []  # ...as an ordinary save at the end did
    assert figures["files"] == [f"file{'.nbproj' if kind == 'project' else '.safetensors'}"]
