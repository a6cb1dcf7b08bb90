"""The app killed (SIGKILL) while editing and while training, then started again.

Each side is a real app process (offscreen, its own settings and data folders), driven by a
script that does what a user does: edit through the palette and the settings, press Train.
The test kills it with SIGKILL, as a crash or the system would, and starts the app again:
it must offer the autosave (with the edits made up to the last autosave, at most 30 s of
work), and the Runs dock must show the run that was training as interrupted, with a last
checkpoint that resumes and exports.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from netbuilder import build_module, load_project
from netbuilder.examples import example_path
from netbuilder.training.checkpoint import load_weights, read_metadata
from netbuilder.training.history import RunHistory
from netbuilder.training.run_results import run_project

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 120  # an app start on a loaded 2-core machine: Qt, then torch, then a training child

# The user's side. argv: project file, "edit" | "train" | "recover". One JSON object a line on stdout.
APP = r"""
import json, sys, time
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from netbuilder.files.project_edits import SetTraining
from netbuilder.training.events import Steps
from ui.app import open_window
from ui.files.autosave import offer_recovery

def say(**kw):
    print(json.dumps(kw), flush=True)

def fail(*exc_info):  # an exception in a slot ends the script, rather than leaving it waiting
    __import__("traceback").print_exception(*exc_info)
    __import__("os")._exit(3)
sys.excepthook = fail

path, mode = sys.argv[1], sys.argv[2]
app, window, startup = open_window(path)
autosaver = window.autosave
say(pid=__import__("os").getpid(), autosave_ms=autosaver.timer.interval(), autosave_on=autosaver.timer.isActive())

def autosaved_with(text, then):
    # Polls the autosave file (the Autosaver's own timer writes it) until it holds ``text``.
    t0 = time.monotonic()
    def look():
        try:
            saved = autosaver.project_file.read_text(encoding="utf-8")
        except OSError:
            saved = ""
        if text in saved:
            poll.stop()
            say(autosaved=text, after_s=round(time.monotonic() - t0, 2))
            then()
    poll = QTimer(window)
    poll.timeout.connect(look)
    poll.start(50)

def add_dropout():
    item = window.palette.tree.findItems("Dropout", Qt.MatchFlag.MatchRecursive)[0]
    window.palette.tree.itemDoubleClicked.emit(item, 0)  # a double-click in the palette adds the layer
    say(edited=[n.name for n in window.document.project.graph.nodes.values()])

def edit():
    # The test cannot wait 30 s for each tick: the interval is checked above, then shortened.
    autosaver.timer.setInterval(300)
    if mode == "edit":
        add_dropout()
        autosaved_with('"Dropout"', lambda: say(ready_to_die=True))
        return
    # Long enough to be killed mid-run; an undoable edit, so it is part of the unsaved work too.
    window.document.push(SetTraining({"epochs": 100000, "learning_rate": 0.05}))
    said = []
    def steps(event):  # the run is going: edit during it (allowed: it trains a snapshot), then die
        if isinstance(event, Steps) and not said:
            said.append(1)
            add_dropout()
            autosaved_with('"Dropout"', lambda: say(training=window.runs.run_id, run_dir=str(window.runs.run_dir),
                                                    worker=window.runs.worker.process.processId()))
    window.runs.event.connect(steps)
    autosaved_with('"epochs": 100000', lambda: say(started=window.run_actions.start(),
                                                   why=window.run_actions.train.toolTip()))

def recover():
    def answer():
        for box in QApplication.topLevelWidgets():
            if isinstance(box, QMessageBox) and box.isVisible():
                say(asked=box.text(), info=box.informativeText())
                next(b for b in box.buttons() if b.text() == "Recover").click()
    poll = QTimer()
    poll.timeout.connect(answer)
    poll.start(100)
    recovered = offer_recovery(window, autosaver, window.open_document)  # what run_app does at start
    poll.stop()
    project = window.document.project
    say(recovered=recovered, nodes=[n.name for n in project.graph.nodes.values()],
        epochs=project.training.get("epochs"), path=str(project.path), modified=window.isWindowModified())

def runs():
    dock = window.runs_dock
    dock.refresh()
    records = dock.records
    say(runs=[[r.id, r.status, dock.tree.topLevelItem(i).text(2)] for i, r in enumerate(records)])
    record = records[-1]
    watch = QTimer(window)  # a warning would wait for a click: say it and close it instead
    watch.timeout.connect(lambda: [(say(box=b.text()), b.close()) for b in QApplication.topLevelWidgets()
                                   if isinstance(b, QMessageBox) and b.isVisible()])
    watch.start(200)
    say(exported=dock.export_onnx(record, str(Path(path).with_name("exported.onnx"))))
    first = []
    def steps(event):
        if isinstance(event, Steps) and not first:
            first.append(event.first_step)
            say(resumed_from_step=event.first_step, run=window.runs.run_id)
            window.run_actions.stop.trigger()
    window.runs.event.connect(steps)
    window.runs.ended.connect(lambda last: (say(resumed_end=getattr(last, "reason", type(last).__name__)),
                                            QTimer.singleShot(0, quit_clean)))
    say(resume=dock.resume(record))

def quit_clean():
    window.document.undo_stack.setClean()  # no one is there to answer "save your changes?"
    app.quit()

