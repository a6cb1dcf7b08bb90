"""File > Import ONNX… and File > Export (ONNX, PyTorch code, safetensors weights).

Each action calls the same engine function as the command line (:mod:`netbuilder.cli`). The
engine modules that need torch or onnx are imported inside the actions, never at the top, so
the window shows before torch loads. A failure is a message box naming the file and the
reason; nothing is half-written and the open document is untouched. The functions take the
document and a parent widget for their dialogs, and return what the status bar should say (None
when nothing was done); the window shows it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMenu, QMessageBox, QWidget

from netbuilder.errors import NetbuilderError
from ui.document import Document
from ui.files.file_dialogs import open_file, save_file

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
def import_onnx_file(parent: QWidget, path: str | Path, out: str | Path) -> str | None:
    """Import ``path`` (an ``.onnx`` file) as the project ``out`` with its weights beside it, as
    ``netbuilder import`` does; what to tell the user, for the caller to open ``out``. None, after a
    message box saying why, when it cannot; then nothing is written."""
    path, out = Path(path), Path(out)
    try:
        from netbuilder.onnx.importer import import_onnx_project

        project, weights = _busy(lambda: import_onnx_project(path, out))
    except Exception as exc:  # a broken or unsupported model: say why, keep what is open
        QMessageBox.warning(parent, "Cannot import ONNX model", f"{path.name}: {_reason(exc)}")
        return None
    return f"Imported {path.name}: {len(project.graph)} layers in {out.name}, weights in {weights.name}"


def import_onnx_dialog(parent: QWidget, project_path: Path | None = None) -> tuple[Path, str] | None:
    """Ask for an ``.onnx`` file (starting in the open project's folder, ``project_path``'s) and where to
    keep the project, and import it: the project file written and the message, or None when cancelled or
    refused."""
    path = open_file(parent, "Import ONNX model", "onnx", ONNX_FILTER, project_path)
    if not path:
        return None
    out = save_file(parent, "Save the imported model as a project", "project",
                    str(Path(path).with_suffix(".nbproj")), PROJECT_FILTER, project_path)
    if not out:
        return None
    message = import_onnx_file(parent, path, out)
    return None if message is None else (Path(out), message)


# ---- export -----------------------------------------------------------------------------------
def _module(document: Document) -> tuple[Any, str]:
    """The compiled model with the weights the app's model holds (a run's, after training in the app), else the
    project's own weights (beside its file) where they still fit (the choice ``netbuilder export`` makes), and
    a note saying which weights it holds."""
    from netbuilder.build.compile import build_module
    from netbuilder.files.weights import load_project_weights

    module = build_module(document.project.graph)
    trained = document.trained_weights
    if trained is not None and trained[0].is_file():  # trained in the app: the model it holds now
        from netbuilder.files.weights import load_fitting

        left = load_fitting(module, trained[0])
        shown = ", ".join(left[:3]) + (f" and {len(left) - 3} more" if len(left) > 3 else "")
        return module, trained[1] + (f" (fresh for {shown}: changed since the run)" if left else "")
    used = load_project_weights(module, document.project.path)
    return module, used.describe(name_only=True)


def _graph_problems(document: Document) -> str | None:
    errors = document.inference.errors
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
        report = export_onnx(document.project, path, weights)
    return f"Exported {path.name} ({report.size_bytes / 1024:.0f} KiB) with {note}; ONNX Runtime matches torch"


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


def export_to(document: Document, parent: QWidget, kind: str, path: str | Path) -> str | None:
    """Export ``document`` as ``kind`` (``onnx``, ``code``, ``weights``) to ``path``: what was written.

    A graph with problems, or an export the engine refuses, shows the reason in a message box
    over ``parent`` and returns None.
    """
    path = Path(path)
    if (problems := _graph_problems(document)) is not None:
        QMessageBox.warning(parent, "Cannot export", problems)
        return None
    write = EXPORTS[kind][3]
    try:
        return _busy(lambda: write(document, path))
    except Exception as exc:
        QMessageBox.warning(parent, "Cannot export", f"{path.name}: {_reason(exc)}")
        return None


def export_dialog(document: Document, parent: QWidget, kind: str) -> str | None:
    """Ask where to export ``document`` as ``kind``, and export it: what was written, or None."""
    title, file_filter, suffix, _ = EXPORTS[kind]
    if (problems := _graph_problems(document)) is not None:  # before asking where: nothing would be written
        QMessageBox.warning(parent, "Cannot export", problems)
        return None
    project = document.project
    name = project.path.with_suffix(suffix).name if project.path else f"{project.name}{suffix}"
    path = save_file(parent, f"Export {title.replace('&', '').rstrip('…')}", kind, name, file_filter, project.path)
    return export_to(document, parent, kind, path) if path else None


def build_export_menu(parent: QMenu, export: Callable[[str], object]) -> QMenu:
    """File > Export: one entry per format, each calling ``export(kind)``."""
    menu = parent.addMenu("&Export")
    for kind, (title, *_rest) in EXPORTS.items():
        menu.addAction(title, lambda k=kind: export(k))
    return menu
