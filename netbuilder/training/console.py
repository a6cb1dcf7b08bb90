"""What ``netbuilder train`` shows: a progress bar on a terminal, JSON lines with --json-log;
and what it hears with --control-stdin: pause, resume and stop, one a line."""

from __future__ import annotations

import json
import math
import sys
import threading
from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, ClassVar, TextIO

from netbuilder.training.events import Epoch, Event, Failed, Finished, Paused, Resumed, Started, Steps

if TYPE_CHECKING:
    from netbuilder.training.trainer import Trainer


def _fmt(metrics: dict[str, float] | None) -> str:
    return "  ".join(f"{k} {v:.4g}" for k, v in (metrics or {}).items())


class JsonLog:
    """One JSON object per event and line, with an "event" field naming its kind.

    A stream that breaks (the app reading it died: a broken pipe) is no failure of the run: the
    log goes quiet and ``gone()`` is called once, so the caller can end the run as interrupted.
    """

    def __init__(self, stream: TextIO | None = None, gone: Callable[[], None] | None = None) -> None:
        self.stream = stream or sys.stdout  # looked up now, not at import: tests swap it
        self.gone = gone
        self.broken = False

    def __call__(self, event: Event) -> None:
        if self.broken:
            return
        doc = {"event": type(event).__name__.lower(), **asdict(event)}
        if isinstance(event, Steps):
            doc.update(step=event.step, progress=event.progress)
        try:
            self.stream.write(json.dumps(_clean(doc), allow_nan=False) + "\n")
            self.stream.flush()
        except (OSError, ValueError):  # EPIPE, or the stream closed under us
            self.broken = True
            if self.gone is not None:
                self.gone()


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
        elif isinstance(event, (Paused, Resumed)):
            word = "paused" if isinstance(event, Paused) else "resumed"
            self.progress.console.print(f"{word} after {event.step} steps")
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
        elif isinstance(event, Paused):
            line = f"paused after {event.step} steps"
        elif isinstance(event, Resumed):
            line = f"resumed after {event.step} steps"
        if line:
            print(line, file=self.stream, flush=True)


class StdinControl:
    """Control a run from the lines of ``stream`` (stdin: the GUI's pipe to a child process).

    ``pause``, ``resume`` and ``stop`` call the Trainer's pause(), resume() and cancel();
    other lines are ignored. The end of the stream without a ``stop`` (the parent died, or
    closed the pipe without a word) interrupts the run: it ends as a stop does, its last
    checkpoint written, but the history calls it interrupted, since no one asked. Commands
    that come before :meth:`attach` (the data is still loading) wait and take effect, in
    order, when the Trainer is attached.
    """

    COMMANDS: ClassVar[dict[str, str]] = {"pause": "pause", "resume": "resume", "stop": "cancel",
                                          "interrupt": "interrupt"}  # line: method

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdin
        self._lock = threading.Lock()
        self._trainer: Trainer | None = None
        self._queued: list[str] = []
        self._done = False
        self.thread: threading.Thread | None = None

    def start(self) -> StdinControl:
        """Read the stream on a daemon thread (it must not keep the process alive); returns self."""
        self.thread = threading.Thread(target=self._read, name="netbuilder-control-stdin", daemon=True)
        self.thread.start()
        return self

    def _read(self) -> None:
        try:
            if self.stream is not None:  # no stdin at all (a windowed process): as good as closed
                for line in iter(self.stream.readline, ""):
                    self.command(line)
        except (OSError, ValueError):  # the stream broke or was closed under us
            pass
        self.command("interrupt")

    def command(self, line: str) -> None:
        """Apply one line now, or when the Trainer comes; unknown lines do nothing."""
        method = self.COMMANDS.get(line.strip().lower())
        if method is None:
            return
        with self._lock:  # one order for queued and live commands
            if self._done:
                return
            if self._trainer is None:
                self._queued.append(method)
            else:
                getattr(self._trainer, method)()

    def attach(self, trainer: Trainer) -> None:
        with self._lock:
            self._trainer = trainer
            for method in self._queued:
                getattr(trainer, method)()
            self._queued.clear()

    def detach(self) -> None:
        """The run is over: later lines (the pipe closing) do nothing, and the Trainer is let go."""
        with self._lock:
            self._done = True
            self._trainer = None
