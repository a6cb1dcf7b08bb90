"""A tiny publish/subscribe event, the way ryvencore and orange-canvas-core's Scheme do it.

The engine emits plain-Python events; the GUI subscribes and redraws. No Qt here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Event:
    """A list of callbacks called in subscription order with the emitted arguments."""

    __slots__ = ("_subscribers", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self._subscribers: list[Callable[..., Any]] = []

    def sub(self, callback: Callable[..., Any]) -> None:
        self._subscribers.append(callback)

    def unsub(self, callback: Callable[..., Any]) -> None:
        self._subscribers.remove(callback)

    def emit(self, *args: Any) -> None:
        for callback in list(self._subscribers):
            callback(*args)

    def __repr__(self) -> str:
        return f"Event({self.name!r}, {len(self._subscribers)} subscribers)"
