"""Run history in an embedded SQLite database: settings, per-step and per-epoch metrics, results.

Each report interval is one committed transaction (WAL journal), so a process killed
mid-run leaves a readable database whose run shows as interrupted. A user may name a run
and keep a note on it; a database from before those columns gains them when opened.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from netbuilder.errors import NetbuilderError
from netbuilder.files.processes import pid_alive
from netbuilder.training.events import Epoch, Event, Failed, Finished, Started, Steps

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY, project TEXT, graph_hash TEXT, started REAL, finished REAL,
    status TEXT, message TEXT, settings TEXT, data TEXT, device TEXT, pid INTEGER,
    final TEXT, best TEXT, name TEXT, note TEXT);
CREATE TABLE IF NOT EXISTS steps (
    run_id INTEGER, step INTEGER, epoch INTEGER, loss REAL, PRIMARY KEY (run_id, step)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS epochs (
    run_id INTEGER, epoch INTEGER, metrics TEXT, learning_rate REAL, elapsed REAL,
    PRIMARY KEY (run_id, epoch)) WITHOUT ROWID;
"""


# Columns added since the first SCHEMA: an older database gains them (ALTER TABLE) when opened.
ADDED_COLUMNS = {"name": "TEXT", "note": "TEXT"}
_MISSING = object()


class HistoryError(NetbuilderError):
    """The run history could not be written (a full disk); the message names the database."""


@dataclass
class RunRecord:
    """One run as the history keeps it.

    ``status``: running, completed, stopped, early_stopped, failed, or interrupted (a run
    marked running whose process is gone). ``name`` and ``note`` are the user's; an unnamed
    run has name "".
    """

    id: int
    project: str
    status: str
    started: float
    finished: float | None
    settings: dict[str, Any]
    final: dict[str, Any]
    best: dict[str, Any]
    message: str
    name: str = ""
    note: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    device: str = ""
    graph_hash: str = ""


@dataclass
class RunSeries:
    """A run's curves as stored: per step (step, epoch, loss) and per epoch (epoch, metrics
    ``{"train": {...}, "val": {...} | None}``, learning rate, elapsed seconds)."""

    steps: list[int]
    step_epochs: list[int]
    losses: list[float]
    epochs: list[tuple[int, dict[str, Any], float, float]]


