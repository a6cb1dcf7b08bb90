"""Exceptions the engine raises. Each message names the thing and the fix."""

from __future__ import annotations

import errno

# What to do about the file system's own refusals: said after its words, e.g. "No space left on device".
OS_FIXES = {errno.EACCES: "choose a place you can write to, or change its permissions",
            errno.EPERM: "choose a place you can write to, or change its permissions",
            errno.EROFS: "the file system is read-only; choose another place",
            errno.ENOSPC: "free some disk space and try again",
            errno.EDQUOT: "free some disk space (your quota is full) and try again",
            errno.ENOENT: "check the path"}


def os_problem(exc: OSError) -> str:
    """The system's reason for ``exc`` and, when known, what to do: "No space left on device; free some
    disk space and try again". The file is not named: the caller says which file and what it was doing."""
    fix = OS_FIXES.get(exc.errno or 0)
    return f"{exc.strerror or exc}" + (f"; {fix}" if fix else "")


class NetbuilderError(Exception):
    """Base class of every error the engine reports to a user."""


class DataError(NetbuilderError):
    """A data set could not be read or does not fit the model; the message says how to fix it.

    (Defined here, torch-free, so the GUI can catch it before torch is loaded; also importable from
    :mod:`netbuilder.data.dataset`.)"""


class EditRefused(NetbuilderError):
    """An edit was refused; the graph is unchanged. ``str(err)`` is the reason."""


class ProjectError(NetbuilderError):
    """A project file could not be read or written.

    Parameters
    ----------
    message:
        What is wrong and how to fix it.
    path:
        The JSON path of the offending value, e.g. ``$.graph.nodes[3].params.out_features``.
    file:
        The file the error was found in, when known.
    """

    def __init__(self, message: str, path: str = "$", file: str | None = None) -> None:
        self.message = message
        self.path = path
        self.file = file
        where = f"{file}: " if file else ""
        at = "" if path == "$" else f"at {path}: "  # the whole file: no path to point at
        super().__init__(f"{where}{at}{message}")


class CompileError(NetbuilderError):
    """The graph has problems that stop it becoming a torch module."""
