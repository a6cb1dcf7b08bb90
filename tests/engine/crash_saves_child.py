"""The process the crash-safety suite kills: it saves one kind of file over and over until SIGKILL.

Run as ``python -m tests.engine.crash_saves_child KINDS FOLDER KILLS SEED`` (KINDS: comma-separated,
from project, weights, checkpoint, history). It imports netbuilder once (torch only for weights and
checkpoints); per kind it saves versions 1 to 3 (timing them), then for each kill forks a writer
that saves the next versions one after another (telling over a pipe when each save starts and
ends), kills it with SIGKILL a random time after its first save began, and reads the file back with
netbuilder's own loader: it must load, as the last version the writer finished or the one it was
writing, byte for byte / value for value. A fork costs a few milliseconds where a fresh interpreter
with torch costs two seconds. One JSON line of figures per kind goes to stdout;
test_reliability_crash_safe_saves.py asserts on them.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import struct
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from netbuilder.files.project import Project, load_project, loads_project
from netbuilder.training.events import Steps
from netbuilder.training.history import RunHistory

if TYPE_CHECKING:
    import torch

    from netbuilder.training.trainer import Trainer

# torch is imported by the savers that need it (weights, checkpoint), so the project and history
# writers fork from a small process: a fork of one holding torch costs about 10 ms more.
MAX_SAVES_PER_CHILD = 100_000  # a writer whose killer died stops by itself


class ProjectSaver:
    """A 120-layer project (about 30 kB of JSON); version v is named 'version v'."""

    def __init__(self, path: Path) -> None:
        doc: dict[str, Any] = {"format": "netbuilder-project", "version": 1, "name": "version 0",
                               "graph": {"nodes": [{"id": "n0", "kind": "Input", "name": "x",
                                                    "params": {"shape": [8]}}], "edges": []}}
        for k in range(1, 120):
            doc["graph"]["nodes"].append({"id": f"n{k}", "kind": "ReLU", "name": f"relu{k}"})
            doc["graph"]["edges"].append({"src": f"n{k - 1}", "src_port": "out", "dst": f"n{k}", "dst_port": "in"})
        self.path, self.project = path, loads_project(json.dumps(doc))

    def _at(self, version: int) -> Project:
        self.project.name = f"version {version}"
        return self.project

    def save(self, version: int) -> None:
        self._at(version).save(self.path)

    def version(self) -> int:
        loaded = load_project(self.path)
        version = int(loaded.name.removeprefix("version "))
        assert self.path.read_bytes() == self._at(version).to_json().encode("utf-8"), "not exactly that version"
        return version


def _mlp() -> torch.nn.Module:
    import torch

    torch.set_num_threads(1)  # no worker threads to lose across fork()
    return torch.nn.Sequential(torch.nn.Linear(256, 512), torch.nn.ReLU(), torch.nn.Linear(512, 256))  # 1 MB


class WeightsSaver:
    """Weights (safetensors) whose every value is the version, which the metadata names too."""

    def __init__(self, path: Path) -> None:
        self.path, self.module = path, _mlp()

    def save(self, version: int) -> None:
        import torch

        from netbuilder.files.weights import save_weights

        with torch.no_grad():
            for p in self.module.parameters():
                p.fill_(version)
        save_weights(self.module, self.path, {"version": version})

    def version(self) -> int:
        from netbuilder.files.weights import read_metadata, read_weights

        version = read_metadata(self.path)["version"]
        tensors = read_weights(self.path)
        assert tensors.keys() == self.module.state_dict().keys(), "tensors missing"
        assert all(bool((t == version).all()) for t in tensors.values()), "values of another version"
        return version


class CheckpointSaver:
    """A training checkpoint (weights, Adam's state, the run's position), every number the version."""

    def __init__(self, path: Path) -> None:
        import torch

        from netbuilder.data.seed_data import seed_linear
        from netbuilder.files.training_settings import TrainingSettings
        from netbuilder.training.trainer import Trainer

        def trainer() -> Trainer:
            t = Trainer(_mlp(), seed_linear(), TrainingSettings(optimizer="adam", loss="mse", device="cpu"))
            t.module(torch.zeros(1, 256)).sum().backward()  # one step, so Adam has state to save
            t.optimizer.step()
            return t

        self.path, self.trainer, self.reader = path, trainer(), trainer()

    def save(self, version: int) -> None:
        import torch

        from netbuilder.training.checkpoint import save_checkpoint
        from netbuilder.training.trainer import TrainState

        with torch.no_grad():
            for p in self.trainer.module.parameters():
                p.fill_(version)
                for value in self.trainer.optimizer.state[p].values():
                    value.fill_(version)
        save_checkpoint(self.path, self.trainer, TrainState(epoch=version, step=version))

    def version(self) -> int:
        from netbuilder.training.checkpoint import resume

        resume(self.path, self.reader)
        version = self.reader.state.step
        assert self.reader.state.epoch == version, "epoch and step of different versions"
        for p in self.reader.module.parameters():
            assert bool((p == version).all()), "weights of another version"
            assert all(bool((v == version).all()) for v in self.reader.optimizer.state[p].values()), "optimizer state"
        return version


class HistorySaver:
    """The run history (SQLite): version v holds v report intervals of 50 steps each, loss = step."""

    BATCH = 50

    def __init__(self, path: Path) -> None:
        self.path, self.recorder = path, None
        history = RunHistory(path)
        history.begin("crash.nbproj", "hash", {}, {})
        history.close()
        # Kept open by the killer alone (a writer never touches it), so closing a reader after each kill
        # does not checkpoint the journal into the database each time: an fsync per kill, on a busy disk.
        self.reader = sqlite3.connect(str(path))

    def save(self, version: int) -> None:
        if self.recorder is None:  # opened in the writer, once: a kill may land while it opens
            self.recorder = RunHistory(self.path).recorder(1)
        first = (version - 1) * self.BATCH
        self.recorder(Steps(first, [float(first + i) for i in range(self.BATCH)], 0, 0, 1, 1, 0.0, 0.0))

    def version(self) -> int:
        db = self.reader
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)], "integrity_check failed"
        (count, low, high, total), = db.execute(
            "SELECT COUNT(*), MIN(step), MAX(step), SUM(loss) FROM steps WHERE run_id=1").fetchall()
        history = RunHistory(self.path)  # and netbuilder's own reader opens it
        try:
            assert history.run(1).status in ("running", "interrupted")
        finally:
            history.close()
        assert count % self.BATCH == 0, f"{count} steps: part of a report interval"
        if count:
            assert (low, high, total) == (0, count - 1, count * (count - 1) / 2), "steps of no version"
        return count // self.BATCH


SAVERS = {"project": ProjectSaver, "weights": WeightsSaver, "checkpoint": CheckpointSaver, "history": HistorySaver}
SUFFIXES = {"project": ".nbproj", "weights": ".safetensors", "checkpoint": ".safetensors", "history": ".sqlite"}


def _write_forever(saver: Any, first: int, pipe: int, parent: int) -> None:
    for version in range(first, first + MAX_SAVES_PER_CHILD):
        if os.getppid() != parent:
            break
        os.write(pipe, struct.pack("<ci", b"s", version))
        saver.save(version)
        os.write(pipe, struct.pack("<ci", b"d", version))


def _messages(pipe: int, data: bytes = b"") -> list[tuple[bytes, int]]:
    while chunk := os.read(pipe, 65536):
        data += chunk
    whole = len(data) // 5 * 5
    return [struct.unpack("<ci", data[k:k + 5]) for k in range(0, whole, 5)]


def run(kind: str, folder: Path, kills: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    saver = SAVERS[kind](folder / f"file{SUFFIXES[kind]}")
    start = time.perf_counter()
    for version in range(1, 4):  # how long one save takes, so the kills land across it
        saver.save(version)
    save_s = (time.perf_counter() - start) / 3
    current = saver.version()
    figures: dict[str, Any] = {"kind": kind, "kills": 0, "old": 0, "new": 0, "between saves": 0, "failures": [],
                               "kills_leaving_temps": 0, "most_temps": 0,
                               "save_ms": round(save_s * 1000, 1)}
    began = time.perf_counter()
    for trial in range(kills):
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the writer
            code = 0
            try:
                os.close(read)
                _write_forever(saver, current + 1, write, os.getppid())
            except BaseException:  # a writer that fails says so by its exit status
                code = 1
            os._exit(code)
        os.close(write)
        started = os.read(read, 5)  # the kill is timed from the first save's start, not from fork()
        time.sleep(rng.uniform(0, 2 * save_s))
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        messages = _messages(read, started)
        os.close(read)
        figures["kills"] += os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        temps = sum(p.name.endswith(".tmp") for p in folder.iterdir())
        figures["kills_leaving_temps"] += temps > 0
        figures["most_temps"] = max(figures["most_temps"], temps)
        done = max((v for what, v in messages if what == b"d"), default=current)
        writing = messages[-1][1] if messages and messages[-1][0] == b"s" else None
        try:
            got = saver.version()
        except Exception as exc:  # reported with the kill it followed
            figures["failures"].append(f"kill {trial}: the file does not load: {type(exc).__name__}: {exc}"[:300])
            break
        # Killed while saving version w: the file is w - 1 (old) or w (new); between saves, the last saved.
        allowed = {done: "old", writing: "new"} if writing is not None else {done: "between saves"}
        if got in allowed:
            figures[allowed[got]] += 1
        else:
            figures["failures"].append(f"kill {trial}: version {got}; the writer had saved {done} and was "
                                       f"writing {writing}")
        current = got
    figures["kill_s"] = round(time.perf_counter() - began, 2)
    saver.save(current + 1)  # an ordinary save after the crashes: it tidies what they left
    figures["final_ok"] = saver.version() == current + 1
    figures["temps_left"] = sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))
    figures["files"] = sorted(p.name for p in folder.iterdir())
    return figures


if __name__ == "__main__":
    kinds, folder, kills, seed = sys.argv[1].split(","), Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    for kind in kinds:
        (folder / kind).mkdir()
        print(json.dumps(run(kind, folder / kind, kills, seed)), flush=True)
