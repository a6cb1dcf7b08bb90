"""File > Import ONNX… and File > Export (ONNX, PyTorch code, safetensors weights).

Each action calls the same engine function as the command line (:mod:`netbuilder.cli`). The
engine modules that need torch or onnx are imported inside the actions, never at the top, so
the window shows before torch loads. A failure is a message box naming the file and the
reason; nothing is half-written and the open document is untouched.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFileDialog, QMenu, QMessageBox

from netbuilder.errors import NetbuilderError
from ui.document import Document

if TYPE_CHECKING:
    from ui.main_window import MainWindow

ONNX_FILTER = "ONNX models (*.onnx)"
CODE_FILTER = "Python files (*.py)"
WEIGHTS_FILTER = "safetensors weights (*.safetensors)"

# Weights that came with an imported ONNX model, until the project is saved beside them.
_imported_weights: weakref.WeakKeyDictionary[Document, dict[str, Any]] = weakref.WeakKeyDictionary()


def _reason(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, NetbuilderError) else f"unexpected error ({type(exc).__name__}: {exc})"


def _busy(work: Callable[[], Any]) -> Any:
    QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        return work()
    finally:
        QApplication.restoreOverrideCursor()


# ---- import -----------------------------------------------------------------------------------
def import_onnx_file(window: MainWindow, path: str | Path) -> bool:
    """Open ``path`` (an ``.onnx`` file) as a new, unsaved document. False, with a message, if it cannot."""
    path = Path(path)
    try:
        from netbuilder.onnx_import import import_onnx

        project, weights = _busy(lambda: import_onnx(path))
    except Exception as exc:  # a broken or unsupported model: say why, keep what is open
        QMessageBox.warning(window, "Cannot import ONNX model", f"{path.name}: {_reason(exc)}")
        return False
    document = Document(project)
    _imported_weights[document] = weights
    window.set_document(document)
    window.document.undo_stack.resetClean()  # not saved anywhere yet
    window.statusBar().showMessage(f"Imported {path.name}: {len(project.graph)} layers; its weights are saved "
                                   "beside the project when you save it", 8000)
    return True


def import_onnx_dialog(window: MainWindow) -> None:
    if not window._may_discard():
        return
    path, _ = QFileDialog.getOpenFileName(window, "Import ONNX model", "", ONNX_FILTER)
    if path:
        import_onnx_file(window, path)


def save_imported_weights(document: Document) -> Path | None:
    """After a save: write an imported model's weights beside the project (``<name>.safetensors``)."""
    weights = _imported_weights.get(document)
    if weights is None or document.project.path is None:
        return None
    from netbuilder.weights import save_weights

    module = _module(document)
    path = save_weights(module, document.project.path.with_suffix(".safetensors"), {"project": document.project.name})
    del _imported_weights[document]
    return path


# ---- export -----------------------------------------------------------------------------------
def _module(document: Document) -> Any:
    """The compiled model, holding the imported weights if the document came from ONNX."""
    from netbuilder.compile import build_module

    module = build_module(document.project.graph)
    if (weights := _imported_weights.get(document)) is not None:
        module.load_state_dict(weights)
    return module


def _graph_problems(window: MainWindow) -> str | None:
    errors = window.document.inference.errors
    if not errors:
        return None
    return "The graph has problems to fix before it can be exported:\n" + "\n".join(f"  • {p.message}" for p in errors)


def _write_onnx(document: Document, path: Path) -> str:
    from netbuilder.onnx_export import export_onnx

    if document in _imported_weights:  # export the imported weights, through a temporary weights file
        import tempfile

        from netbuilder.weights import save_weights

        with tempfile.TemporaryDirectory() as tmp:
            weights = save_weights(_module(document), Path(tmp) / "weights.safetensors")
            return export_onnx(document.project, path, weights).summary()
    return export_onnx(document.project, path).summary()


def _write_code(document: Document, path: Path) -> str:
    from netbuilder.codegen import generate_source
    from netbuilder.project_json import write_atomic

    project = document.project
    write_atomic(path, generate_source(project, str(project.path) if project.path else None).encode("utf-8"))
    return f"wrote {path}"


def _write_weights(document: Document, path: Path) -> str:
    from netbuilder.training.run import graph_fingerprint
    from netbuilder.weights import save_weights

    module = _module(document)
    meta = {"project": document.project.name, "graph_hash": graph_fingerprint(document.project.graph)}
    saved = save_weights(module, path, meta)
    return f"wrote {saved} ({len(module.state_dict())} tensors)"


EXPORTS: dict[str, tuple[str, str, str, Callable[[Document, Path], str]]] = {
    "onnx": ("&ONNX…", ONNX_FILTER, ".onnx", _write_onnx),
    "code": ("&PyTorch code…", CODE_FILTER, ".py", _write_code),
    "weights": ("&Weights (safetensors)…", WEIGHTS_FILTER, ".safetensors", _write_weights),
}


def export_to(window: MainWindow, kind: str, path: str | Path) -> bool:
    """Export the window's document as ``kind`` (``onnx``, ``code``, ``weights``) to ``path``.

    A graph with problems, or an export the engine refuses, shows the reason in a message box.
    """
    path = Path(path)
    if (problems := _graph_problems(window)) is not None:
        QMessageBox.warning(window, "Cannot export", problems)
        return False
    write = EXPORTS[kind][3]
    try:
        message = _busy(lambda: write(window.document, path))
    except Exception as exc:
        QMessageBox.warning(window, "Cannot export", f"{path.name}: {_reason(exc)}")
        return False
    window.statusBar().showMessage(message, 8000)
    return True


def export_dialog(window: MainWindow, kind: str) -> None:
    title, file_filter, suffix, _ = EXPORTS[kind]
    if (problems := _graph_problems(window)) is not None:  # before asking where: nothing would be written
        QMessageBox.warning(window, "Cannot export", problems)
        return
    project = window.document.project
    start = str(project.path.with_suffix(suffix)) if project.path else f"{project.name}{suffix}"
    path, _ = QFileDialog.getSaveFileName(window, f"Export {title.replace('&', '').rstrip('…')}", start, file_filter)
    if path:
        export_to(window, kind, path)


def build_export_menu(window: MainWindow, parent: QMenu) -> QMenu:
    """File > Export: one entry per format."""
    menu = parent.addMenu("&Export")
    for kind, (title, *_rest) in EXPORTS.items():
        menu.addAction(title, lambda k=kind: export_dialog(window, k))
    return menu
