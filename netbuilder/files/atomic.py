"""Writing files so that a crash leaves the old file or the new one, never half of either.

Every file netbuilder writes (projects, autosaves, weights, checkpoints, ONNX models,
generated code, training data) goes through here: the bytes go to a temporary file in the
target's own folder (a rename across file systems is not atomic), the file is fsynced, renamed
over the target with ``os.replace``, and the folder is fsynced so the rename itself survives
a power cut. On any failure, an interrupt included, the temporary file is removed and the
target is untouched. A writer killed outright (SIGKILL, the power) cannot remove its temporary
file, so the next write of the same target removes those whose writer is gone.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from netbuilder.errors import NetbuilderError
from netbuilder.files.processes import pid_alive


class WriteError(NetbuilderError, OSError):
    """A file cannot be written where it was asked for (the folder is missing, is a file, or is
    read-only); nothing was written. An OSError too, so callers that catch those keep working.

    ``reason`` is the message without the file name, for callers that name the file themselves.
    """

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"cannot write {path}: {reason}")
        self.path, self.reason = path, reason


def check_writable(path: str | os.PathLike[str]) -> Path:
    """The real target of ``path`` (links followed), or WriteError saying why it cannot be written.

    Called before an expensive export, so a missing folder is reported before the work, and
    in the folder's own name rather than as a failure of whatever was being written.
    """
    shown = Path(path)
    target = Path(os.path.realpath(path))
    folder = target.parent
    if target.is_dir():
        raise WriteError(shown, "that is a folder; give a file name inside it")
    if not folder.exists():
        missing = folder
        while not missing.parent.exists():  # name the first folder that is missing
            missing = missing.parent
        raise WriteError(shown, f"the folder {missing} does not exist; create it or choose another folder")
    if not folder.is_dir():
        raise WriteError(shown, f"{folder} is a file, not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise WriteError(shown, f"the folder {folder} is read-only for you; choose a folder you can write to")
    return target


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], own_folder: bool = False) -> Iterator[Path]:
    """A temporary file name beside ``path`` for a writer that takes a name (safetensors, onnx,
    torch.onnx.export); when the block ends normally the file is synced and renamed over ``path``.

    A new file gets the usual permissions (the umask applies), a replaced one keeps its own;
    a symbolic link is followed, so its target is replaced and the link stays. ``own_folder`` puts
    the name in a private folder, for a writer that makes its own temporary file beside the name it
    is given (safetensors 0.8 does, mode 0600 and unsynced): what it leaves when killed goes with
    the folder.
    """
    target = check_writable(path)
    try:
        mode: int | None = os.stat(target).st_mode & 0o7777
    except FileNotFoundError:
        mode = None
    _remove_abandoned(target)
    holder = tmp = target.with_name(f".{target.name}.{_HOST}-{os.getpid()}-{secrets.token_hex(6)}.tmp")
    try:
        if own_folder:
            os.mkdir(holder, 0o700)  # as exclusive as O_EXCL below
            tmp = holder / target.name
        # O_EXCL reserves the name, so two writers never share a temporary file.
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666))
        if mode is None:  # what the umask leaves of 0o666, whatever mode the writer gives its own file
            mode = os.stat(tmp).st_mode & 0o7777
        yield tmp
        fd = os.open(tmp, os.O_RDWR | getattr(os, "O_BINARY", 0))  # Windows syncs only writable handles
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        _remove(holder)
        raise
    if own_folder:
        _remove(holder)
    _sync_folder(target.parent)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            path.unlink()


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """An open binary file that replaces ``path`` when the block ends normally (see :func:`atomic_path`)."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        yield f
        f.flush()


def write_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace ``path`` by ``data`` so that a crash leaves either the old file or the new one."""
    with atomic_path(path) as tmp:
        fd = os.open(tmp, os.O_WRONLY | os.O_TRUNC | getattr(os, "O_BINARY", 0))
        with os.fdopen(fd, "wb") as f:
            f.write(data)


# Which machine a temporary file's writer ran on (a folder may be shared over the network, where
# another machine's process ids mean nothing here).
_HOST = f"{zlib.crc32(socket.gethostname().encode()):08x}"
# A temporary file whose writer cannot be asked about (another machine, Windows, an older name
# without a process id) is taken as abandoned only this long after it was last written.
_STALE_AFTER_S = 24 * 3600


def _remove_abandoned(target: Path) -> None:
    """Remove the temporary files of ``target`` left by writers killed mid-write (by SIGKILL or a
    crash): without this, each such kill leaves a hidden copy (a checkpoint can be gigabytes)."""
    prefix = f".{target.name}."
    try:
        names = [n for n in os.listdir(target.parent) if n.startswith(prefix) and n.endswith(".tmp")]
    except OSError:
        return
    for name in names:
        host, _, rest = name[len(prefix):-len(".tmp")].partition("-")
        pid = rest.partition("-")[0]
        path = target.parent / name
        if host == _HOST and pid.isdigit() and os.name == "posix":
            abandoned = _process_gone(int(pid))
        else:
            try:
                abandoned = time.time() - path.stat().st_mtime > _STALE_AFTER_S
            except OSError:
                continue
        if abandoned:
            _remove(path)


def _process_gone(pid: int) -> bool:
    return not pid_alive(pid)


def _sync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # some platforms cannot open folders; the rename is done anyway
        return
    try:
        os.fsync(fd)
    except OSError:  # nor can every file system sync one
        pass
    finally:
        os.close(fd)


__all__ = ["WriteError", "atomic_file", "atomic_path", "check_writable", "write_atomic"]
