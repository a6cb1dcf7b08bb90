"""Training faults, headless: NaN, an exception in forward, the data file deleted, stops at random
batches, a full disk. Each run goes through ``train_project`` (the path the CLI and the app's worker
take), so what is checked is what a user keeps: the message, the run's row in the history, and a
last checkpoint that still loads.
"""

from __future__ import annotations

import errno
import json
import random
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from netbuilder import build_module, load_project
from netbuilder.data.dataset import DataError
from netbuilder.examples import example_path
from netbuilder.files import weights
from netbuilder.training.checkpoint import load_weights, read_metadata
from netbuilder.training.events import Epoch, Failed, Steps
from netbuilder.training.history import RunHistory
from netbuilder.training.run import prepare, train_project
from netbuilder.training.run_results import load_results

ROOT = Path(__file__).resolve().parents[2]
# Linear regression on the seed's 100 points: 4 batches an epoch, a step's loss reported each step;
# one layout, so no run spends time measuring.
QUICK = {"epochs": 4, "report_every": 1, "device": "cpu", "memory_format": "contiguous"}
STEPS_PER_EPOCH = 4


def saved_example(folder: Path, name: str = "linear_regression"):
    folder.mkdir(parents=True, exist_ok=True)
    project = load_project(example_path(name))
    project.save(folder / f"{name}.nbproj")
    return project


class Inject:
    """Hooks for one run: ``on_event`` is the run's event callback, ``ready`` its trainer_ready;
    ``when(event, trainer)`` is called for each event once the trainer is known."""

    def __init__(self, when) -> None:
        self.when = when
        self.trainer = None
        self.events: list = []

    def ready(self, trainer) -> None:
        self.trainer = trainer

    def on_event(self, event) -> None:
        self.events.append(event)
        self.when(event, self.trainer)


def train(project, inject: Inject | None = None, **overrides):
    inject = inject or Inject(lambda e, t: None)
    result, run_dir = train_project(project, {**QUICK, **overrides}, on_event=inject.on_event,
                                    trainer_ready=inject.ready)
    return result, run_dir, inject.events


def record(run_dir: Path):
    history = RunHistory(run_dir.parent / "history.sqlite")
    try:
        return history.run(int(run_dir.name.split("-")[1]))
    finally:
        history.close()


def assert_last_checkpoint_loads(project, run_dir: Path, epochs_done: int) -> None:
    """The run's last checkpoint is the one of the epoch before the fault, whole, and its weights load."""
    meta = read_metadata(run_dir / "last.safetensors")
    assert (meta["epoch"], meta["step"]) == (epochs_done, epochs_done * STEPS_PER_EPOCH)
    module = build_module(project.graph)  # the graph alone: the data may be gone
    load_weights(run_dir / "last.safetensors", module)
    assert all(torch.isfinite(p).all() for p in module.parameters())
    assert not list(run_dir.glob("*.tmp")), "a temporary file was left beside the checkpoints"


def test_nan_in_the_data_mid_run_fails_clearly_and_keeps_the_epoch_before(tmp_path) -> None:
    project = saved_example(tmp_path)

    def poison(event, trainer) -> None:
        if isinstance(event, Epoch) and event.epoch == 1:  # after two good epochs
            trainer.train_data.x[7] = float("nan")

    result, run_dir, events = train(project, Inject(poison))
    assert result.status == "failed"
    failed = events[-1]
    assert isinstance(failed, Failed) and failed.kind == "nan"
    assert failed.step // STEPS_PER_EPOCH == 2  # in the third epoch, where the NaN row was met
    # What happened, what to do, and what the run's files keep.
    assert f"the loss became nan at step {failed.step}" in failed.message
    assert "check the data for NaN" in failed.message and "learning_rate" in failed.message
    assert "The run keeps its last checkpoint, last.safetensors, saved at step 8 (2 epochs done)" in failed.message
    assert result.message == failed.message
    row = record(run_dir)
    assert row.status == "failed" and row.message == failed.message
    assert_last_checkpoint_loads(project, run_dir, 2)


def test_nan_in_the_loss_fails_clearly_and_keeps_the_epoch_before(tmp_path) -> None:
    project = saved_example(tmp_path)

    def nan_loss(event, trainer) -> None:
        if isinstance(event, Epoch) and event.epoch == 0:
            loss = trainer.loss_fn
            trainer.loss_fn = lambda out, y: loss(out, y) * float("nan") if trainer.state.step == 6 else loss(out, y)

    result, run_dir, events = train(project, Inject(nan_loss))
    assert result.status == "failed" and events[-1].kind == "nan"
    assert "the loss became nan at step 6" in events[-1].message
    assert "saved at step 4 (1 epoch done)" in events[-1].message
    assert record(run_dir).status == "failed"
    assert_last_checkpoint_loads(project, run_dir, 1)