class RunHistory:
    """Open (or create) the history database at ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(self.path), timeout=10, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        have = {row[1] for row in self._db.execute("PRAGMA table_info(runs)")}
        for column, kind in ADDED_COLUMNS.items():
            if column not in have:
                self._db.execute(f"ALTER TABLE runs ADD COLUMN {column} {kind}")
        self._db.commit()

    def close(self) -> None:
        self._db.close()

    def begin(self, project: str, graph_hash: str, settings: dict[str, Any], data: dict[str, Any]) -> int:
        with self._db:
            cur = self._db.execute(
                "INSERT INTO runs (project, graph_hash, started, status, settings, data, pid) "
                "VALUES (?, ?, ?, 'running', ?, ?, ?)",
                (project, graph_hash, time.time(), json.dumps(settings), json.dumps(data), os.getpid()))
        return int(cur.lastrowid)

    def recorder(self, run_id: int):
        """An event callback that stores what a Trainer reports for run ``run_id``."""

        def record(event: Event) -> None:
            try:
                store(event)
            except sqlite3.Error as exc:
                if isinstance(event, Failed):  # the run's display says why; the row ends up interrupted
                    return
                full = getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
                raise HistoryError(f"could not write the run history {self.path}: {exc}"
                                   + ("; free some disk space and try again" if full else "")) from exc

        def store(event: Event) -> None:
            with self._db:
                if isinstance(event, Started):
                    self._db.execute("UPDATE runs SET device=? WHERE id=?", (event.device, run_id))
                elif isinstance(event, Steps):
                    self._db.executemany(
                        "INSERT OR REPLACE INTO steps VALUES (?, ?, ?, ?)",
                        [(run_id, event.first_step + i, event.epoch, v) for i, v in enumerate(event.losses)])
                elif isinstance(event, Epoch):
                    metrics = {"train": event.train, "val": event.val}
                    self._db.execute("INSERT OR REPLACE INTO epochs VALUES (?, ?, ?, ?, ?)",
                                     (run_id, event.epoch, json.dumps(metrics), event.learning_rate,
                                      event.elapsed_s))
                elif isinstance(event, Finished):
                    self._db.execute("UPDATE runs SET finished=?, status=?, final=?, best=? WHERE id=?",
                                     (time.time(), event.reason, json.dumps(event.final), json.dumps(event.best),
                                      run_id))
                elif isinstance(event, Failed):
                    self._db.execute("UPDATE runs SET finished=?, status='failed', message=? WHERE id=?",
                                     (time.time(), event.message, run_id))

        return record

    def runs(self) -> list[RunRecord]:
        """Every run, oldest first. A run still marked running whose process is gone is 'interrupted'."""
        rows = self._db.execute(
            "SELECT id, project, status, started, finished, settings, final, best, message, pid, "
            "name, note, data, device, graph_hash FROM runs ORDER BY id").fetchall()
        return [RunRecord(r[0], r[1], _status(r[2], r[9]), r[3], r[4], json.loads(r[5] or "{}"),
                          json.loads(r[6] or "{}"), json.loads(r[7] or "{}"), r[8] or "", r[10] or "",
                          r[11] or "", json.loads(r[12] or "{}"), r[13] or "", r[14] or "") for r in rows]

    def run(self, run_id: int) -> RunRecord:
        """The run numbered ``run_id``; a KeyError names a run the history does not have."""
        for record in self.runs():
            if record.id == run_id:
                return record
        raise KeyError(f"run {run_id} is not in {self.path}")

    def rename(self, run_id: int, name: str) -> None:
        """Give run ``run_id`` a name of the user's ("" takes it away)."""
        self._set(run_id, "name", name)

    def set_note(self, run_id: int, note: str) -> None:
        self._set(run_id, "note", note)

    def _set(self, run_id: int, column: str, value: str) -> None:
        with self._db:
            if self._db.execute(f"UPDATE runs SET {column}=? WHERE id=?", (value, run_id)).rowcount == 0:
                raise KeyError(f"run {run_id} is not in {self.path}")

    def delete(self, run_id: int) -> None:
        """Forget run ``run_id``: its row, its step losses and its epoch metrics (the caller deletes
        its folder; :func:`netbuilder.training.run.delete_run` does both)."""
        with self._db:
            for table, key in (("steps", "run_id"), ("epochs", "run_id"), ("runs", "id")):
                self._db.execute(f"DELETE FROM {table} WHERE {key}=?", (run_id,))

    def step_losses(self, run_id: int) -> list[tuple[int, float]]:
        return self._db.execute("SELECT step, loss FROM steps WHERE run_id=? ORDER BY step", (run_id,)).fetchall()

    def series(self, run_id: int) -> RunSeries:
        """Every step's loss and every epoch's metrics of run ``run_id``: what a chart redraws of an old run."""
        steps = self._db.execute("SELECT step, epoch, loss FROM steps WHERE run_id=? ORDER BY step",
                                 (run_id,)).fetchall()
        epochs = self._db.execute("SELECT epoch, metrics, learning_rate, elapsed FROM epochs WHERE run_id=? "
                                  "ORDER BY epoch", (run_id,)).fetchall()
        return RunSeries([s for s, _, _ in steps], [e for _, e, _ in steps],
                         [float("nan") if v is None else v for _, _, v in steps],
                         [(e, json.loads(m), lr, el) for e, m, lr, el in epochs])

    def epoch_metrics(self, run_id: int) -> list[tuple[int, dict[str, Any]]]:
        rows = self._db.execute("SELECT epoch, metrics FROM epochs WHERE run_id=? ORDER BY epoch", (run_id,))
        return [(e, json.loads(m)) for e, m in rows]


def settings_diff(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """The settings that differ from ``a`` (say, the previous run's) to ``b``, as
    ``(key, old, new)`` in ``a``'s order, then keys only ``b`` has; a key one side lacks is None there."""
    keys = [*a, *(k for k in b if k not in a)]
    diff = []
    for key in keys:
        old, new = a.get(key, _MISSING), b.get(key, _MISSING)
        if old != new:
            diff.append((key, None if old is _MISSING else old, None if new is _MISSING else new))
    return diff


def _status(status: str, pid: int | None) -> str:
    if status == "cancelled":  # what a stopped run was called before
        return "stopped"
    if status != "running" or pid is None:
        return status
    return status if pid_alive(pid) else "interrupted"
