"""The Training dock: the project's training settings, each change one ``SetTraining`` on the undo stack.

A value the settings cannot hold (monitoring accuracy that is not computed, Nesterov momentum without
SGD) is refused as typed: the reason shows in red under the field, and the field shows the project's
value again once another field is edited or the project changes (undo, redo).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDockWidget,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QWidget,
)

from netbuilder.files.project_edits import SetTraining
from netbuilder.files.training_settings import LOSSES, METRICS, OPTIMIZERS, PRECISIONS, SCHEDULES
from ui import theme
from ui.document import Document
from ui.startup import torch_loaded

# Before torch is in (the first paint does not wait for it) the picker lists what needs no probing.
BASIC_DEVICES = {"auto": "Automatic", "cpu": "CPU"}


def device_choices() -> dict[str, str]:
    """This machine's devices (each CUDA GPU by name and memory), once torch is loaded."""
    if not torch_loaded():
        return dict(BASIC_DEVICES)
    from netbuilder.training.devices import list_devices

    return {d.name: d.label for d in list_devices()}

INT_MAX = 2**31 - 1

LOSS_WORDS = {  # short enough for the dock's width; the tooltip of the field says more
    "mse": "MSE (squared error)", "l1": "L1 (absolute error)", "huber": "Huber",
    "bce": "BCE on probabilities", "bce_with_logits": "BCE on scores",
    "cross_entropy": "Cross-entropy", "cross_entropy_soft": "Cross-entropy, soft",
    "nll": "NLL (log-probabilities)",
}
OPTIMIZER_WORDS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop", "adagrad": "Adagrad"}
SCHEDULE_WORDS = {"none": "Constant", "step": "Step down", "cosine": "Cosine decay",
                  "one_cycle": "One cycle", "plateau": "Lower when stuck (plateau)"}
METRIC_WORDS = {"loss": "Loss", "accuracy": "Accuracy", "top5": "Top-5 accuracy", "mae": "Mean absolute error",
                "r2": "R² (explained variance)"}
PRECISION_WORDS = {"fp32": "32-bit float", "bf16": "bfloat16 (GPU)", "fp16": "16-bit float (GPU)"}


