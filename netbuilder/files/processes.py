"""Whether a process is still running, on every platform: what decides that a lock, an autosave or a
run whose writer has gone is abandoned.

POSIX asks with ``os.kill(pid, 0)`` (signal 0 sends nothing). On Windows ``os.kill`` never only asks:
signal 0 is ``CTRL_C_EVENT`` there, sent to the process group ``pid``, and any other number ends the
process. So Windows asks the kernel for the process's exit code instead.
"""

from __future__ import annotations

import os
import sys

STILL_ACTIVE = 259  # GetExitCodeProcess's answer for a process that has not exited
PROCESS_QUERY_LIMITED_INFORMATION = 0x1000


def pid_alive(pid: int) -> bool:
    """Whether a process with this id is running (another user's counts as running)."""
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    if sys.platform == "win32":
        import ctypes

        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
        handle = kernel32.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, False, pid)
        if not handle:
            return False
        code = ctypes.c_ulong()
        try:
            return bool(kernel32.GetExitCodeProcess(handle, ctypes.byref(code))) and code.value == STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: alive, but someone else's
        return True
    return True
