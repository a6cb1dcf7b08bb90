"""After an edit the Problems dock, the canvas's fix badges and the Run controls all read the document's problems:
they are computed once for all of them, and afresh after the next change."""

from __future__ import annotations

from netbuilder.model.edits import SetParams
from ui.document import Document


def test_one_edit_computes_the_problems_and_their_fixes_once(window, qtbot, monkeypatch) -> None:
    win = window("mnist_cnn")
    calls: list[int] = []
    real = Document._problems
    monkeypatch.setattr(Document, "_problems", lambda self: (calls.append(1), real(self))[1])
    qtbot.wait(20)  # what start-up computed has gone with its turn of the event loop
    fc2 = win.document.project.graph.by_name("fc2").id
    assert win.document.push(SetParams(fc2, {"out_features": 7}))
    assert len(calls) == 1  # the dock, the badges and the Train button shared it
    win.document.problems()
    assert len(calls) == 1
    assert win.document.push(SetParams(fc2, {"out_features": 10}))
    assert len(calls) == 2  # a change: computed again, never a stale answer
    qtbot.wait(20)
    win.document.problems()
    assert len(calls) == 3  # a later turn of the event loop asks afresh (a data file may have changed on disk)
