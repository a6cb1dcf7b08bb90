"""How a run and its weights are named to the user: "run 2", "best at epoch 2 (val_loss 0.31)",
"run 2's last weights (step 120)" — the words the Runs dock, the run picker and the status bar share."""

from __future__ import annotations

import math
from pathlib import Path

from netbuilder.training.history import RunRecord


def run_label(record: RunRecord) -> str:
    return record.name or f"run {record.id}"


def best_text(record: RunRecord) -> str:
    """The best monitored value, ``val_loss 0.31``; ``—`` when the run has none."""
    monitor = record.settings.get("monitor", "loss")
    for key in (f"val_{monitor}", f"train_{monitor}"):
        value = record.best.get(key)
        if isinstance(value, (int, float)) and math.isfinite(value):
            return f"{key} {value:.4g}"
    return "—"


def best_epoch_text(record: RunRecord) -> str:
    """``best at epoch 2 (val_loss 0.31)``; ``no best epoch yet`` for a run that ended before one."""
    epoch = record.best.get("epoch")
    if not isinstance(epoch, (int, float)) or not math.isfinite(epoch):
        return "no best epoch yet"
    value = best_text(record)
    return f"best at epoch {int(epoch)}" + (f" ({value})" if value != "—" else "")


def picker_label(record: RunRecord) -> str:
    """A run as a list of runs to choose from offers it: ``run 1 — completed, best at epoch 2 (val_loss 0.31)``."""
    return f"{run_label(record)} — {record.status.replace('_', '-')}, {best_epoch_text(record)}"


def checkpoint_words(record: RunRecord, checkpoint: Path) -> str:
    """Which of the run's checkpoints ``checkpoint`` is, with where the run was: ``run 2's best weights (epoch 2,
    step 120)``, ``run 2's last weights (step 120)``."""
    from netbuilder.errors import NetbuilderError
    from netbuilder.training.checkpoint import read_metadata  # torch: imported when first needed

    tag = Path(checkpoint).stem
    try:
        meta = read_metadata(Path(checkpoint))
    except NetbuilderError:
        meta = {}
    shown = ("epoch", "step") if tag == "best" else ("step",)  # a stopped run's last may be mid-epoch
    where = [f"{k} {meta[k]}" for k in shown if isinstance(meta.get(k), int)]
    return f"{run_label(record)}'s {tag} weights" + (f" ({', '.join(where)})" if where else "")