def after_recovery():
    then = runs if sys.argv[3:] == ["runs"] else quit_clean
    if startup.is_ready:  # the Runs dock and the resume need the engine (torch) in
        then()
    else:
        startup.ready.connect(lambda error: QTimer.singleShot(0, then))

from pathlib import Path
if mode == "recover":
    QTimer.singleShot(0, lambda: (recover(), after_recovery()))
else:
    startup.ready.connect(lambda error: QTimer.singleShot(0, edit))
sys.exit(app.exec())
"""


def private_env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "NETBUILDER_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT)}


STARTED: list[subprocess.Popen] = []


@pytest.fixture(autouse=True)
def no_app_left():
    """An app a failed test leaves (waiting on a dialog, say) is killed, not left to run on."""
    yield
    while STARTED:
        proc = STARTED.pop()
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)


class App:
    """One app process running :data:`APP`; :meth:`next` waits for its next JSON line that has ``key``."""

    def __init__(self, tmp_path: Path, *args: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", APP, *args], cwd=ROOT, env=private_env(tmp_path),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        STARTED.append(self.proc)
        self.said: list[dict] = []
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def next(self, key: str, timeout_s: float = TIMEOUT_S) -> dict:
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                break
            doc = json.loads(line) if line.startswith("{") else {}
            self.said.append(doc)
            if key in doc:
                return doc
        self.proc.kill()
        raise AssertionError(f"the app never said {key!r}; it said {self.said}\n{self.proc.stderr.read()[-3000:]}")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)  # reaped, as a desktop's session would: a zombie still looks alive

    def end(self) -> None:
        try:
            self.proc.wait(TIMEOUT_S)
        finally:
            self.proc.kill()
        assert self.proc.returncode == 0, self.proc.stderr.read()[-3000:]


def alive(pid: int) -> bool:
    """Whether ``pid`` runs; an orphan that has ended but is not reaped yet (a zombie: a container
    whose first process reaps no one) counts as ended."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


@pytest.fixture
def saved(tmp_path) -> Path:
    project = load_project(example_path("linear_regression"))
    return project.save(tmp_path / "fit.nbproj")


def test_killed_while_editing_the_next_start_offers_the_autosave(tmp_path, saved) -> None:
    on_disk = saved.read_text()
    app = App(tmp_path, str(saved), "edit")
    first = app.next("autosave_ms")
    assert first["autosave_on"] and first["autosave_ms"] <= 30_000  # at most 30 s of edits go unsaved
    edited = app.next("edited")["edited"]
    assert "dropout" in edited[-1].lower()
    app.next("ready_to_die")
    app.kill()
    assert saved.read_text() == on_disk  # the crash left the project file as it was saved

    again = App(tmp_path, str(saved), "recover")
    asked = again.next("asked")
    assert asked["asked"].startswith("Recover unsaved work from fit.nbproj, ")
    assert "did not close normally" in asked["info"]
    recovered = again.next("recovered")
    assert recovered["recovered"] and recovered["nodes"] == edited  # the edits made before the crash are back
    assert recovered["path"] == str(saved) and recovered["modified"]  # unsaved: Save goes to the original file
    again.end()
    # The recovering app wrote its own autosave before the crashed one's went, and closed clean: none is left.
    assert list((tmp_path / "data" / "autosave").glob("*.nbproj")) == []


def test_killed_while_training_the_run_is_interrupted_and_its_last_checkpoint_resumes(tmp_path, saved) -> None:
    app = App(tmp_path, str(saved), "train")
    assert app.next("started")["started"]
    edited = app.next("edited")["edited"]  # an edit during the run, autosaved
    training = app.next("training")
    run_dir, worker = Path(training["run_dir"]), training["worker"]
    app.kill()
    # The worker outlives the app: it sees its pipes close, saves the weights so far and ends.
    history = RunHistory(run_dir.parent / "history.sqlite")
    deadline = time.monotonic() + TIMEOUT_S
    while history.run(training["training"]).status == "running" and time.monotonic() < deadline:
        time.sleep(0.2)
    (record,) = history.runs()
    history.close()
    assert record.status == "interrupted", record
    last = run_dir / "last.safetensors"
    meta = read_metadata(last)
    assert meta["step"] > 0
    deadline = time.monotonic() + 30
    while alive(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(worker)  # gone, not training on with no one watching

    again = App(tmp_path, str(saved), "recover", "runs")
    recovered = again.next("recovered")
    assert recovered["recovered"] and recovered["nodes"] == edited and recovered["epochs"] == 100000
    assert again.next("runs")["runs"] == [[record.id, "interrupted", "interrupted"]]
    assert again.next("exported")["exported"]  # the run's model and its weights, as ONNX
    exported = onnx.load(tmp_path / "exported.onnx")
    weights = {t.name: numpy_helper.to_array(t) for t in exported.graph.initializer}
    module = build_module(run_project(run_dir).graph)
    load_weights(run_dir / "best.safetensors", module)
    assert any(np.array_equal(w, module.linear.weight.detach().numpy()) for w in weights.values())
    assert again.next("resume")["resume"]
    resumed = again.next("resumed_from_step")
    assert resumed["resumed_from_step"] == meta["step"]  # it goes on where the killed run left off
    assert again.next("resumed_end")["resumed_end"] == "stopped"
    again.end()
