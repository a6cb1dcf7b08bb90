"""The training worker starts the engine as ``python -m netbuilder``, or, in a frozen bundle with no Python
beside it, as the bundle's own executable (whose entry sends ``train`` to the CLI before Qt loads)."""

from __future__ import annotations

import sys
from pathlib import Path

from ui.training.worker import TrainingWorker


def test_from_python_the_worker_runs_python_m_netbuilder_train(monkeypatch):
    monkeypatch.delattr(sys, "frozen", raising=False)
    command = TrainingWorker().command(Path("p.nbproj"), Path("runs"))
    assert command[:5] == [sys.executable, "-m", "netbuilder", "train", "p.nbproj"]


def test_in_a_frozen_bundle_the_worker_runs_the_bundles_own_executable_with_train(monkeypatch):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", "/opt/netbuilder/netbuilder")
    command = TrainingWorker().command(Path("p.nbproj"), Path("runs"))
    assert command[:3] == ["/opt/netbuilder/netbuilder", "train", "p.nbproj"]
    assert "-m" not in command
