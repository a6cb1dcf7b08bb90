"""A run's chart series as one long-format CSV: every step's loss, then every epoch's metrics."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ui.training.series import Series


def write_run_csv(path: str | Path, steps: Series, epochs: dict[str, Series]) -> None:
    """Columns: ``kind, step, epoch, elapsed_s, loss``, then ``val_loss, learning_rate`` and a ``train_NAME`` /
    ``val_NAME`` pair for each other metric. ``kind`` is ``step`` for each step's loss (the epoch-only columns
    empty) or ``epoch`` for each epoch (``loss`` is its train loss, ``epoch`` counts finished epochs, ``step`` is
    the last step before it)."""
    names = sorted({name.partition("/")[2] for name in epochs if "/" in name} - {"loss"})
    epoch_columns = ["val/loss", "lr"] + [f"{p}/{n}" for n in names for p in ("train", "val")]
    header = ["kind", "step", "epoch", "elapsed_s", "loss", "val_loss", "learning_rate"]
    header += [f"{p}_{n}" for n in names for p in ("train", "val")]
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        blanks = [""] * (len(header) - 5)
        s = steps
        writer.writerows(["step", step, epoch, elapsed, loss, *blanks] for step, epoch, elapsed, loss in zip(
            s.step.astype(np.int64).tolist(), s.epoch.tolist(), s.elapsed.tolist(), s.y.tolist(), strict=True))
        for row in epoch_rows(epochs, ["train/loss", *epoch_columns]):
            writer.writerow(["epoch", *row])


def epoch_rows(epochs: dict[str, Series], columns: list[str]) -> list[list]:
    """One row per epoch: step, epoch, elapsed, then each column's value ("" where that series has none).
    Series of one run's epochs may start later (a metric first reported at epoch 3): they join on the epoch."""
    rows: dict[float, list] = {}
    for c, name in enumerate(columns):
        series = epochs.get(name)
        if series is None:
            continue
        for step, epoch, elapsed, value in zip(series.step.tolist(), series.epoch.tolist(),
                                               series.elapsed.tolist(), series.y.tolist(), strict=True):
            row = rows.setdefault(epoch, [int(step), epoch, elapsed] + [""] * len(columns))
            row[3 + c] = value
    return [rows[e] for e in sorted(rows)]
