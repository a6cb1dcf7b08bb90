"""File > Import ONNX… and File > Export (ONNX, PyTorch code, safetensors weights).

Each action calls the same engine function as the command line (:mod:`netbuilder.cli`). The
engine modules that need torch or onnx are imported inside the actions, never at the top, so
the window shows before torch loads. A failure is a message box naming the file and the
reason; nothing is half-written and the open document is untouched.
"""

from __future__ import annotations

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
PROJECT_FILTER = "netbuilder projects (*.nbproj)"

def _reason(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, NetbuilderError) else f"unexpected error ({type(exc).__name__}: {exc})"


def _busy(work: Callable[[], Any]) -> Any:
    QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        return work()
    finally:
        QApplication.restoreOverrideCursor()


# ---- import -----------------------------------------------------------------------------------
def import_onnx_file(window: MainWindow, path: str | Path, out: str | Path) -> bool:
    """Import ``path`` (an ``.onnx`` file) as the project ``out`` with its weights beside it, as
    ``netbuilder import`` does, and open it. False, with a message, if it cannot; then nothing is written."""
    path, out = Path(path), Path(out)
    try:
        from netbuilder.onnx.importer import import_onnx_project

        project, weights = _busy(lambda: import_onnx_project(path, out))
    except Exception as exc:  # a broken or unsupported model: say why, keep what is open
        QMessageBox.warning(window, "Cannot import ONNX model", f"{path.name}: {_reason(exc)}")
        return False
    window.open_path(out)
    window.statusBar().showMessage(f"Imported {path.name}: {len(project.graph)} layers in {out.name}, "
                                   f"weights in {weights.name}", 8000)
    return True


def import_onnx_dialog(window: MainWindow) -> None:
    if not window._may_discard():
        return
    path, _ = QFileDialog.getOpenFileName(window, "Import ONNX model", "", ONNX_FILTER)
    if not path:
        return
    out, _ = QFileDialog.getSaveFileName(window, "Save the imported model as a project",
                                         str(Path(path).with_suffix(".nbproj")), PROJECT_FILTER)
    if out:
        import_onnx_file(window, path, out)


# ---- export -----------------------------------------------------------------------------------
def _module(document: Document) -> tuple[Any, str]:
    """The compiled model with the project's own weights (beside its file) where they still fit,
    and a note saying which weights it holds (the same choice as ``netbuilder export``)."""
    from netbuilder.build.compile import build_module
    from netbuilder.files.weights import load_project_weights

    module = build_module(document.project.graph)
    used = load_project_weights(module, document.project.path)
    return module, used.describe(name_only=True)


def _graph_problems(window: MainWindow) -> str | None:
    errors = window.document.inference.errors
    if not errors:
        return None
    return "The graph has problems to fix before it can be exported:\n" + "\n".join(f"  • {p.message}" for p in errors)


def _write_onnx(document: Document, path: Path) -> str:
    import tempfile

    from netbuilder.files.weights import save_weights
    from netbuilder.onnx.exporter import export_onnx

    module, note = _module(document)
    with tempfile.TemporaryDirectory() as tmp:  # the weights go to the exporter as a file, as from the CLI
        weights = save_weights(module, Path(tmp) / "weights.safetensors")
        return f"{export_onnx(document.project, path, weights).summary()}, with {note}"


def _write_code(document: Document, path: Path) -> str:
    from netbuilder.build.codegen import generate_source
    from netbuilder.files.atomic import write_atomic

    project = document.project
    write_atomic(path, generate_source(project, str(project.path) if project.path else None).encode("utf-8"))
    return f"wrote {path}"


def _write_weights(document: Document, path: Path) -> str:
    from netbuilder.files.weights import save_weights
    from netbuilder.model.fingerprint import graph_fingerprint

    module, note = _module(document)
    meta = {"project": document.project.name, "graph_hash": graph_fingerprint(document.project.graph)}
    saved = save_weights(module, path, meta)
    return f"wrote {saved} ({len(module.state_dict())} tensors): {note}"


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
