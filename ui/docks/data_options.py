"""The Data dock's per-option editors: the form rows of one data source's options (noise, label noise,
files and folders, the MNIST part, a CSV's columns, an .npz's arrays, what the targets are, the image
size), each change handed back to the dock as one option (or, for a CSV's columns, the whole data) to push.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QWidget,
)

from netbuilder.errors import DataError
from netbuilder.files.project import Project
from ui.files.file_dialogs import existing_folder, open_file

IMAGE_SETS = ("digits", "mnist", "fashion-mnist", "image-folder")
FILE_FILTERS = {"csv": "CSV tables (*.csv *.tsv *.txt);;All files (*)",
                "numpy": "NumPy arrays (*.npz *.npy);;All files (*)"}


class DataOptionEditors:
    """Adds the editors of a data source's options to a form, for the Data dock.

    Parameters
    ----------
    parent
        The widget the file and folder dialogs open over (the dock).
    project
        The project whose data the editors show; paths in it are relative to its folder.
    fields
        Where each editor is kept by option name (``validation_`` first for the validation set's), for the
        dock and its tests.
    set_option
        Called with an option's name, its new value (None: the default) and ``"main"`` or ``"validation"``.
    push_data
        Called with the whole new data settings and the undo step's text (a CSV's columns change two options).
    """

    def __init__(self, parent: QWidget, project: Project, fields: dict[str, QWidget],
                 set_option: Callable[[str, Any, str], None],
                 push_data: Callable[[dict[str, Any], str | None], bool]) -> None:
        self._parent = parent
        self.project = project
        self.fields = fields
        self._set_option = set_option
        self._push_data = push_data
        self._header: list[str] = []

    def add_rows(self, form: QFormLayout, name: str, options: dict[str, Any], where: str) -> None:
        prefix = "" if where == "main" else "validation_"

        def set_option(option: str, value: Any) -> None:
            self._set_option(option, value, where)

        if name == "seed-linear":
            self._spin(form, prefix + "noise", "Noise", options.get("noise", 0.33), 0, 10,
                       "How much Gaussian noise is added to y = 2x (the text uses 0.33)",
                       lambda v: set_option("noise", v))
        elif name == "seed-logistic":
            self._spin(form, prefix + "label_noise", "Label noise", options.get("label_noise", 0.33), 0, 10,
                       "Gaussian noise added to the 0/1 labels; the text's 0.33 pushes them out of [0, 1], which a "
                       "binary cross-entropy cannot use: 0 gives clean labels", lambda v: set_option("label_noise", v))
        elif name in ("mnist", "fashion-mnist"):
            self._path_row(form, prefix + "folder", "Folder", options.get("folder", ""), True,
                           "A folder holding the four IDX files; empty: downloaded into your cache when training "
                           "starts", lambda v: set_option("folder", v or None))
            split = QComboBox()
            split.addItems(["train", "test"])
            split.setCurrentText(options.get("split", "train"))
            split.setToolTip("Which part of the set to read: the 60,000 training images or the 10,000 test images")
            split.currentTextChanged.connect(lambda v: set_option("split", None if v == "train" else v))
            self.fields[prefix + "split"] = split
            form.addRow("Part", split)
        elif name == "csv":
            self._path_row(form, prefix + "path", "File", options.get("path", ""), False,
                           "The CSV table; its first row names the columns", lambda v: set_option("path", v or None),
                           FILE_FILTERS["csv"])
            if where == "main":
                self._csv_columns(form, options)
            self._task(form, prefix, options, set_option)
        elif name == "numpy":
            self._path_row(form, prefix + "path", "File", options.get("path", ""), False,
                           "An .npz holding samples and targets, or an .npy of samples (then give the targets file)",
                           lambda v: set_option("path", v or None), FILE_FILTERS["numpy"])
            path = options.get("path") or ""
            if path.endswith(".npy"):
                self._path_row(form, prefix + "targets", "Targets file", options.get("targets", ""), False,
                               "The .npy holding one target per sample", lambda v: set_option("targets", v or None),
                               FILE_FILTERS["numpy"])
            elif path and where == "main":
                self._npz_keys(form, options, set_option)
            self._task(form, prefix, options, set_option)
        elif name == "image-folder":
            self._path_row(form, prefix + "path", "Folder", options.get("path", ""), True,
                           "A folder with one subfolder of images per class (cats/, dogs/, …); images are resized "
                           "to the Input's shape", lambda v: set_option("path", v or None))
        if name in IMAGE_SETS and where == "main":
            self._resize_row(form, options)

    def _spin(self, form: QFormLayout, key: str, label: str, value: float, lo: float, hi: float, tip: str,
              changed: Callable[[float], None]) -> None:
        box = QDoubleSpinBox()
        box.setRange(lo, hi)
        box.setDecimals(3)
        box.setSingleStep(0.05)
        box.setValue(float(value))
        box.setKeyboardTracking(False)
        box.setToolTip(tip)
        box.valueChanged.connect(changed)
        self.fields[key] = box
        form.addRow(label, box)

    def _path_row(self, form: QFormLayout, key: str, label: str, value: str, folder: bool, tip: str,
                  changed: Callable[[str], None], filters: str = "") -> None:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        line = QLineEdit(value)
        line.setToolTip(tip + ". Type a path (relative to the project's folder) or choose one")
        line.setPlaceholderText("choose a folder…" if folder else "choose a file…")
        line.editingFinished.connect(lambda: line.text().strip() != value and changed(line.text().strip()))
        browse = QPushButton("Choose…")
        browse.setToolTip(tip)

        def choose() -> None:
            if folder:
                chosen = existing_folder(self._parent, label, "data", self.project.path)
            else:
                chosen = open_file(self._parent, label, "data", filters, self.project.path)
            if chosen:
                changed(self._relative(chosen))

        browse.clicked.connect(choose)
        layout.addWidget(line, 1)
        layout.addWidget(browse)
        self.fields[key] = line
        self.fields[key + "_choose"] = browse
        form.addRow(label, row)

    def _relative(self, chosen: str) -> str:
        """A path inside the project's folder is stored relative to it, so the project can move with its data."""
        base = self.project.path.parent if self.project.path else None
        try:
            return str(Path(chosen).resolve().relative_to(base.resolve())) if base else chosen
        except ValueError:
            return chosen

    def _resolved(self, path: str) -> Path:
        p, base = Path(path).expanduser(), self.project.path.parent if self.project.path else None
        return (base / p) if base and not p.is_absolute() else p

    def _task(self, form: QFormLayout, prefix: str, options: dict[str, Any], set_option) -> None:
        task = QComboBox()
        for label, value in (("Decide from the targets", "auto"), ("Classes", "classification"),
                             ("Numbers to predict", "regression")):
            task.addItem(label, value)
        task.setCurrentIndex(max(0, task.findData(options.get("task", "auto"))))
        task.setToolTip("Whether the targets are classes or numbers to predict. Auto: text, or up to 20 "
                        "different whole numbers, are classes")
        task.activated.connect(lambda k: set_option("task", None if task.itemData(k) == "auto" else task.itemData(k)))
        self.fields[prefix + "task"] = task
        form.addRow("Targets are", task)

    def _csv_columns(self, form: QFormLayout, options: dict[str, Any]) -> None:
        path = options.get("path")
        if not path:
            return
        try:
            from netbuilder.data.tabular import preview_csv

            header, _rows = preview_csv(self._resolved(path), rows=0)
        except DataError:
            return  # the preview says what is wrong with the file
        target = options.get("target", -1)
        target_name = header[target] if isinstance(target, int) and -len(header) <= target < len(header) \
            else str(target)
        combo = QComboBox()
        combo.addItems(header)
        combo.setCurrentText(target_name)
        combo.setToolTip("The column the network learns to predict")
        combo.activated.connect(lambda k: self._set_columns(header[k], None))
        self.fields["target"] = combo
        form.addRow("Target column", combo)
        features = options.get("features")
        chosen = {header[f] if isinstance(f, int) else f for f in features} if features \
            else {h for h in header if h != target_name}
        columns = QListWidget()
        columns.setToolTip("The columns fed to the network (numbers only); the target is never one of them")
        columns.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        for h in header:
            item = QListWidgetItem(h)
            flags = item.flags() | Qt.ItemFlag.ItemIsUserCheckable
            if h == target_name:
                flags &= ~Qt.ItemFlag.ItemIsEnabled
            item.setFlags(flags)
            item.setCheckState(Qt.CheckState.Checked if h in chosen and h != target_name else Qt.CheckState.Unchecked)
            columns.addItem(item)
        columns.setMaximumHeight(min(140, 22 * len(header) + 8))

        def toggled(_item: QListWidgetItem) -> None:
            picked = [columns.item(k).text() for k in range(columns.count())
                      if columns.item(k).checkState() == Qt.CheckState.Checked]
            self._set_columns(combo.currentText(), picked)

        columns.itemChanged.connect(toggled)
        self.fields["features"] = columns
        form.addRow("Feature columns", columns)
        self._header = header

    def _set_columns(self, target: str, features: list[str] | None) -> None:
        header = self._header
        options = copy.deepcopy(self.project.data.get("options") or {})
        if features is None:  # a new target: every other column, as before minus the target
            old = options.get("features")
            features = [f for f in old if f != target] if old else None
        options["target"] = target
        if features is None or sorted(features) == sorted(h for h in header if h != target):
            options.pop("features", None)  # every other column: the loader's own default
        else:
            options["features"] = [h for h in header if h in features]
        self._push_data({**copy.deepcopy(self.project.data), "options": options}, "Choose the CSV's columns")

    def _npz_keys(self, form: QFormLayout, options: dict[str, Any], set_option) -> None:
        try:
            with np.load(self._resolved(options["path"]), allow_pickle=False) as archive:
                keys = list(archive.files)
        except (OSError, ValueError, AttributeError):
            return  # not an .npz that opens: the preview says why
        for option, label, default, tip in (("x_key", "Samples array", "x", "The array of samples in the .npz"),
                                            ("y_key", "Targets array", "y", "The array of targets in the .npz")):
            combo = QComboBox()
            combo.addItems(keys)
            current = options.get(option, default)
            if current not in keys:
                combo.addItem(current)
            combo.setCurrentText(current)
            combo.setToolTip(tip)
            combo.activated.connect(lambda k, o=option, c=combo, d=default:
                                    set_option(o, None if c.itemText(k) == d else c.itemText(k)))
            self.fields[option] = combo
            form.addRow(label, combo)

    def _resize_row(self, form: QFormLayout, options: dict[str, Any]) -> None:
        size = options.get("resize")
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        check = QCheckBox("to")
        check.setChecked(size is not None)
        height, width = QSpinBox(), QSpinBox()
        for box, value in ((height, size[0] if size else 28), (width, size[1] if size else 28)):
            box.setRange(1, 4096)
            box.setValue(value)
            box.setKeyboardTracking(False)
            box.setEnabled(size is not None)
        tip = "Resize every image to height × width, e.g. the 8×8 digits to a 28×28 Input"
        for w in (check, height, width):
            w.setToolTip(tip)

        def changed(*_args) -> None:
            self._set_option("resize", [height.value(), width.value()] if check.isChecked() else None)

        check.toggled.connect(changed)
        height.valueChanged.connect(changed)
        width.valueChanged.connect(changed)
        layout.addWidget(check)
        layout.addWidget(height)
        layout.addWidget(QLabel("×"))
        layout.addWidget(width)
        layout.addStretch(1)
        self.fields["resize"] = check
        form.addRow("Resize", row)
