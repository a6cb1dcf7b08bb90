"""Thousands of pyqtgraph redraws must not kill the process.

PySide6 6.12.0 on Python 3.11 crashes inside pyqtgraph ("Fatal Python error: none_dealloc")
after a few hundred redraws; pyproject.toml excludes it. This runs the redraws in a child
process, so a crash fails this test with its message instead of taking pytest down.
"""

from __future__ import annotations

import os
import subprocess
import sys

SOAK = """
import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QApplication
app = QApplication([])
plot = pg.PlotWidget()
plot.resize(640, 400)
plot.show()
curve = plot.plot(pen="y")
curve.setClipToView(True)
curve.setDownsampling(auto=True, method="peak")
data = np.cumsum(np.random.default_rng(0).normal(size=20000))
for k in range(1, 3001):
    curve.setData(data[: 5 * k + 10])
    plot.repaint()
    app.processEvents()
print("redraws", k)
"""


def test_three_thousand_redraws_survive() -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run([sys.executable, "-c", SOAK], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "redraws 3000" in result.stdout
