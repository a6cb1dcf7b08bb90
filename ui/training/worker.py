"""The training worker: a child process running the headless ``netbuilder train`` path.

Why a process and not a QThread (figures in benchmarks/bench_gui_training.py and docs/training.md):
the window's event loop stalls whenever Python's garbage collector walks a heap that holds torch
and Qt together, and torch's kernels compete with the GUI thread for the interpreter. A child
process keeps its heap, its threads and any crash in native code away from the window; it is also
the shape a remote run would take. The child prints one JSON object per event on stdout
(``--json-log``) and reads ``pause`` / ``resume`` / ``stop`` lines on stdin (``--control-stdin``).

Events reach the GUI as Qt signals emitted on the GUI thread (QProcess reads in the event loop),
carrying the engine's own event dataclasses: plain data, no widget is touched elsewhere.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections import deque
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, Signal

from netbuilder.training import events as engine_events

# "steps" -> events.Steps, ... : every dataclass the engine's JsonLog can write.
EVENT_TYPES: dict[str, type] = {name.lower(): cls for name, cls in vars(engine_events).items()
                                if isinstance(cls, type) and dataclasses.is_dataclass(cls)}


def parse_event(line: str) -> Any | None:
    """The engine event a JSON line stands for (None for a line that is not one, e.g. a warning)."""
    try:
        doc = json.loads(line)
    except ValueError:
        return None
    if not isinstance(doc, dict) or (cls := EVENT_TYPES.get(str(doc.get("event")))) is None:
        return None
    types = {f.name: str(f.type) for f in dataclasses.fields(cls)}
    values = {k: _finite_or_nan(v, types[k]) for k, v in doc.items() if k in types}
    try:
        return cls(**values)
    except TypeError:  # a field missing: an older or newer engine; not an event this app can read
        return None


def _finite_or_nan(value: Any, annotation: str) -> Any:
    """JSON writes NaN and infinities as null: read a null back as NaN where a float is expected
    (a loss, a metric, the ETA), and keep it as None where the field may be None (no validation set)."""
    if value is None:
        return float("nan") if annotation == "float" else None
    if isinstance(value, list) and annotation.startswith("list[float"):
        return [float("nan") if v is None else v for v in value]
    if isinstance(value, dict):
        return {k: float("nan") if v is None else v for k, v in value.items()}
    return value


def engine_command() -> list[str]:
    """How to start the headless engine: ``python -m netbuilder``, or in a frozen bundle (PyInstaller)
    the app's own executable, whose entry (ui/entry.py) hands subcommands to the CLI before Qt loads."""
    return [sys.executable] if getattr(sys, "frozen", False) else [sys.executable, "-m", "netbuilder"]


class TrainingWorker(QObject):
    """One training run in a child process. ``event`` carries each engine event; ``ended`` fires once,
    with the last event (Finished or Failed; a Failed of kind "crash" when the process died without one)."""

    event = Signal(object)
    ended = Signal(object)
    note = Signal(str)  # what the process says for people before its run starts (a data set downloading)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.process: QProcess | None = None
        self._buffer = b""
        self._stderr: deque[str] = deque(maxlen=40)
        self._last: Any = None
        self._ended = False
        self.extra_args: list[str] = []

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.state() != QProcess.ProcessState.NotRunning

    def command(self, snapshot: Path, runs_folder: Path) -> list[str]:
        return [*engine_command(), "train", str(snapshot), "--json-log", "--control-stdin",
                "--out", str(runs_folder), *self.extra_args]

    def start(self, snapshot: Path, runs_folder: Path, environment: dict[str, str] | None = None) -> None:
        if self.running:
            raise RuntimeError("a run is already going on in this worker")
        self._buffer, self._last, self._ended = b"", None, False
        self._stderr.clear()
        process = QProcess(self)
        env = QProcessEnvironment.systemEnvironment()
        env.insert("PYTHONUNBUFFERED", "1")
        env.remove("QT_QPA_PLATFORM")  # the child never opens a window
        for key, value in (environment or {}).items():
            env.insert(key, value)
        process.setProcessEnvironment(env)
        process.readyReadStandardOutput.connect(self._read_stdout)
        process.readyReadStandardError.connect(self._read_stderr)
        process.finished.connect(self._finished)
        process.errorOccurred.connect(self._error)
        program, *args = self.command(snapshot, runs_folder)
        self.process = process
        process.start(program, args)

    # ---- control ---------------------------------------------------------------------------
    def _send(self, command: str) -> None:
        if self.running:
            assert self.process is not None
            self.process.write(f"{command}\n".encode())

    def pause(self) -> None:
        self._send("pause")

    def resume(self) -> None:
        self._send("resume")

    def stop(self) -> None:
        self._send("stop")

    def kill(self) -> None:
        if self.running:
            assert self.process is not None
            self.process.kill()

    def wait(self, msecs: int) -> bool:
        """Block until the process has ended (and its last events were read), at most ``msecs``."""
        if self.process is None:
            return True
        done = self.process.waitForFinished(msecs) or not self.running
        if done:
            self._read_stdout()
        return done

    # ---- what the process says ----------------------------------------------------------------
    def _read_stdout(self) -> None:
        if self.process is None:
            return
        self._buffer += bytes(self.process.readAllStandardOutput().data())
        *lines, self._buffer = self._buffer.split(b"\n")
        for raw in lines:
            event = parse_event(raw.decode("utf-8", "replace"))
            if event is None:
                if raw.strip():
                    self._stderr.append(raw.decode("utf-8", "replace"))
                continue
            self._last = event
            self.event.emit(event)
            if isinstance(event, (engine_events.Finished, engine_events.Failed)):
                # The run is over (its checkpoints written) when it says so; the interpreter's own
                # exit, which can take a second with torch loaded, is not waited for.
                self._end(event)

    def _read_stderr(self) -> None:
        if self.process is None:
            return
        text = bytes(self.process.readAllStandardError().data()).decode("utf-8", "replace")
        lines = [line.strip() for line in text.splitlines() if line.strip()]  # "\r" rewrites count as lines
        self._stderr.extend(lines)
        notes = [line for line in lines if line.startswith("downloading ")]
        if notes:
            self.note.emit(notes[-1][0].upper() + notes[-1][1:])

    def stderr_tail(self) -> str:
        return "\n".join(self._stderr)

    def _error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self._end(engine_events.Failed(
                f"the training process could not start ({self.process.errorString() if self.process else error}); "
                f"check that '{' '.join(engine_command())} train' can run", 0, "crash"))

    def _finished(self, exit_code: int, status: QProcess.ExitStatus) -> None:
        self._read_stdout()
        self._read_stderr()
        last = self._last
        if isinstance(last, (engine_events.Finished, engine_events.Failed)):
            self._end(last)
            return
        tail = self.stderr_tail().splitlines()[-3:]
        how = "crashed" if status == QProcess.ExitStatus.CrashExit else f"ended with exit code {exit_code}"
        detail = (": " + " / ".join(tail)) if tail else ""
        step = getattr(last, "step", 0) if last is not None else 0
        self._end(engine_events.Failed(f"the training process {how} without finishing the run{detail}. "
                                       "The project is unchanged; the run's last checkpoint (if any) is in the "
                                       "Runs dock", int(step or 0), "crash"))

    def _end(self, event: Any) -> None:
        if not self._ended:
            self._ended = True
            self.ended.emit(event)
