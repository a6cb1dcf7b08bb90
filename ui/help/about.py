"""Help ▸ About netbuilder: the versions of netbuilder and what it runs on, and the device training uses.

The versions come from the installed packages' metadata (no import needed); the training device
needs torch, which the app loads only after its first paint (ui/startup.py): the About box, opened
later by a user, imports it then if it is not in yet.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import metadata

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, qVersion
from PySide6.QtWidgets import QMessageBox, QWidget

import netbuilder

# (what a user reads, the distribution to ask for its version)
PACKAGES = (("torch", "torch"), ("ONNX Runtime", "onnxruntime"), ("onnx", "onnx"), ("pyqtgraph", "pyqtgraph"),
            ("NumPy", "numpy"))


def package_version(distribution: str) -> str:
    """The installed version of ``distribution``, or "not installed"."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def versions() -> list[tuple[str, str]]:
    """(name, version) of netbuilder, Qt and PySide6, and the libraries it computes with."""
    return [("netbuilder", netbuilder.__version__), ("Qt", qVersion()), ("PySide6", pyside_version),
            *((name, package_version(dist)) for name, dist in PACKAGES)]


def training_device(setting: str) -> str:
    """The device a run with the project's ``device`` setting would train on, as a user reads it."""
    try:
        from netbuilder.files.training_settings import SettingsError
        from netbuilder.training.devices import list_devices, resolve_device
    except ImportError as exc:  # torch missing or broken: the editor works, training does not
        return f"none: torch could not be loaded ({exc})"
    try:
        device = resolve_device(setting)
    except SettingsError as exc:
        return f"none: {exc}"
    labels = {d.name: d.label for d in list_devices()}
    name = f"{device.type}:{device.index}" if device.index is not None else device.type
    if name == "cuda" and "cuda:0" in labels:
        name = "cuda:0"
    return f"{labels.get(name, name)} (this project's Device setting: {labels.get(setting, setting)})"


def about_text(device_setting: str) -> str:
    """The About box's text (rich text): versions, then the device training uses."""
    rows = "".join(f"<tr><td>{name}</td><td>&nbsp;&nbsp;{version}</td></tr>" for name, version in versions())
    return (f"<h3>netbuilder {netbuilder.__version__}</h3>"
            "<p>Design neural networks by drawing them: shapes and mistakes while you draw, training, export.</p>"
            f"<table>{rows}</table>"
            f"<p>Training device: {training_device(device_setting)}</p>"
            f"<p>Icons: Material Design Icons (Apache 2.0), from qtawesome {package_version('qtawesome')}.</p>")


def show_about(parent: QWidget, device_setting: Callable[[], str]) -> QMessageBox:
    """Open the About box over ``parent``; ``device_setting`` gives the open project's ``device`` setting."""
    box = QMessageBox(QMessageBox.Icon.NoIcon, "About netbuilder", about_text(device_setting()),
                      QMessageBox.StandardButton.Ok, parent)
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)  # versions copy into a bug report
    box.open()
    return box
