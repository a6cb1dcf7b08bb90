"""The line under the training chart: a hint of what the curves are, and on hover the values of each shown
run's series nearest the pointer."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ui.training.chart_run import ChartRun

HINT = "thin: every step · bold: smoothed · ●: epoch train · ■ dashed: validation · hover for values"


def readout_text(runs: Iterable[ChartRun], x_mode: str, metric: str | None, x: float) -> str:
    """The values of each visible run's series nearest ``x`` (in ``x_mode``), as rich text."""
    parts = [f"<b>{x_mode} {x:,.4g}</b>"]
    for run in runs:
        if not run.visible:
            continue
        values = []
        if len(run.steps):
            i = nearest(run.steps.x(x_mode), x)
            smoothed = run.smoothed.values.values
            values.append(f"loss {run.steps.y[i]:.4g}")
            if i < len(smoothed):
                values.append(f"smoothed {smoothed[i]:.4g}")
        for name in ("train/loss", "val/loss", f"train/{metric}", f"val/{metric}", "lr"):
            series = run.epochs.get(name)
            if series is not None and len(series):
                i = nearest(series.x(x_mode), x)
                label = {"train/loss": "epoch loss", "lr": "lr"}.get(name, name.replace("/", " "))
                values.append(f"{label} {series.y[i]:.4g}")
        if values:
            parts.append(f'<span style="color:{run.colour.name()}">■</span> {run.name}: ' + ", ".join(values))
    return "<br>".join(parts)


def nearest(xs: np.ndarray, x: float) -> int:
    """The index of the value of the sorted ``xs`` nearest ``x`` (the first of two as near)."""
    i = int(np.searchsorted(xs, x))
    if i >= len(xs):
        return len(xs) - 1
    if i > 0 and abs(xs[i - 1] - x) <= abs(xs[i] - x):
        return i - 1
    return i
