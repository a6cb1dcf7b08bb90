"""Exceptions the engine raises. Each message names the thing and the fix."""

from __future__ import annotations


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
