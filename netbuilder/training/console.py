"""What ``netbuilder train`` shows: a progress bar on a terminal, JSON lines with --json-log."""

from __future__ import annotations

import json
import math
import sys
from dataclasses import asdict
from typing import TextIO

from netbuilder.training.events import Epoch, Event, Failed, Finished, Started, Steps


def _fmt(metrics: dict[str, float] | None) -> str:
    return "  ".join(f"{k} {v:.4g}" for k, v in (metrics or {}).items())


class JsonLog:
    """One JSON object per event and line, with an "event" field naming its kind."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout  # looked up now, not at import: tests swap it

    def __call__(self, event: Event) -> None:
        doc = {"event": type(event).__name__.lower(), **asdict(event)}
        if isinstance(event, Steps):
            doc.update(step=event.step, progress=event.progress)
        self.stream.write(json.dumps(_clean(doc), allow_nan=False) + "\n")
        self.stream.flush()


def _clean(doc: object) -> object:
    """JSON has no NaN or Infinity: write them as null."""
    if isinstance(doc, float):
        return doc if math.isfinite(doc) else None
    if isinstance(doc, dict):
        return {k: _clean(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_clean(v) for v in doc]
    return doc


class ProgressDisplay:
    """A rich progress bar (epoch, batch, loss, samples/s, ETA) with a line per epoch."""

    def __init__(self, stream: TextIO | None = None) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        self.console = Console(file=stream or sys.stderr)
        self.progress = Progress(
            TextColumn("epoch {task.fields[epoch]}"), TextColumn("batch {task.fields[batch]}"),
            BarColumn(), TextColumn("loss {task.fields[loss]}"), TextColumn("{task.fields[rate]} samples/s"),
            TimeRemainingColumn(), console=self.console, transient=False)
        self.task = None

    def __call__(self, event: Event) -> None:
        if isinstance(event, Started):
            self.console.print(f"Training on {event.device}: {event.train_samples} samples"
                               + (f", {event.val_samples} for validation" if event.val_samples else "")
                               + f", {event.epochs} epochs of {event.steps_per_epoch} batches")
            self.progress.start()
            self.task = self.progress.add_task("train", total=event.epochs * event.steps_per_epoch,
                                               epoch="-", batch="-", loss="-", rate="-")
        elif isinstance(event, Steps) and self.task is not None:
            self.progress.update(self.task, completed=event.step + 1, epoch=f"{event.epoch + 1}",
                                 batch=f"{event.batch + 1}/{event.steps_per_epoch}",
                                 loss=f"{event.losses[-1]:.4g}", rate=f"{event.samples_per_s:,.0f}")
        elif isinstance(event, Epoch):
            val = f"  |  val {_fmt(event.val)}" if event.val else ""
            self.progress.console.print(f"epoch {event.epoch + 1}: train {_fmt(event.train)}{val}")
        elif isinstance(event, (Finished, Failed)):
            self.progress.stop()
            if isinstance(event, Failed):
                self.console.print(f"[red]failed:[/red] {event.message}")
            else:
                self.console.print(f"{event.reason} after {event.epochs_done} epochs ({event.steps_done} steps)")


class EpochLines:
    """Plain lines, for a stream that is not a terminal."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr

    def __call__(self, event: Event) -> None:
        line = None
        if isinstance(event, Started):
            line = f"training on {event.device}: {event.train_samples} samples, {event.epochs} epochs"
        elif isinstance(event, Epoch):
            val = f" | val {_fmt(event.val)}" if event.val else ""
            line = f"epoch {event.epoch + 1}: train {_fmt(event.train)}{val}"
        elif isinstance(event, Finished):
            line = f"{event.reason} after {event.epochs_done} epochs ({event.steps_done} steps)"
        elif isinstance(event, Failed):
            line = f"failed: {event.message}"
        if line:
            print(line, file=self.stream, flush=True)
