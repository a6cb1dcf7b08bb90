"""One run on the training chart: its series, its cached smoothing and thinned copies, its curves, and how
they look in the run's colour."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from ui.training.chart_items import SmoothedLosses
from ui.training.series import PeakPyramid, Series

RunKey = int | str
# Tableau 10: distinct hues that stay apart on light and dark backgrounds.
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
           "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


@dataclass
class ChartRun:
    key: RunKey
    name: str
    colour: QColor
    live: bool
    visible: bool = True
    steps: Series = field(default_factory=Series)
    smoothed: SmoothedLosses = field(default_factory=SmoothedLosses)
    raw_peaks: PeakPyramid = field(default_factory=PeakPyramid)  # what a redraw hands pyqtgraph of a long run
    smooth_peaks: PeakPyramid = field(default_factory=PeakPyramid)
    smooth_weight: float | None = None  # the smoothing the smoothed peaks were taken at
    epochs: dict[str, Series] = field(default_factory=dict)  # "train/loss", "val/accuracy", "lr", ...
    planned: dict[str, float] = field(default_factory=dict)  # the run's planned end by x mode (step, epoch)
    curves: dict[str, pg.PlotDataItem] = field(default_factory=dict)
    dirty_steps: bool = False
    dirty_epochs: bool = False

    def epoch_series(self, name: str) -> Series:
        return self.epochs.setdefault(name, Series(capacity=64))


def curve_styles(colour: QColor, name: str) -> dict[str, dict]:
    """Each of a run's curves' pyqtgraph style, by part: the raw steps faint, the smoothed bold (the legend's
    sample, named), epoch train points dots and validation dashed squares, the learning rate dotted."""
    faint = QColor(colour)
    faint.setAlpha(70)
    return {
        "raw": {"pen": pg.mkPen(faint, width=1)},
        "smoothed": {"pen": pg.mkPen(colour, width=2.5), "name": name},
        "train/loss": _epoch_style(colour, validation=False),
        "val/loss": _epoch_style(colour, validation=True),
        "train/metric": _epoch_style(colour, validation=False),
        "val/metric": _epoch_style(colour, validation=True),
        "lr": {"pen": pg.mkPen(colour, width=1, style=Qt.PenStyle.DotLine)},
    }


def _epoch_style(colour: QColor, validation: bool) -> dict:
    pen = pg.mkPen(colour, width=1.5, style=Qt.PenStyle.DashLine if validation else Qt.PenStyle.SolidLine)
    return {"pen": pen, "symbol": "s" if validation else "o", "symbolSize": 6, "symbolPen": pg.mkPen(colour),
            "symbolBrush": pg.mkBrush(colour if not validation else QColor(0, 0, 0, 0))}