def test_an_exception_inside_forward_fails_the_run_names_it_and_the_process_trains_again(tmp_path) -> None:
    project = saved_example(tmp_path)

    def raise_in_forward(event, trainer) -> None:
        if isinstance(event, Epoch) and event.epoch == 0:
            def hook(module, args):
                if module.training and trainer.state.step == 5:
                    raise RuntimeError("mat1 and mat2 shapes cannot be multiplied (injected)")
            trainer.module.register_forward_pre_hook(hook)

    result, run_dir, events = train(project, Inject(raise_in_forward))
    assert result.status == "failed"
    failed = events[-1]
    assert isinstance(failed, Failed) and failed.kind == "error" and failed.step == 5
    assert failed.message.startswith("training stopped at step 5 (epoch 2): RuntimeError: mat1 and mat2")
    assert "saved at step 4 (1 epoch done)" in failed.message
    row = record(run_dir)
    assert row.status == "failed" and "mat1 and mat2" in row.message
    assert_last_checkpoint_loads(project, run_dir, 1)
    # This process (the app's worker, the CLI) is none the worse: the next run completes.
    again, second, _ = train(project)
    assert again.status == "completed" and record(second).status == "completed"


def test_the_data_file_deleted_mid_run_the_run_completes_and_later_uses_name_the_file(tmp_path) -> None:
    project = saved_example(tmp_path)
    table = tmp_path / "points.csv"
    data = prepare(project).train
    table.write_text("x,y\n" + "".join(f"{float(a)},{float(b)}\n" for a, b in zip(data.x[:, 0], data.y[:, 0],
                                                                                    strict=True)))
    project.data = {"dataset": "csv", "options": {"path": "points.csv", "target": "y", "task": "regression"}}
    project.save()

    def delete(event, trainer) -> None:
        if isinstance(event, Steps) and table.exists():
            table.unlink()

    result, run_dir, _ = train(project, Inject(delete))
    assert not table.exists()
    # The data was read when the run started: it trains to its end on what it read.
    assert result.status == "completed" and record(run_dir).status == "completed"
    assert_last_checkpoint_loads(project, run_dir, QUICK["epochs"])
    # What reads the file again says which file is gone and what to do; it does not crash.
    with pytest.raises(DataError, match=r"points\.csv: no such file; check the data set's 'path' option"):
        train(project)
    with pytest.raises(DataError, match=r"points\.csv: no such file"):
        load_results(run_dir)
    assert [r.status for r in RunHistory(run_dir.parent / "history.sqlite").runs()] == ["completed"]


def test_stops_at_random_batches_keep_the_weights_so_far_and_resume_to_the_same_end(tmp_path) -> None:
    total = QUICK["epochs"] * STEPS_PER_EPOCH
    straight = train(saved_example(tmp_path / "straight"))[1]
    reference = prepare(load_project(tmp_path / "straight" / "linear_regression.nbproj"), QUICK).module
    load_weights(straight / "last.safetensors", reference)
    # Seeded: the same points every run. -1 is before the first batch; the rest after step k.
    points = [-1, *sorted(random.Random(13).sample(range(total - 1), 5))]
    for k in points:
        project = saved_example(tmp_path / f"stop-{k}")
        inject = Inject(lambda event, trainer, k=k: trainer.cancel()
                        if isinstance(event, Steps) and event.step == k else None)
        if k == -1:  # asked before the run starts, as a Stop while the data loads
            inject.ready = lambda trainer, inject=inject: (setattr(inject, "trainer", trainer), trainer.cancel())
        result, run_dir, _ = train(project, inject)
        assert result.status == "stopped" and result.steps_done == k + 1, (k, result)
        assert record(run_dir).status == "stopped"
        meta = read_metadata(run_dir / "last.safetensors")
        assert meta["step"] == k + 1, k  # the weights up to the stop, mid-epoch too
        resumed, resumed_dir = train_project(project, QUICK, resume_from=run_dir / "last.safetensors")
        assert resumed.status == "completed" and resumed.steps_done == total, k
        module = prepare(project, QUICK).module
        load_weights(resumed_dir / "last.safetensors", module)
        for (name, a), b in zip(reference.state_dict().items(), module.state_dict().values(), strict=True):
            torch.testing.assert_close(b, a, msg=f"stopped after step {k}: {name}")


