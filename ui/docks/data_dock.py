"""The Data dock: which data set the project trains on, its options, the validation part, and a preview.

Every change is one ``SetData`` (or ``SetTraining`` for the validation split) on the undo stack; the dock
rebuilds from the project after each change, so undo shows what it restored. Picking a data set for a
project with no loss chosen yet sets the loss its targets need in the same undo step, and says why.
The editors of each data set's options are in :mod:`ui.docks.data_options`.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDockWidget,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QLabel,
    QRadioButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from netbuilder.errors import DataError
from netbuilder.files.data_settings import DATA_SETS
from netbuilder.files.project_edits import ProjectEdits, SetData, SetTraining
from ui import theme
from ui.docks.data_options import DataOptionEditors
from ui.document import Document
from ui.startup import torch_loaded

if TYPE_CHECKING:
    from netbuilder.data.dataset import Dataset
    from netbuilder.data.preview import Preview

# What each data set is, as the combo shows it (the name in brackets is what the project file stores).
TITLES: dict[str, str] = {
    "": "None yet",
    "seed-linear": "Line with noise, §4.1",
    "seed-logistic": "Two classes on a line, §4.2",
    "seed-softmax": "Three points, two classes, §4.3",
    "seed-sequence": "Short sequences, §4.5",
    "digits": "Digits 8×8 (bundled)",
    "mnist": "MNIST digits 28×28",
    "fashion-mnist": "Fashion-MNIST 28×28",
    "csv": "CSV table…",
    "numpy": "NumPy arrays (.npz / .npy)…",
    "image-folder": "Folder of images…",
}
NATIVE_SIZE = {"digits": (8, 8), "mnist": (28, 28), "fashion-mnist": (28, 28)}
FOLDER_OPTIONS = {"mnist": "folder", "fashion-mnist": "folder", "image-folder": "path"}
THUMB = 44


def _add_sets(combo: QComboBox, names: tuple[str, ...]) -> None:
    """One item a data set: what it is, with the name the project file stores in the tooltip."""
    for n in names:
        combo.addItem(TITLES.get(n, n), n)
        if n:
            combo.setItemData(combo.count() - 1, f"'{n}' in the project file", Qt.ItemDataRole.ToolTipRole)


def _pixmap(image: np.ndarray) -> QPixmap:
    """A thumbnail of a [H, W] grey or [C, H, W] image (values scaled to its own range)."""
    lo, hi = float(image.min()), float(image.max())
    scaled = np.clip((image - lo) / (hi - lo) * 255 if hi > lo else image * 0, 0, 255).astype(np.uint8)
    if scaled.ndim == 2:
        h, w = scaled.shape
        data = np.ascontiguousarray(scaled)
        qimage = QImage(data.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    else:
        rgb = np.ascontiguousarray(np.repeat(scaled[:1], 3, 0).transpose(1, 2, 0) if scaled.shape[0] != 3
                                   else scaled.transpose(1, 2, 0))
        h, w = rgb.shape[:2]
        qimage = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
    return QPixmap.fromImage(qimage).scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                                            Qt.TransformationMode.FastTransformation)


def _narrow(combo: QComboBox) -> None:
    """A combo as wide as the dock allows, not as wide as its longest item."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(10)


