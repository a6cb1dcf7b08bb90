"""A run's snapshot and its results, loaded back headless (what the app's Results dock shows)."""

from __future__ import annotations

import numpy as np
import pytest

from netbuilder.examples import example_path
from netbuilder.files.project import load_project
from netbuilder.training.checkpoint import CheckpointError
from netbuilder.training.run import train_project
from netbuilder.training.run_results import load_results
from netbuilder.training.snapshot import SNAPSHOT_NAME, take_snapshot, write_snapshot


def test_a_snapshot_is_independent_and_its_data_paths_still_name_the_same_files(tmp_path) -> None:
    project = load_project(example_path("linear_regression"))
    project.data = {"dataset": "csv", "options": {"path": "data/points.csv", "target": "y"},
                    "validation": {"dataset": "csv", "options": {"path": "/abs/val.csv"}}}
    project.path = tmp_path / "proj" / "p.nbproj"
    snap = take_snapshot(project)
    assert snap.data["options"]["path"] == str((tmp_path / "proj" / "data" / "points.csv").resolve())
    assert snap.data["validation"]["options"]["path"] == "/abs/val.csv"
    assert project.data["options"]["path"] == "data/points.csv"  # the project itself is untouched
    snap.name = "changed"
    assert project.name != "changed"
    written = write_snapshot(project, tmp_path / "runs")
    assert load_project(written).data == snap.data


def test_every_run_keeps_the_graph_it_trained_and_its_results_load_back(tmp_path) -> None:
    project = load_project(example_path("linear_regression"))
    project.training["epochs"] = 60
    result, run_dir = train_project(project, out=tmp_path / "runs")
    assert result.status == "completed"
    kept = load_project(run_dir / SNAPSHOT_NAME)
    assert kept.to_dict()["graph"] == project.to_dict()["graph"]
    r = load_results(run_dir)
    assert r.checkpoint.name == "best.safetensors" and r.one_feature and not r.is_classifier
    curve = r.fitted_curve()
    assert abs(np.polyfit(curve.xs, curve.ys, 1)[0] - 2) <= 0.15
    # A run's results come from its own graph, whatever the project became since.
    project.graph.set_params(next(n.id for n in project.graph if n.kind == "Linear"), {"out_features": 3})
    assert load_results(run_dir).predictions.outputs.shape[1:] == (1,)


def test_a_run_without_a_best_checkpoint_shows_its_last_and_one_without_any_says_so(tmp_path) -> None:
    project = load_project(example_path("linear_regression"))
    project.training["epochs"] = 2
    _, run_dir = train_project(project, out=tmp_path / "runs")
    (run_dir / "best.safetensors").unlink()
    assert load_results(run_dir, "best").checkpoint.name == "last.safetensors"
    (run_dir / "last.safetensors").unlink()
    with pytest.raises(CheckpointError, match="no checkpoint yet"):
        load_results(run_dir)
