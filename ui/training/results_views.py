"""What the Results dock draws: the fitted curve of a one-input model (:class:`FitView`), and a classifier's
confusion matrix, samples and class probabilities (:class:`ClassView`). Both only draw what the engine
computed (:mod:`netbuilder.training.results`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ui.training.widgets import themed_plot

if TYPE_CHECKING:
    from netbuilder.training.run_results import RunResults

THUMB = 56  # px: a thumbnail in the sample grids
ALL_BARS_MAX = 10  # a data set this small shows every sample's probabilities at once
MAX_CELL = 320  # px: the widest a grid's cell grows for its caption
MAX_SAMPLES = 64  # shown at once in a grid (the CSV holds all)


def sample_image(x: np.ndarray) -> QImage | None:
    """A sample as a picture when it is one ([H, W], [1, H, W] or [3, H, W]), scaled to 0..255."""
    if x.ndim == 3 and x.shape[0] in (1, 3):
        x = x[0] if x.shape[0] == 1 else np.moveaxis(x, 0, -1)
    if x.ndim not in (2, 3) or min(x.shape[:2]) < 4:
        return None
    lo, hi = float(np.nanmin(x)), float(np.nanmax(x))
    scaled = np.zeros_like(x, dtype=np.uint8) if hi <= lo else ((x - lo) / (hi - lo) * 255).astype(np.uint8)
    scaled = np.ascontiguousarray(scaled)
    h, w = scaled.shape[:2]
    if scaled.ndim == 2:
        return QImage(scaled.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    return QImage(scaled.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def sample_text(x: np.ndarray, limit: int = 8) -> str:
    flat = x.reshape(-1)
    shown = ", ".join(f"{v:.3g}" for v in flat[:limit])
    return f"[{shown}{', …' if flat.size > limit else ''}]"


def engine_results():
    """:mod:`netbuilder.training.results`, imported when first needed (it imports torch)."""
    from netbuilder.training import results

    return results


class FitView(QWidget):
    """The data as a scatter, the model's curve over it (one feature), or predicted vs true (more)."""

    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.plot = themed_plot()
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.caption)
        self.scatter: pg.ScatterPlotItem | None = None
        self.curve: pg.PlotDataItem | None = None

    def show_results(self, r: RunResults) -> None:
        self.plot.clear()
        x = r.data.x.double().reshape(len(r.data), -1).numpy()
        y_true = r.predictions.targets.double().reshape(len(r.data), -1).numpy()
        self.scatter = pg.ScatterPlotItem(size=7, pen=None, brush=pg.mkBrush(52, 120, 200, 150), name="data")
        if r.one_feature:
            curve = r.fitted_curve()
            ys = curve.ys if curve.ys.ndim == 1 else curve.ys[:, -1]
            self.scatter.setData(x[:, 0], y_true[:, 0])
            self.curve = pg.PlotDataItem(curve.xs, ys, pen=pg.mkPen((220, 80, 40), width=3), name="model")
            self.plot.addItem(self.scatter)
            self.plot.addItem(self.curve)
            self.plot.setLabel("bottom", (r.data.feature_names or ["x"])[0])
            self.plot.setLabel("left", "probability of class 1" if r.data.task == "binary" else "y")
            slope = np.polyfit(curve.xs, ys, 1)[0] if r.data.task == "regression" else None
            self.caption.setText(f"{len(r.data)} {'held-out' if r.held_out else 'training'} samples (dots) and the "
                                 f"model's {'sigmoid' if r.data.task == 'binary' else 'line'} (red)"
                                 + (f": slope {slope:.3f}." if slope is not None else "."))
        else:
            out = r.predictions.outputs.double().reshape(len(r.data), -1).numpy()
            self.scatter.setData(y_true[:, 0], out[:, 0])
            lo = float(min(y_true[:, 0].min(), out[:, 0].min()))
            hi = float(max(y_true[:, 0].max(), out[:, 0].max()))
            dashed = pg.mkPen((120, 120, 120), width=1, style=Qt.PenStyle.DashLine)
            self.curve = pg.PlotDataItem([lo, hi], [lo, hi], pen=dashed)
            self.plot.addItem(self.curve)
            self.plot.addItem(self.scatter)
            self.plot.setLabel("bottom", "true")
            self.plot.setLabel("left", "predicted")
            self.caption.setText(f"Predicted against true for {len(r.data)} samples; on the dashed line they agree.")


