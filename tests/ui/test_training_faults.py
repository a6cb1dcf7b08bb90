"""Training faults in the app: the worker (a real child process) meets an exception in forward, a NaN
loss, a full disk at a checkpoint, or its data file deleted mid-run. The window hears it, says what
happened and what to do, keeps working, and the run's history row and last checkpoint survive.

The faults are injected inside the worker by a ``sitecustomize`` module put on its PYTHONPATH
(the controller's ``environment`` reaches the worker alone), so the app itself runs as shipped.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from netbuilder import build_module
from netbuilder.training.checkpoint import load_weights, read_metadata
from netbuilder.training.events import Failed, Finished, Steps
from netbuilder.training.history import RunHistory
from tests.ui.test_persistence import add_layer
from tests.ui.test_training_run import ended

ROOT = Path(__file__).resolve().parents[2]

# Read by every Python process with this folder on its path; only the worker is given it.
SITECUSTOMIZE = '''
import errno, os
kind, _, at = os.environ.get("NETBUILDER_TEST_FAULT", "").partition(":")
if kind in ("forward", "nan"):
    from netbuilder.training import trainer
    run = trainer.Trainer.run
    def faulty_run(self):
        if kind == "forward":
            def hook(module, args):
                if module.training and self.state.step == int(at):
                    raise RuntimeError("injected fault in forward")
            self.module.register_forward_pre_hook(hook)
        else:
            loss = self.loss_fn
            self.loss_fn = lambda out, y: loss(out, y) * float("nan") if self.state.step == int(at) else loss(out, y)
        return run(self)
    trainer.Trainer.run = faulty_run
elif kind == "enospc":
    from netbuilder.files import weights
    save_file, writes = weights.save_file, []
    def full_disk(tensors, filename, metadata=None):
        if ".last.safetensors." in filename:
            writes.append(filename)
            if len(writes) == int(at):
                raise OSError(errno.ENOSPC, "No space left on device", filename)
        return save_file(tensors, filename, metadata=metadata)
    weights.save_file = full_disk
'''


def quick(win, epochs: int = 6) -> None:
    """Linear regression: 4 batches an epoch, every step reported, one memory layout (no timing)."""
    win.document.project.training.update(epochs=epochs, report_every=1, memory_format="contiguous", device="cpu")


def inject(win, tmp_path: Path, fault: str) -> None:
    folder = tmp_path / "inject"
    folder.mkdir(exist_ok=True)
    (folder / "sitecustomize.py").write_text(SITECUSTOMIZE)
    path = os.pathsep.join([str(folder), str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    win.runs.environment = {"PYTHONPATH": path, "NETBUILDER_TEST_FAULT": fault}


def record(win):
    history = RunHistory(win.runs.runs_folder / "history.sqlite")
    try:
        return history.run(win.runs.run_id)
    finally:
        history.close()


@pytest.mark.parametrize(("fault", "title", "words"), [
    ("forward:6", "Training failed", "training stopped at step 6 (epoch 2): RuntimeError: injected fault in forward"),
    ("nan:6", "Training diverged", "the loss became nan at step 6"),
    ("enospc:2", "Training failed", "No space left on device; free some disk space"),
], ids=["exception-in-forward", "nan-loss", "disk-full-at-a-checkpoint"])
def test_a_fault_in_the_worker_is_said_the_window_goes_on_and_the_run_keeps_its_checkpoint(
        window, qtbot, tmp_path, fault, title, words) -> None:
    win = window("linear_regression")
    quick(win)
    inject(win, tmp_path, fault)
    assert win.run_actions.start()
    last = ended(qtbot, win)
    assert isinstance(last, Failed), last
    assert words in last.message
    kept = "The run keeps its last checkpoint, last.safetensors, saved at step 4 (1 epoch done)"
    assert kept in last.message  # what the user still has, in the run's folder
    dialog = win.run_actions.last_dialog
    assert dialog is not None and dialog.isVisible() and dialog.windowTitle() == title
    assert words in dialog.text() or words[:1].upper() + words[1:] in dialog.text()
    assert kept in dialog.text()
    row = record(win)
    assert row.status == "failed" and row.message == last.message
    checkpoint = win.runs.run_dir / "last.safetensors"
    assert read_metadata(checkpoint)["step"] == 4
    module = build_module(win.document.project.graph)
    load_weights(checkpoint, module)
    assert all(torch.isfinite(p).all() for p in module.parameters())
    dialog.close()
    # The window goes on: Train is offered again, and an edit goes through and undoes.
    assert win.run_actions.train.isEnabled() and not win.runs.busy
    before = len(win.document.project.graph.nodes)
    add_layer(win, "ReLU")
    assert len(win.document.project.graph.nodes) == before + 1
    win.document.undo_stack.undo()
    assert len(win.document.project.graph.nodes) == before


def test_after_a_fault_the_same_window_trains_again_to_the_end(window, qtbot, tmp_path) -> None:
    win = window("linear_regression")
    quick(win)
    inject(win, tmp_path, "forward:2")
    win.run_actions.start()
    assert isinstance(ended(qtbot, win), Failed)
    assert "The run had saved no checkpoint yet" in win.run_actions.last_dialog.text()  # failed in epoch 1
    win.run_actions.last_dialog.close()
    win.runs.environment = {}
    assert win.run_actions.start()
    last = ended(qtbot, win)
    assert isinstance(last, Finished) and last.reason == "completed"
    assert record(win).status == "completed"
    assert not any("last run failed" in win.problems.list.item(i).text() for i in range(win.problems.list.count()))


def test_the_data_file_deleted_mid_run_the_run_ends_and_the_window_names_the_file(window, qtbot, tmp_path) -> None:
    win = window("linear_regression")
    table = tmp_path / "points.csv"
    table.write_text("x,y\n" + "".join(f"{i / 100},{2 * i / 100}\n" for i in range(100)))
    win.document.project.data = {"dataset": "csv", "options": {"path": str(table), "target": "y",
                                                               "task": "regression"}}
    quick(win, epochs=40)
    seen = []

    def delete(event) -> None:
        if isinstance(event, Steps) and table.exists():
            table.unlink()
            seen.append(event.step)

    win.runs.event.connect(delete)
    assert win.run_actions.start()
    last = ended(qtbot, win)
    assert seen and not table.exists()
    # The worker read the table when it started: the run trains to its end on what it read.
    assert isinstance(last, Finished) and last.reason == "completed", last
    assert record(win).status == "completed"
    load_weights(win.runs.run_dir / "last.safetensors", build_module(win.document.project.graph))
    # What reads the table again says which file is gone and what to do, instead of failing.
    dock = win.results_dock
    qtbot.waitUntil(lambda: "Cannot show the results" in dock.title.text(), timeout=60_000)
    assert f"{table}: no such file; check the data set's 'path' option" in dock.title.text()
    win.run_actions.update()
    qtbot.waitUntil(lambda: "no such file" in win.run_actions.train.toolTip(), timeout=30_000)
    assert not win.run_actions.start()
    assert "points.csv: no such file" in win.statusBar().currentMessage()
    assert not win.runs.busy