def test_a_full_disk_when_writing_a_checkpoint_fails_clearly_and_keeps_the_previous_one(tmp_path, monkeypatch) -> None:
    project = saved_example(tmp_path)
    save_file = weights.save_file
    writes = []

    def disk_full_on_the_third_last(tensors, filename, metadata=None):
        if ".last.safetensors." in filename:
            writes.append(filename)
            if len(writes) == 3:  # the end of epoch 3: half the bytes, then the disk is full
                Path(filename).write_bytes(b"\0" * 1000)
                raise OSError(errno.ENOSPC, "No space left on device", filename)
        return save_file(tensors, filename, metadata=metadata)

    monkeypatch.setattr(weights, "save_file", disk_full_on_the_third_last)
    result, run_dir, events = train(project)
    assert result.status == "failed"
    failed = events[-1]
    assert isinstance(failed, Failed)
    path = run_dir / "last.safetensors"
    assert failed.message.startswith(f"training stopped at step 12 (epoch 3): could not save the checkpoint "
                                     f"{path}: No space left on device; free some disk space and try again")
    assert "The run keeps its last checkpoint, last.safetensors, saved at step 8 (2 epochs done)" in failed.message
    row = record(run_dir)
    assert row.status == "failed" and row.message == failed.message
    assert_last_checkpoint_loads(project, run_dir, 2)


def test_a_full_disk_when_a_stop_saves_the_weights_says_so(tmp_path, monkeypatch) -> None:
    project = saved_example(tmp_path)

    def stop(event, trainer) -> None:
        if isinstance(event, Steps) and event.step == 9:
            monkeypatch.setattr(weights, "save_file", full)
            trainer.cancel()

    def full(tensors, filename, metadata=None):
        raise OSError(errno.ENOSPC, "No space left on device", filename)

    result, run_dir, events = train(project, Inject(stop))
    assert result.status == "failed"
    assert events[-1].message.startswith("stopped at step 10, but the last checkpoint could not be written: "
                                         "could not save the checkpoint")
    assert "free some disk space" in events[-1].message and "saved at step 8 (2 epochs done)" in events[-1].message
    assert record(run_dir).status == "failed"
    assert_last_checkpoint_loads(project, run_dir, 2)


def test_a_full_disk_when_writing_the_history_fails_the_run_clearly(tmp_path, monkeypatch) -> None:
    project = saved_example(tmp_path)
    recorder = RunHistory.recorder

    def full_soon(history, run_id):  # SQLite's own "disk full": the database may not grow past its size now
        record = recorder(history, run_id)
        pages = history._db.execute("PRAGMA page_count").fetchone()[0]
        history._db.execute(f"PRAGMA max_page_count={pages + 1}")
        return record

    monkeypatch.setattr(RunHistory, "recorder", full_soon)
    result, run_dir, events = train(project, epochs=400)
    assert result.status == "failed"
    failed = events[-1]
    assert isinstance(failed, Failed) and failed.kind == "error"
    assert (f"could not write the run history {run_dir.parent / 'history.sqlite'}: database or disk is full; "
            "free some disk space and try again") in failed.message
    epochs = read_metadata(run_dir / "last.safetensors")["epoch"]
    assert f"The run keeps its last checkpoint, last.safetensors, saved at step {epochs * STEPS_PER_EPOCH}" \
        in failed.message
    assert_last_checkpoint_loads(project, run_dir, epochs)
    history = RunHistory(run_dir.parent / "history.sqlite")
    assert history.run(1).status == "failed"  # the row is updated in place: that still fits
    assert sqlite3.connect(history.path).execute("PRAGMA integrity_check").fetchone() == ("ok",)


# ---- the app's worker: a child running `netbuilder train --json-log --control-stdin` -------------------

def start_child(project_path: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "netbuilder", "train", str(project_path), "--json-log",
                             "--control-stdin", "--out", str(out), "--epochs", "100000"],
                            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def read_until_steps(child: subprocess.Popen) -> None:
    for line in child.stdout:
        if json.loads(line).get("event") == "steps":
            return
    raise AssertionError(child.stderr.read().decode())


@pytest.mark.parametrize("what", ["stdin", "both"])
def test_a_run_whose_app_is_gone_ends_interrupted_with_its_weights_saved(tmp_path, what) -> None:
    """The app's end closes the child's stdin and its stdout; closing stdin alone (``stdin``) or both
    (``both``: the first event written after fails on the broken pipe) ends the run interrupted."""
    saved_example(tmp_path)
    out = tmp_path / "runs"
    child = start_child(tmp_path / "linear_regression.nbproj", out)
    try:
        read_until_steps(child)
        child.stdin.close()
        if what == "both":
            child.stdout.close()
        rc = child.wait(timeout=60)
    finally:
        child.kill()
    stderr = child.stderr.read().decode()
    assert rc == 130, stderr
    assert "Traceback" not in stderr, stderr
    (row,) = RunHistory(out / "history.sqlite").runs()
    assert row.status == "interrupted", row
    meta = read_metadata(out / "run-0001" / "last.safetensors")
    assert meta["step"] > 0
    project = load_project(tmp_path / "linear_regression.nbproj")
    resumed, _ = train_project(project, {**QUICK, "epochs": meta["epoch"] + 1}, out=out,
                               resume_from=out / "run-0001" / "last.safetensors")
    assert resumed.status == "completed" and resumed.steps_done == (meta["epoch"] + 1) * STEPS_PER_EPOCH
