"""After training in the app, File ▸ Export carries the trained weights (the model the app holds is the trained
one), and what the export says is never cut off by the status bar."""

from __future__ import annotations

import torch
from PySide6.QtWidgets import QMessageBox

from netbuilder.files.weights import read_weights
from ui.files.file_exchange import export_to


def test_export_after_a_run_carries_the_runs_weights_and_says_so(window, qtbot, tmp_path) -> None:
    # Seen on Xvfb: train the digits CNN, Export ▸ ONNX: "…with freshly initialised weights (the project is not
    # saved, so it has no weights" (cut off), and the file held untrained weights.
    win = window("linear_regression")
    done = []
    win.runs.ended.connect(done.append)
    assert win.run_actions.start()
    qtbot.waitUntil(lambda: bool(done), timeout=120_000)
    qtbot.waitUntil(lambda: win.document.trained_weights is not None, timeout=5000)
    message = export_to(win.document, win, "weights", tmp_path / "out.safetensors")
    assert message is not None and "run " in message and "freshly" not in message
    written, trained = read_weights(tmp_path / "out.safetensors"), read_weights(win.runs.run_dir / "best.safetensors")
    assert written.keys() == trained.keys()
    assert all(torch.equal(written[k], trained[k]) for k in written)


def test_a_message_too_long_for_the_status_bar_shows_whole_in_a_box(window, qtbot) -> None:
    win = window("mnist_cnn")
    win.tell("Exported mnist.onnx")
    assert win.statusBar().currentMessage() == "Exported mnist.onnx" and win.last_told is None
    long = "Exported mnist.onnx with run 12's best weights (epoch 9, step 405); " * 6
    win.tell(long)
    box = win.last_told
    assert isinstance(box, QMessageBox) and box.isVisible() and box.text() == long
    box.close()
