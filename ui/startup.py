"""Start-up order: paint the window first, then load torch in the background, then freeze the heap.

Importing torch takes longer than everything else the window needs together, and the
editor does not need it until something is built (a parameter count, training, export).
So the window shows first; after its first paint a thread imports torch and the engine's
torch-using modules; once they are in, the start-up heap is frozen (``gc.freeze``) so
later garbage collections scan only what the session creates, keeping them out of
interaction.
"""

from __future__ import annotations

import gc
import importlib
import sys
import threading

from PySide6.QtCore import QEvent, QObject, QTimer, Signal

# What building, training and exporting import; loaded after the first paint.
DEFERRED_MODULES = (
    "torch",
    "torch.fx",
    "netbuilder.build.compile",
    "netbuilder.analysis.summary",
    "netbuilder.training.trainer",
)


def torch_loaded() -> bool:
    """Whether torch is in (after start-up's deferred load, or imported by anything else).

    What needs the data in tensors (the data's problems, the Data dock's preview, the device list)
    waits for it, so the first paint never waits for torch; the window refreshes them on ``ready``.
    """
    return "torch" in sys.modules


class Startup(QObject):
    """Watches ``widget`` for its first paint, then loads :data:`DEFERRED_MODULES` off the GUI thread.

    ``painted`` fires once, after the first paint has finished; ``ready`` fires on the GUI
    thread once the deferred modules are imported and the heap is frozen (with an error
    text, empty when all went well)."""

    painted = Signal()
    ready = Signal(str)
    _loaded = Signal(str)

    def __init__(self, widget: QObject, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.is_painted = False
        self.is_ready = False
        self._widget = widget
        self._loaded.connect(self._finish)  # queued: the thread emits it, the GUI thread runs it
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._widget and event.type() == QEvent.Type.Paint and not self.is_painted:
            self.is_painted = True
            self._widget.removeEventFilter(self)
            QTimer.singleShot(0, self._after_paint)  # let this paint reach the screen first
        return False

    def _after_paint(self) -> None:
        self.painted.emit()
        threading.Thread(target=self._load, name="netbuilder-load-torch", daemon=True).start()

    def _load(self) -> None:
        try:
            for name in DEFERRED_MODULES:
                importlib.import_module(name)
        except Exception as exc:  # torch broken or missing: editing still works; say so
            self._loaded.emit(f"Could not load torch ({exc}); building, training and export will not work.")
        else:
            self._loaded.emit("")

    def _finish(self, error: str) -> None:
        gc.freeze()  # the start-up heap (Qt, pyqtgraph, torch) is never scanned again
        self.is_ready = True
        self.ready.emit(error)