class TrainingDock(QDockWidget):
    """Edit ``project.training``. ``editors`` maps each setting to its widget, ``reasons`` to the red label
    under it."""

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__("Training", parent)
        self.setObjectName("TrainingDock")
        self.document: Document | None = None
        self.editors: dict[str, QWidget] = {}
        self.reasons: dict[str, QLabel] = {}
        self._rows: dict[str, list[QWidget]] = {}
        self._loading = False
        body = QWidget()
        self.form = QFormLayout(body)
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._build()
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(body)
        self.setWidget(scroll)
        self.set_document(document)

    def set_document(self, document: Document) -> None:
        if self.document is not None:
            self.document.changed.disconnect(self.refresh)
        self.document = document
        document.changed.connect(self.refresh)
        self.refresh()

    # ---- building ------------------------------------------------------------------------------

    def _heading(self, text: str) -> None:
        label = QLabel(f"<b>{text}</b>")
        self.form.addRow(label)

    def _row(self, key: str, label: str, editor: QWidget, tip: str) -> None:
        editor.setToolTip(tip)
        name = QLabel(label)
        name.setToolTip(tip)
        name.setWordWrap(True)
        self.form.addRow(name, editor)
        reason = QLabel()
        reason.setWordWrap(True)
        theme.use_tone(reason, "error")
        reason.hide()
        self.form.addRow(reason)
        self.editors[key] = editor
        self.reasons[key] = reason
        self._rows[key] = [name, editor]

    def _combo(self, key: str, label: str, choices: dict[str, str], tip: str) -> QComboBox:
        combo = QComboBox()
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(10)
        combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)  # the whole row: no cut words
        for value, words in choices.items():
            combo.addItem(words, value)
        combo.activated.connect(lambda k: self.set(key, combo.itemData(k)))
        self._row(key, label, combo, tip)
        return combo

    def _int(self, key: str, label: str, lo: int, hi: int, tip: str, special: str = "") -> QSpinBox:
        box = QSpinBox()
        box.setRange(lo, hi)
        box.setKeyboardTracking(False)  # one edit when typing is done, not one per digit
        if special:
            box.setSpecialValueText(special)
        box.valueChanged.connect(lambda v: self.set(key, v))
        self._row(key, label, box, tip)
        return box

    def _float(self, key: str, label: str, lo: float, hi: float, step: float, decimals: int, tip: str,
               special: str = "") -> QDoubleSpinBox:
        box = QDoubleSpinBox()
        box.setDecimals(decimals)
        box.setRange(lo, hi)
        box.setSingleStep(step)
        box.setKeyboardTracking(False)
        if special:
            box.setSpecialValueText(special)
        box.valueChanged.connect(lambda v: self.set(key, round(v, decimals)))
        self._row(key, label, box, tip)
        return box

    def _build(self) -> None:
        self._heading("What to minimise")
        self._combo("loss", "Loss", {k: LOSS_WORDS.get(k, k) for k in LOSSES},
                    "How wrong the network's output is, measured against the targets: cross-entropy for class "
                    "numbers (soft: one-hot or probability rows), MSE for numbers, BCE for 0/1 targets (on scores: "
                    "the model ends without a Sigmoid), NLL after a LogSoftmax")
        self._heading("How to learn")
        self._combo("optimizer", "Optimizer", {k: OPTIMIZER_WORDS.get(k, k) for k in OPTIMIZERS},
                    "The rule that updates the weights from their gradients; Adam is a good first choice")
        self._float("learning_rate", "Learning rate", 1e-6, 1e6, 0.001, 6,
                    "How big each update step is; too big diverges, too small learns slowly (Adam: about 0.001)")
        self._float("momentum", "Momentum", 0.0, 1.0, 0.05, 3,
                    "How much of the previous update carries into the next (SGD and RMSprop)")
        check = QCheckBox("Nesterov")
        check.toggled.connect(lambda v: self.set("nesterov", v))
        self._row("nesterov", "Look-ahead", check, "Nesterov momentum: SGD with momentum above 0 only")
        self._int("batch_size", "Batch size", 1, 1 << 20, "How many samples each update step sees")
        self._int("epochs", "Epochs", 1, 1_000_000, "How many times training goes through the whole data set")
        self._combo("schedule", "Learning-rate schedule", {k: SCHEDULE_WORDS.get(k, k) for k in SCHEDULES},
                    "How the learning rate changes during training")
        self._int("step_size", "Step every (epochs)", 1, 1_000_000, "Lower the learning rate every this many epochs")
        self._float("gamma", "Multiply by", 0.001, 1.0, 0.05, 3,
                    "The factor the learning rate is multiplied by at each step down")
        self._int("plateau_patience", "Wait (epochs)", 0, 100_000,
                  "Epochs without improvement before the learning rate is lowered")
        self._heading("Keeping it in check")
        self._float("weight_decay", "Weight decay", 0.0, 10.0, 0.0001, 6,
                    "Pulls every weight towards 0 at each step (L2); 0 is off", "off")
        self._float("l1", "L1 penalty", 0.0, 10.0, 0.0001, 6,
                    "Adds the sum of |weights| times this to the loss, which drives weights to exactly 0; 0 is off",
                    "off")
        self._float("grad_clip", "Clip gradients at", 0.0, 1e6, 0.5, 3,
                    "Scale the gradients down when their total norm is above this (guards against blow-ups); 0 is "
                    "off", "off")
        self._int("early_stopping_patience", "Stop early after (epochs)", 0, 100_000,
                  "Stop when the monitored metric has not improved for this many epochs; 0 is off", "off")
        self._combo("monitor", "Best model by", {k: METRIC_WORDS.get(k, k) for k in METRICS},
                    "The validation metric that picks the best checkpoint and decides early stopping; it must be "
                    "one of the metrics computed")
        metrics = QListWidget()
        metrics.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        for m in METRICS:
            item = QListWidgetItem(METRIC_WORDS.get(m, m))
            item.setData(Qt.ItemDataRole.UserRole, m)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            metrics.addItem(item)
        metrics.setFixedHeight(metrics.sizeHintForRow(0) * len(METRICS) + 2 * metrics.frameWidth() + 4)
        metrics.itemChanged.connect(lambda _item: self._metrics_changed())
        self._row("metrics", "Metrics", metrics, "What is measured on the validation data after each epoch")
        self._heading("Where and how exactly")
        self._int("seed", "Seed", 0, INT_MAX,
                  "Fixes the first weights, the shuffling and dropout, so a run repeats exactly on one device")
        self._combo("precision", "Precision", {k: PRECISION_WORDS.get(k, k) for k in PRECISIONS},
                    "Number format for training; 16-bit formats are faster on GPUs that support them")
        self._combo("device", "Device", device_choices(),
                    "Where training runs: automatic picks a GPU when there is one")

    # ---- showing the project ---------------------------------------------------------------------

    def engine_ready(self) -> None:
        """Torch is in: list the machine's real devices."""
        combo = self.editors["device"]
        combo.blockSignals(True)
        combo.clear()
        for value, words in device_choices().items():
            combo.addItem(words, value)
        combo.blockSignals(False)
        self.refresh()

    def refresh(self) -> None:
        """Show the project's values (after undo, redo, or any edit) and clear the reasons."""
        self._show(None)

    def _show(self, keep: str | None) -> None:
        """Put the project's value in every field but ``keep`` (a refused one showing what was typed)."""
        training = self.document.project.training
        self._loading = True
        try:
            for key, editor in self.editors.items():
                if key == keep:
                    continue
                self.reasons[key].hide()
                value = training.get(key)
                if isinstance(editor, QComboBox):
                    k = editor.findData(value)
                    if k < 0:  # a value this machine does not list (a GPU it lacks): shown, not lost
                        editor.addItem(f"{value} (not on this machine)", value)
                        k = editor.count() - 1
                    editor.setCurrentIndex(k)
                elif isinstance(editor, QCheckBox):
                    editor.setChecked(bool(value))
                elif isinstance(editor, QListWidget):
                    chosen = set(value or ())
                    for k in range(editor.count()):
                        item = editor.item(k)
                        item.setCheckState(Qt.CheckState.Checked if item.data(Qt.ItemDataRole.UserRole) in chosen
                                           else Qt.CheckState.Unchecked)
                elif value is not None:
                    editor.setValue(value)
        finally:
            self._loading = False
        self._show_relevant(training)

    def _show_relevant(self, training: dict[str, Any]) -> None:
        """Fields that matter only for some choices are shown only then."""
        optimizer, schedule = training.get("optimizer"), training.get("schedule")
        relevant = {
            "momentum": optimizer in ("sgd", "rmsprop") or bool(training.get("momentum")),
            "nesterov": optimizer == "sgd" or bool(training.get("nesterov")),
            "step_size": schedule == "step",
            "gamma": schedule in ("step", "plateau"),
            "plateau_patience": schedule == "plateau",
        }
        for key, shown in relevant.items():
            self.form.setRowVisible(self._rows[key][1], shown)
            if not shown:
                self.reasons[key].hide()

    # ---- changes -------------------------------------------------------------------------------

    def _metrics_changed(self) -> None:
        if self._loading:
            return
        editor: QListWidget = self.editors["metrics"]  # type: ignore[assignment]
        picked = [editor.item(k).data(Qt.ItemDataRole.UserRole) for k in range(editor.count())
                  if editor.item(k).checkState() == Qt.CheckState.Checked]
        self.set("metrics", picked)

    def set(self, key: str, value: Any) -> bool:
        """Push one setting; on refusal the reason shows under the field, which keeps what was typed."""
        if self._loading:
            return False
        training = self.document.project.training
        if training.get(key) == value:
            return True
        reasons: list[str] = []
        catch: Callable[[str], None] = reasons.append
        self.document.refused.connect(catch)
        try:
            pushed = self.document.push(SetTraining({key: value}))
        finally:
            self.document.refused.disconnect(catch)
        if pushed:
            return True
        self._show(keep=key)  # every other field shows the project's value again
        self.reasons[key].setText(reasons[0] if reasons else "refused")
        self.reasons[key].show()
        return False
