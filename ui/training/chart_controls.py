"""The row of controls above the training chart: the smoothing, what the x axis counts, a log or fixed loss
axis, the lower plot's metric, and the PNG and CSV exports.

The row holds the widgets and shows what they say; :class:`ui.training.chart.TrainingChart` connects to
them and keeps the state they change.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSlider,
    QToolButton,
    QWidget,
)

DEFAULT_SMOOTHING = 0.6
X_MODES = {"step": "step", "epoch": "epoch", "elapsed": "elapsed time (s)"}


class ChartControls(QWidget):
    """The training chart's controls, in one row.

    Parameters
    ----------
    parent
        The owning widget.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.smoothing_slider = QSlider(Qt.Orientation.Horizontal)
        self.smoothing_slider.setRange(0, 99)
        self.smoothing_slider.setValue(round(DEFAULT_SMOOTHING * 100))
        self.smoothing_slider.setMaximumWidth(140)
        self.smoothing_slider.setToolTip("Smoothing of the per-step loss (TensorBoard's debiased EMA)")
        self.smoothing_label = QLabel(f"{DEFAULT_SMOOTHING:.2f}")
        self.smoothing_slider.valueChanged.connect(lambda value: self.smoothing_label.setText(f"{value / 100:.2f}"))
        self.x_combo = QComboBox()
        for mode, label in X_MODES.items():
            self.x_combo.addItem(label.split(" (")[0].capitalize(), mode)
        self.x_combo.setToolTip("What the x axis counts")
        self.log_check = QCheckBox("Log y")
        self.log_check.setToolTip("Logarithmic loss axis (values ≤ 0 are left out)")
        self.auto_y_check = QCheckBox("Auto y")
        self.auto_y_check.setChecked(True)
        self.auto_y_check.setToolTip("Fit the loss axis to the data; unchecked, it holds the range below")
        self.y_min_spin, self.y_max_spin = QDoubleSpinBox(), QDoubleSpinBox()
        for spin, value in ((self.y_min_spin, 0.0), (self.y_max_spin, 1.0)):
            spin.setRange(-1e12, 1e12)
            spin.setDecimals(6)
            spin.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
            spin.setValue(value)
            spin.setEnabled(False)
            spin.setMaximumWidth(110)
        self.y_min_spin.setToolTip("Bottom of the loss axis")
        self.y_max_spin.setToolTip("Top of the loss axis")
        self.auto_y_check.toggled.connect(self._on_auto_y)
        self.metric_combo = QComboBox()
        self.metric_combo.setToolTip("The metric the lower plot shows")
        self.metric_combo.setMinimumContentsLength(8)
        self.png_button = QToolButton()
        self.png_button.setText("PNG…")
        self.png_button.setToolTip("Save the chart as a PNG image")
        self.csv_button = QToolButton()
        self.csv_button.setText("CSV…")
        self.csv_button.setToolTip("Export every point of a run as CSV")
        self.csv_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.csv_menu = QMenu(self.csv_button)
        self.csv_button.setMenu(self.csv_menu)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)
        for item in (QLabel("Smoothing"), self.smoothing_slider, self.smoothing_label, QLabel("x:"), self.x_combo,
                     self.log_check, self.auto_y_check, self.y_min_spin, QLabel("–"), self.y_max_spin,
                     QLabel("Metric:"), self.metric_combo):
            row.addWidget(item)
        row.addStretch(1)
        row.addWidget(self.png_button)
        row.addWidget(self.csv_button)

    def _on_auto_y(self, auto: bool) -> None:
        for spin in (self.y_min_spin, self.y_max_spin):
            spin.setEnabled(not auto)

    def y_range(self) -> tuple[float, float]:
        """The fixed loss axis range the spin boxes hold, low first."""
        low, high = sorted((self.y_min_spin.value(), self.y_max_spin.value()))
        return low, high

    def show_y_range(self, low: float, high: float) -> None:
        """Shows ``low``..``high`` in the spin boxes without applying it."""
        for spin, value in ((self.y_min_spin, low), (self.y_max_spin, high)):
            spin.blockSignals(True)
            spin.setValue(value)
            spin.blockSignals(False)

    @property
    def metric(self) -> str | None:
        return self.metric_combo.currentData()

    def metric_names(self) -> list[str]:
        return [self.metric_combo.itemData(i) for i in range(self.metric_combo.count())]

    def set_metric_names(self, names: list[str]) -> bool:
        """Offers ``names`` in the metric combo, keeping the current one where it stays; returns whether they
        changed (the combo's own signal is held back: the chart redraws once for the new list)."""
        if names == self.metric_names():
            return False
        current = self.metric
        self.metric_combo.blockSignals(True)
        self.metric_combo.clear()
        for name in names:
            self.metric_combo.addItem(name, name)
        self.metric_combo.setCurrentIndex(max(0, self.metric_combo.findData(current)))
        self.metric_combo.blockSignals(False)
        return True