class ClassView(QWidget):
    """Confusion matrix, per-class precision and recall, samples, most confused, top losses, bars."""

    def __init__(self) -> None:
        super().__init__()
        self.results: RunResults | None = None
        self.cm = np.zeros((0, 0), dtype=np.int64)
        outer = QHBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        split = QSplitter(Qt.Orientation.Horizontal)
        outer.addWidget(split)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        self.normalise = QCheckBox("Normalise by row")
        self.normalise.setToolTip("Show each true class's row as fractions of that class (its recall on the diagonal)")
        self.normalise.toggled.connect(self._fill_matrix)
        self.summary = QLabel()
        top.addWidget(self.summary, 1)
        top.addWidget(self.normalise)
        lv.addLayout(top)
        self.matrix = QTableWidget()
        self.matrix.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.matrix.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.matrix.cellClicked.connect(self.show_cell)
        self.matrix.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        lv.addWidget(QLabel("Confusion matrix: rows are the true class, columns the predicted one. Click a cell "
                            "to see its samples."))
        lv.addWidget(self.matrix, 1)
        split.addWidget(left)
        right = QSplitter(Qt.Orientation.Vertical)  # the samples above, the bars below, each resizable
        top_right = QWidget()
        rv = QVBoxLayout(top_right)
        rv.setContentsMargins(0, 0, 0, 0)
        self.tabs = QTabWidget()
        self.samples = self._grid()
        self.top_losses = self._grid()
        self.confused = QListWidget()
        self.confused.itemClicked.connect(lambda item: self.show_cell(*item.data(Qt.ItemDataRole.UserRole)))
        self.tabs.addTab(self.samples, "Samples")
        self.tabs.addTab(self.top_losses, "Highest loss")
        self.tabs.addTab(self.confused, "Most confused")
        self.samples_caption = QLabel()
        self.samples_caption.setWordWrap(True)
        rv.addWidget(self.samples_caption)
        rv.addWidget(self.tabs, 1)
        right.addWidget(top_right)
        bottom_right = QWidget()
        bv = QVBoxLayout(bottom_right)
        bv.setContentsMargins(0, 0, 0, 0)
        self.bars = themed_plot()
        self.bars.setMinimumHeight(120)
        self.bars.setLabel("left", "probability")
        self.bars.setYRange(0, 1)
        self.bars_caption = QLabel("Click a sample to see its class probabilities.")
        self.bars_caption.setWordWrap(True)
        bv.addWidget(self.bars_caption)
        bv.addWidget(self.bars, 1)
        right.addWidget(bottom_right)
        right.setSizes([200, 200])
        split.addWidget(right)
        split.setSizes([420, 420])

    def _grid(self) -> QListWidget:
        grid = QListWidget()
        grid.setViewMode(QListWidget.ViewMode.IconMode)
        grid.setIconSize(QSize(THUMB, THUMB))
        grid.setGridSize(QSize(THUMB + 40, THUMB + 2 * grid.fontMetrics().height() + 8))  # _fill_grid fits its captions
        grid.setUniformItemSizes(True)
        grid.setResizeMode(QListWidget.ResizeMode.Adjust)
        grid.setWordWrap(True)
        grid.setSpacing(4)
        grid.currentItemChanged.connect(lambda item, _old: item is not None and self.show_sample(
            item.data(Qt.ItemDataRole.UserRole)))
        return grid

    def show_results(self, r: RunResults) -> None:
        self.results = r
        self.names = r.class_names()
        self.cm = r.confusion()
        total = int(self.cm.sum())
        right = int(np.trace(self.cm))
        self.summary.setText(f"{right} of {total} right ({right / max(1, total):.1%}) on the "
                             f"{'held-out' if r.held_out else 'training'} samples")
        self._fill_matrix()
        self.confused.clear()
        for true, predicted, count in engine_results().most_confused(self.cm, self.names, 20):
            item = QListWidgetItem(f"{count} × true {true}, predicted {predicted}")
            item.setData(Qt.ItemDataRole.UserRole, (self.names.index(true), self.names.index(predicted)))
            self.confused.addItem(item)
        self._fill_grid(self.top_losses, engine_results().top_losses(r.predictions, MAX_SAMPLES))
        cell = self._first_mistake()
        self.show_cell(*cell)
        if len(r.data) <= ALL_BARS_MAX:  # the teaching text's picture: every sample's class probabilities
            self.show_all_samples()

    def show_all_samples(self) -> None:
        """Grouped bars: for each sample, each class's probability (a few samples, as the teaching text has)."""
        r = self.results
        if r is None:
            return
        probs = r.predictions.probs.double().numpy()
        n, c = probs.shape
        width = 0.8 / c
        self.bars.clear()
        if self.bars.plotItem.legend is None:
            self.bars.addLegend(offset=(-8, 8))
        self.bars.plotItem.legend.clear()
        for k in range(c):
            colour = pg.intColor(k, hues=max(c, 3), values=1, maxValue=200)
            self.bars.addItem(pg.BarGraphItem(x=np.arange(n) + (k - (c - 1) / 2) * width, height=probs[:, k],
                                              width=width * 0.9, brush=colour, name=self.names[k]))
        labels = [(i, f"#{i} ({self.names[int(r.predictions.labels[i])]})") for i in range(n)]
        self.bars.getAxis("bottom").setTicks([labels])
        self.bars.setYRange(0, 1)
        self.bars_caption.setText("Every sample's class probabilities (its true class in brackets; the legend "
                                  "names the colours). Click a sample above for its own.")
        self.shown_sample = None

    def _first_mistake(self) -> tuple[int, int]:
        off = self.cm.copy()
        np.fill_diagonal(off, 0)
        if off.sum():
            t, p = np.unravel_index(int(off.argmax()), off.shape)
            return int(t), int(p)
        return 0, 0

    def _fill_matrix(self) -> None:
        if self.results is None:
            return
        c = len(self.cm)
        precision, recall = engine_results().precision_recall(self.cm)
        shown = engine_results().normalise_rows(self.cm) if self.normalise.isChecked() else self.cm
        self.matrix.clear()
        self.matrix.setRowCount(c)
        self.matrix.setColumnCount(c + 1)
        self.matrix.setHorizontalHeaderLabels([*self.names, "recall"])
        self.matrix.setVerticalHeaderLabels(self.names)
        top = float(shown.max()) if shown.size and shown.max() > 0 else 1.0
        for i in range(c):
            for j in range(c):
                value = shown[i, j]
                item = QTableWidgetItem(f"{value:.2f}" if self.normalise.isChecked() else str(int(value)))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                strength = float(value) / top
                base = QColor(40, 120, 200) if i == j else QColor(220, 70, 50)
                if value:
                    item.setBackground(QBrush(QColor(base.red(), base.green(), base.blue(), int(40 + 180 * strength))))
                item.setToolTip(f"true {self.names[i]}, predicted {self.names[j]}: {int(self.cm[i, j])} samples")
                self.matrix.setItem(i, j, item)
            r = QTableWidgetItem("—" if np.isnan(recall[i]) else f"{recall[i]:.2f}")
            r.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            self.matrix.setItem(i, c, r)
        self.matrix.setRowCount(c + 1)
        self.matrix.setVerticalHeaderItem(c, QTableWidgetItem("precision"))
        for j in range(c):
            p = QTableWidgetItem("—" if np.isnan(precision[j]) else f"{precision[j]:.2f}")
            p.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            self.matrix.setItem(c, j, p)

    def show_cell(self, true: int, predicted: int) -> None:
        r = self.results
        if r is None or true >= len(self.cm) or predicted >= len(self.cm):
            return
        index = engine_results().samples_in_cell(r.predictions, true, predicted)
        noun = "sample" if len(index) == 1 else "samples"
        more = f" (first {MAX_SAMPLES})" if len(index) > MAX_SAMPLES else ""
        self.samples_caption.setText(f"{len(index)} {noun} of true class {self.names[true]} predicted as "
                                     f"{self.names[predicted]}{more}")
        self._fill_grid(self.samples, index[:MAX_SAMPLES])
        if self.samples.count():
            self.samples.setCurrentRow(0)  # its probabilities show at once
        self.tabs.setCurrentWidget(self.samples)
        self.shown_cell = (true, predicted)

    def _fill_grid(self, grid: QListWidget, index: Any) -> None:
        r = self.results
        assert r is not None
        grid.clear()
        pred = r.predictions
        lines = 2
        for i in [int(v) for v in index]:
            x = r.data.x[i].double().numpy()
            t, p = int(pred.labels[i]), int(pred.predicted[i])
            prob = float(pred.probs[i, p])
            # Read in full under the thumbnail: the grid's cells are made wide enough below.
            caption = (f"true {self.names[t]} → predicted {self.names[p]}\n"
                       f"{prob:.0%} sure, loss {float(pred.loss[i]):.2g}")
            image = sample_image(x)
            if image is not None:
                pix = QPixmap.fromImage(image).scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                                                      Qt.TransformationMode.FastTransformation)
                item = QListWidgetItem(pix, caption)
            else:
                item = QListWidgetItem(f"#{i} {sample_text(x)}\n{caption}")
            item.setToolTip(f"sample {i}: true {self.names[t]}, predicted {self.names[p]} with probability {prob:.3f}, "
                            f"loss {float(pred.loss[i]):.4g}")
            item.setData(Qt.ItemDataRole.UserRole, i)
            grid.addItem(item)
            lines = max(lines, item.text().count("\n") + 1)
        self._fit_captions(grid, lines)

    @staticmethod
    def _fit_captions(grid: QListWidget, lines: int) -> None:
        """Cells as wide as the grid's widest caption line (a thumbnail's width at least) and tall enough for its
        ``lines``: no caption is cut to "0→4 …"."""
        metrics = grid.fontMetrics()
        widest = max((metrics.horizontalAdvance(line) for k in range(grid.count())
                      for line in grid.item(k).text().split("\n")), default=0)
        width = min(max(THUMB + 40, widest + 16), MAX_CELL)  # a long sample's text wraps instead
        grid.setGridSize(QSize(width, THUMB + lines * metrics.height() + 12))

    def show_sample(self, index: int) -> None:
        r = self.results
        if r is None or index is None:
            return
        probs = r.predictions.probs[index].double().numpy()
        self.bars.clear()
        if self.bars.plotItem.legend is not None:
            self.bars.plotItem.legend.clear()
        xs = np.arange(len(probs))
        true = int(r.predictions.labels[index])
        brushes = [pg.mkBrush(40, 160, 90) if k == true else pg.mkBrush(70, 120, 200) for k in xs]
        self.bars.addItem(pg.BarGraphItem(x=xs, height=probs, width=0.7, brushes=brushes))
        self.bars.getAxis("bottom").setTicks([[(int(k), self.names[k]) for k in xs]])
        self.bars.setYRange(0, 1)
        self.bars_caption.setText(f"Sample {index}: class probabilities (green: its true class "
                                  f"{self.names[true]}; predicted {self.names[int(r.predictions.predicted[index])]})")
        self.shown_sample = index
