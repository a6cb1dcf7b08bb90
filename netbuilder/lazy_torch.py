"""``torch`` and ``torch.nn`` imported on first use, not at import.

Importing torch takes a second or two; the GUI shows its window first and loads torch
after the first paint. Layer specs, shape inference and project files need no torch, so
the modules behind them refer to torch through these stand-ins. Any attribute access
(``nn.Linear``, ``torch.cat``) imports the real module and answers from it.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import Any


class LazyModule:
    """Stands for a module until an attribute is read; then imports it and delegates."""

    def __init__(self, name: str) -> None:
        self._name = name

    def _module(self) -> ModuleType:
        module = sys.modules.get(self._name)
        return module if module is not None else importlib.import_module(self._name)

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._module(), attr)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


torch: Any = LazyModule("torch")
nn: Any = LazyModule("torch.nn")