class DataDock(QDockWidget):
    """Choose and preview the project's data. ``note`` says what the last pick changed besides the data
    (the loss it chose, and why), and ``changed_also`` says it to the window's status bar; ``error``
    shows why the data cannot be loaded, with the fix."""

    changed_also = Signal(str, int)

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__("Data", parent)
        self.setObjectName("DataDock")
        self.document: Document | None = None
        self.fields: dict[str, QWidget] = {}
        self.note_text = ""
        self._shown: str | None = None
        self.shown_preview: Preview | None = None
        self.set_document(document)

    # ---- the document ------------------------------------------------------------------------

    def set_document(self, document: Document) -> None:
        if self.document is not None:
            self.document.changed.disconnect(self._refresh)
        self.document = document
        document.changed.connect(self._refresh)
        self.note_text = ""
        self._shown = None
        self._refresh()

    @property
    def project(self):
        return self.document.project

    def _base(self) -> Path | None:
        return self.project.path.parent if self.project.path else None

    def _input_shape(self) -> tuple[int, ...] | None:
        inputs = self.project.graph.of_kind("Input")
        return tuple(inputs[0].params["shape"]) if len(inputs) == 1 else None

    def _load(self, data: dict[str, Any]) -> Dataset:
        from netbuilder.data.cache import DATA_CACHE

        seed = self.project.training.get("seed", 0)
        return DATA_CACHE.get(data, self._base(), seed if isinstance(seed, int) else 0, self._input_shape())

    def engine_ready(self) -> None:
        """Torch is in: the preview can load the data now."""
        self._shown = None
        self._refresh()

    def _refresh(self) -> None:
        """Rebuild from the project, when what the dock shows has changed (not on every graph edit)."""
        t = self.project.training
        key = json.dumps([self.project.data, t.get("validation_split"), t.get("seed"), t.get("loss"),
                          self._input_shape(), str(self.project.path)], sort_keys=True, default=str)
        if key == self._shown:
            return
        self._shown = key
        self._build()

    # ---- changes -------------------------------------------------------------------------------

    def _push_data(self, data: dict[str, Any], text: str | None = None) -> bool:
        """One undo step setting ``data``; with the loss its targets need where none was chosen yet."""
        old = self.project.data
        try:
            old_loaded = bool(old.get("dataset")) and self._load(old) is not None
        except DataError:
            old_loaded = False  # nothing has trained on it: a loss suited to it was never chosen either
        from netbuilder.data.suggest import loss_to_suggest

        edit = SetData(data, text)
        suggestion = None
        try:
            dataset = self._load(data)
            suggestion = loss_to_suggest(self.project.training, old if old_loaded else {"dataset": ""}, dataset,
                                         self.project.graph)
        except DataError:
            pass  # shown by the preview once set
        if suggestion is not None:
            loss, reason = suggestion
            pushed = self.document.push(ProjectEdits(edit.text, [edit, SetTraining({"loss": loss})]))
            note = f"Loss set to {reason}."
        else:
            pushed, note = self.document.push(edit), ""
        if pushed:
            self.note_text = note
            if note:
                self.changed_also.emit(f"{edit.text}. {note} (Undo reverts both.)", 10000)
            self._shown = None
            self._refresh()
        return pushed

    def _set_option(self, name: str, value: Any, where: str = "main") -> None:
        data = copy.deepcopy(self.project.data)
        part = data if where == "main" else data.setdefault("validation", {"dataset": data["dataset"]})
        options = part.setdefault("options", {})
        if value is None:
            if name not in options:
                return
            options.pop(name)
        elif options.get(name) == value:
            return
        else:
            options[name] = value
        self._push_data(data, f"Set data option {name}" if where == "main" else f"Set validation option {name}")

    def pick(self, name: str) -> None:
        """Use data set ``name`` (what choosing it in the combo does)."""
        if name == (self.project.data.get("dataset") or ""):
            return
        options: dict[str, Any] = {}
        shape = self._input_shape()
        # An image set on an Input of another size is resized to it (the digits CNN's 28×28 from 8×8).
        native = NATIVE_SIZE.get(name)
        if native and shape and len(shape) == 3 and shape[0] == 1 and tuple(shape[1:]) != native:
            options["resize"] = list(shape[1:])
        self._push_data({"dataset": name, "options": options})

    # ---- building ------------------------------------------------------------------------------

    def _build(self) -> None:
        data = self.project.data
        name = data.get("dataset") or ""
        body = QWidget()
        outer = QVBoxLayout(body)
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        outer.addLayout(form)
        self.fields = {}
        self._option_editors = DataOptionEditors(self, self.project, self.fields, self._set_option, self._push_data)
        combo = QComboBox()
        _add_sets(combo, ("", *DATA_SETS))
        combo.setCurrentIndex(max(0, combo.findData(name)))
        _narrow(combo)
        combo.setToolTip("The data the network trains on: the teaching text's small sets, the bundled digits, "
                         "MNIST, or your own files")
        combo.activated.connect(lambda k: self.pick(combo.itemData(k)))
        self.dataset_combo = combo
        form.addRow("Data set", combo)
        self.note = QLabel(self.note_text)
        self.note.setWordWrap(True)
        self.note.setVisible(bool(self.note_text))
        form.addRow(self.note)
        if name:
            self._option_editors.add_rows(form, name, data.get("options") or {}, "main")
        outer.addWidget(self._validation_section(data))
        self.error = QLabel()
        self.error.setWordWrap(True)
        theme.use_tone(self.error, "error")
        self.error.hide()
        outer.addWidget(self.error)
        self.preview_box = QWidget()
        outer.addWidget(self.preview_box)
        outer.addStretch(1)
        self._fill_preview(data)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        # The dock's width is the user's: fields shrink to it and long text wraps, never a sideways scroll.
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(body)
        self.setWidget(scroll)

    def _validation_section(self, data: dict[str, Any]) -> QWidget:
        box = QWidget()
        form = QFormLayout(box)
        form.setContentsMargins(0, 0, 0, 0)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        heading = QLabel("<b>Validation</b>")
        heading.setToolTip("Data held back from training to measure how well the network generalises")
        form.addRow(heading)
        separate = data.get("validation")
        hold = QRadioButton("Hold out part of the data")
        other = QRadioButton("A separate data set")
        hold.setToolTip("Shuffle (with the training seed) and keep this fraction of the samples for validation")
        other.setToolTip("Validate on another data set, e.g. MNIST's test images")
        (other if separate else hold).setChecked(True)
        form.addRow(hold)
        split = QDoubleSpinBox()
        split.setRange(0.0, 0.9)
        split.setSingleStep(0.05)
        split.setDecimals(2)
        split.setValue(float(self.project.training.get("validation_split", 0.2)))
        split.setKeyboardTracking(False)
        split.setEnabled(not separate)
        split.setToolTip("The fraction of samples held out for validation (0: none)")
        split.valueChanged.connect(
            lambda v: v != self.project.training.get("validation_split")
            and self.document.push(SetTraining({"validation_split": round(v, 4)})))
        self.fields["validation_split"] = split
        form.addRow("Fraction held out", split)
        form.addRow(other)
        self.fields["hold_out"], self.fields["separate"] = hold, other
        name = data.get("dataset") or ""

        def use_separate(on: bool) -> None:
            new = copy.deepcopy(self.project.data)
            if on and not new.get("validation"):
                options = copy.deepcopy(new.get("options") or {})
                if name in ("mnist", "fashion-mnist"):
                    options["split"] = "test"
                new["validation"] = {"dataset": name, "options": options}
            elif not on and "validation" in new:
                new.pop("validation")
            else:
                return
            self._push_data(new, "Validate on a separate data set" if on else "Validate on part of the data")

        other.toggled.connect(use_separate)
        if separate:
            combo = QComboBox()
            _add_sets(combo, tuple(DATA_SETS))
            combo.setCurrentIndex(max(0, combo.findData(separate.get("dataset"))))
            _narrow(combo)
            combo.setToolTip("The data set to validate on; it must give samples and targets like the training set")
            combo.activated.connect(lambda k: self._push_data(
                {**copy.deepcopy(self.project.data), "validation": {"dataset": combo.itemData(k), "options": {}}},
                "Choose the validation data set"))
            self.fields["validation_dataset"] = combo
            form.addRow("Validation set", combo)
            self._option_editors.add_rows(form, separate.get("dataset") or "", separate.get("options") or {},
                                          "validation")
        return box

    # ---- the preview ---------------------------------------------------------------------------

    def _show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))

    def _fill_preview(self, data: dict[str, Any]) -> None:
        self.shown_preview = None
        self.preview_table: QTableWidget | None = None
        self.thumbnails: list[QLabel] = []
        if not data.get("dataset"):
            return
        if not torch_loaded():  # the window's first paint does not wait for torch; ready refreshes this
            self._show_error("")
            self.error.setStyleSheet("")
            self._show_error("The preview shows once the app has finished starting…")
            return
        from netbuilder.data.cache import NotDownloaded
        from netbuilder.data.preview import preview

        try:
            dataset = self._load(data)
            validation = self._load(data["validation"]) if data.get("validation") else None
        except NotDownloaded as exc:
            self.error.setStyleSheet("")
            self._show_error(str(exc))
            return
        except DataError as exc:
            self._show_error(str(exc))
            return
        shown = preview(dataset, float(self.project.training.get("validation_split", 0.2) or 0),
                        int(self.project.training.get("seed", 0) or 0), validation)
        self.shown_preview = shown
        layout = QVBoxLayout(self.preview_box)
        layout.setContentsMargins(0, 0, 0, 0)
        heading = QLabel(f"<b>Preview</b>: {shown.description or shown.name}")
        heading.setWordWrap(True)
        layout.addWidget(heading)
        if shown.kind == "images":
            grid = QGridLayout()
            grid.setSpacing(4)
            for k, (image, label) in enumerate(zip(shown.images, shown.labels, strict=True)):
                cell = QLabel()
                cell.setPixmap(_pixmap(image))
                cell.setToolTip(f"sample {k}: {label}")
                caption = QLabel(label)
                caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
                grid.addWidget(cell, 2 * (k // 4), k % 4, Qt.AlignmentFlag.AlignCenter)
                grid.addWidget(caption, 2 * (k // 4) + 1, k % 4)
                self.thumbnails.append(cell)
            layout.addLayout(grid)
        else:
            table = QTableWidget(len(shown.rows), len(shown.columns))
            table.setHorizontalHeaderLabels(shown.columns)
            for r, row in enumerate(shown.rows):
                for c, value in enumerate(row):
                    table.setItem(r, c, QTableWidgetItem(value))
            table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
            table.resizeColumnsToContents()
            table.verticalHeader().setDefaultSectionSize(22)
            table.setMaximumHeight(30 + 22 * max(1, len(shown.rows)))
            layout.addWidget(table)
            self.preview_table = table
        facts = QFormLayout()
        facts.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        facts.addRow("Samples", QLabel(f"{shown.input_shape} {shown.input_dtype} (each, into the Input)"))
        target = f"{shown.target_shape} {shown.target_dtype}" if shown.target_shape else \
            f"one class number ({shown.target_dtype})" if shown.target_dtype == "int64" else shown.target_dtype
        facts.addRow("Targets", QLabel(f"{target}, {shown.task}"))
        split = QLabel(f"{shown.train_size:,} to train, {shown.validation_size:,} to validate")
        facts.addRow("Split", split)
        if shown.split_problem:
            split.setText(shown.split_problem)
            theme.use_tone(split, "error")
        if shown.class_counts:
            counts = QLabel(", ".join(f"{n}: {c:,}" for n, c in shown.class_counts.items()))
            counts.setWordWrap(True)
            facts.addRow("Classes", counts)
        for k in range(facts.rowCount()):
            item = facts.itemAt(k, QFormLayout.ItemRole.FieldRole)
            if item is not None and isinstance(item.widget(), QLabel):
                item.widget().setWordWrap(True)
        layout.addLayout(facts)
        self.facts = facts
