"""The Data dock: which data set the project trains on, its options, the validation part, and a preview.

Every change is one ``SetData`` (or ``SetTraining`` for the validation split) on the undo stack; the dock
rebuilds from the project after each change, so undo shows what it restored. Picking a data set for a
project with no loss chosen yet sets the loss its targets need in the same undo step, and says why.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDockWidget,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from netbuilder.errors import DataError
from netbuilder.files.data_settings import DATA_SETS
from netbuilder.files.project_edits import ProjectEdits, SetData, SetTraining
from ui import theme
from ui.document import Document
from ui.files.file_dialogs import existing_folder, open_file
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
IMAGE_SETS = ("digits", "mnist", "fashion-mnist", "image-folder")
NATIVE_SIZE = {"digits": (8, 8), "mnist": (28, 28), "fashion-mnist": (28, 28)}
FOLDER_OPTIONS = {"mnist": "folder", "fashion-mnist": "folder", "image-folder": "path"}
FILE_FILTERS = {"csv": "CSV tables (*.csv *.tsv *.txt);;All files (*)",
                "numpy": "NumPy arrays (*.npz *.npy);;All files (*)"}
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
            self._source_fields(form, name, data.get("options") or {}, "main")
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

    def _source_fields(self, form: QFormLayout, name: str, options: dict[str, Any], where: str) -> None:
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
                chosen = existing_folder(self, label, "data", self.project.path)
            else:
                chosen = open_file(self, label, "data", filters, self.project.path)
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
        base = self._base()
        try:
            return str(Path(chosen).resolve().relative_to(base.resolve())) if base else chosen
        except ValueError:
            return chosen

    def _resolved(self, path: str) -> Path:
        p = Path(path).expanduser()
        return (self._base() / p) if self._base() and not p.is_absolute() else p

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
            self._source_fields(form, separate.get("dataset") or "", separate.get("options") or {}, "validation")
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
