"""The worker protocol the app drives: `netbuilder train --json-log --control-stdin` in a child
process, JSON lines out on stdout, pause/resume/stop lines in on stdin."""

from __future__ import annotations

import io
import json
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

from netbuilder import load_project
from netbuilder.cli import main
from netbuilder.examples import example_path
from netbuilder.training.console import StdinControl
from netbuilder.training.history import RunHistory

ROOT = Path(__file__).resolve().parents[2]
# From "stop" written to the process gone: mid-epoch (an epoch here is 100,000 runs of the data), so a stop
# that waited for the epoch's end would take minutes. 1 s on a quiet machine; a loaded one (CI beside the app
# on two cores) took longer to save and tear down, so the bound is what tells "at once" from "at the end".
STOP_WITHIN_S = 5.0


def _project(tmp_path: Path, name: str = "linear_regression") -> Path:
    return load_project(example_path(name)).save(tmp_path / f"{name}.nbproj")


class Child:
    """`netbuilder train` as the app starts it, with its stdout lines read on a thread."""

    def __init__(self, path: Path, out: Path, *extra: str, stdin=subprocess.PIPE) -> None:
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "netbuilder", "train", str(path), "--json-log", "--control-stdin",
             "--out", str(out), "--device", "cpu", *extra],
            cwd=ROOT, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
        self.lines: queue.Queue[dict | None] = queue.Queue()
        self.seen: list[dict] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(json.loads(line))
        self.lines.put(None)

    def until(self, event: str, timeout: float = 60.0) -> dict:
        deadline = time.perf_counter() + timeout
        while True:
            doc = self.lines.get(timeout=max(0.0, deadline - time.perf_counter()))
            assert doc is not None, f"the process ended before a {event!r} line: {self.proc.stderr.read()}"
            self.seen.append(doc)
            if doc["event"] == event:
                return doc

    def send(self, line: str) -> None:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def rest(self) -> list[dict]:
        docs = []
        while (doc := self.lines.get(timeout=30)) is not None:
            docs.append(doc)
        self.seen.extend(docs)
        return docs


def test_pause_resume_and_stop_on_stdin_drive_a_child_run(tmp_path) -> None:
    out = tmp_path / "runs"
    child = Child(_project(tmp_path), out, "--epochs", "100000", "--batch-size", "1")
    try:
        started = child.until("started")
        assert started["run_id"] == 1 and Path(started["run_dir"]) == out / "run-0001"
        child.until("steps")
        print(f"process start to the first steps line: {time.perf_counter() - child.t0:.2f} s")
        child.send("pause")
        paused = child.until("paused")
        time.sleep(0.3)
        assert child.lines.empty(), "steps went on while paused"
        child.send("what")  # unknown lines are ignored
        child.send("resume")
        resumed = child.until("resumed")
        assert resumed["step"] == paused["step"] == child.seen[-3]["step"] + 1
        child.until("steps")
        child.send("stop")
        t_stop = time.perf_counter()
        rc = child.proc.wait(timeout=30)
        took = time.perf_counter() - t_stop
    finally:
        child.proc.kill()
    print(f"stop written to the process gone: {took:.2f} s")
    assert rc == 130
    finished = child.rest()[-1]
    assert finished["event"] == "finished" and finished["reason"] == "stopped"
    assert took < STOP_WITHIN_S
    (run,) = RunHistory(out / "history.sqlite").runs()
    assert run.status == "stopped"
    assert (out / "run-0001" / "last.safetensors").exists()


def test_a_closed_stdin_interrupts_the_run_even_before_the_trainer_exists(tmp_path) -> None:
    # stdin at its end from the start (no one drives the run, as when the app died): the end waits
    # for the Trainer, which then stops at once, saved like a stop, and called interrupted.
    child = Child(_project(tmp_path), tmp_path / "runs", "--epochs", "100000", stdin=subprocess.DEVNULL)
    try:
        rc = child.proc.wait(timeout=60)
    finally:
        child.proc.kill()
    docs = child.rest()
    assert rc == 130, child.proc.stderr.read()
    assert [d["event"] for d in docs] == ["started", "finished"]
    assert docs[-1]["reason"] == "interrupted" and docs[-1]["steps_done"] == 0
    assert (tmp_path / "runs" / "run-0001" / "last.safetensors").exists()


class FakeTrainer:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def pause(self) -> None:
        self.calls.append("pause")

    def resume(self) -> None:
        self.calls.append("resume")

    def cancel(self) -> None:
        self.calls.append("cancel")

    def interrupt(self) -> None:
        self.calls.append("interrupt")


def test_commands_before_the_trainer_wait_for_it_in_order_and_the_end_of_input_stops() -> None:
    control = StdinControl(io.StringIO("pause\n  RESUME \nfaster please\npause\n")).start()
    control.thread.join(5)
    trainer = FakeTrainer()
    control.attach(trainer)
    assert trainer.calls == ["pause", "resume", "pause", "interrupt"]  # the end of stdin: no one drives the run
    control.command("resume")
    assert trainer.calls[-1] == "resume"
    control.detach()
    control.command("stop")
    assert trainer.calls[-1] == "resume"  # the run is over: nothing reaches it


def test_a_run_that_cannot_start_says_why_on_stdout(tmp_path, capsys) -> None:
    project = load_project(example_path("logistic_regression"))
    project.data = {"dataset": "", "options": {}}
    path = project.save(tmp_path / "broken.nbproj")
    assert main(["train", str(path), "--json-log", "--out", str(tmp_path / "runs")]) == 1
    captured = capsys.readouterr()
    (line,) = captured.out.splitlines()
    doc = json.loads(line)
    assert doc["event"] == "failed" and doc["kind"] == "setup" and doc["step"] == 0
    assert "the project names no data set" in doc["message"] and doc["message"] in captured.err
    assert main(["train", str(tmp_path / "missing.nbproj"), "--json-log"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["kind"] == "setup" and "missing.nbproj" in doc["message"]


def test_an_internal_error_in_a_run_is_a_failed_line_and_exit_3(tmp_path, monkeypatch, capsys) -> None:
    from netbuilder import cli
    from netbuilder.training import run

    def boom(*args, **kwargs):
        raise ValueError("zip() argument 2 is longer than argument 1")

    monkeypatch.setenv(cli.LOG_DIR_ENV, str(tmp_path / "logs"))
    monkeypatch.setattr(run, "train_project", boom)
    assert main(["train", str(_project(tmp_path)), "--json-log"]) == 3
    captured = capsys.readouterr()
    doc = json.loads(captured.out.splitlines()[-1])
    assert doc["event"] == "failed" and doc["kind"] == "internal"
    assert doc["message"].startswith("internal error, please report it (with the log): ValueError: zip()")
    assert str(tmp_path / "logs") in doc["message"]
