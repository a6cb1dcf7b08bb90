"""Whether a process runs, asked without harming it on any platform: on Windows ``os.kill(pid, 0)`` sends
Ctrl+C to the process group ``pid`` (signal 0 is CTRL_C_EVENT there), so no code may ask that way."""

from __future__ import annotations

import ctypes
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from netbuilder.files import processes
from netbuilder.files.processes import pid_alive

ROOT = Path(__file__).resolve().parents[2]


def test_a_running_process_is_alive_and_an_ended_one_is_not() -> None:
    assert pid_alive(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert pid_alive(child.pid)
    finally:
        child.kill()
        child.wait()
    assert not pid_alive(child.pid)
    assert not pid_alive(0) and not pid_alive(-5)


def test_on_windows_the_kernel_is_asked_and_os_kill_never_called(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple] = []

    class Kernel32:
        def OpenProcess(self, access, inherit, pid):
            calls.append(("open", access, pid))
            return 7 if pid == 4242 else 0

        def GetExitCodeProcess(self, handle, code_ref):
            code_ref._obj.value = processes.STILL_ACTIVE
            return 1

        def CloseHandle(self, handle):
            calls.append(("close", handle))

    def no_kill(*args):
        raise AssertionError(f"os.kill{args} on Windows: it would send Ctrl+C or end the process")

    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(ctypes, "windll", type("WinDLL", (), {"kernel32": Kernel32()})(), raising=False)
    monkeypatch.setattr(os, "kill", no_kill)
    assert pid_alive(4242)
    assert not pid_alive(4243)
    assert ("close", 7) in calls


def test_no_code_asks_with_os_kill_but_the_one_helper() -> None:
    asking = re.compile(r"os\.kill\([^)]*,\s*0\s*\)")
    files = [path for folder in ("netbuilder", "ui") for path in (ROOT / folder).rglob("*.py")]
    found = [f"{path.relative_to(ROOT)}:{n}" for path in files
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if asking.search(line) and path.name != "processes.py"]
    assert found == [], f"use netbuilder.files.processes.pid_alive: {found}"
