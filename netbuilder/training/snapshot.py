"""A frozen copy of a project for a run: what the app's worker process trains.

The app trains a snapshot taken when Train is pressed, so the user may keep editing while the run
goes on. The snapshot is a project file of its own, written into the runs folder; the data's file
paths (relative to the project's folder) are made absolute first, so they still name the same
files from there. The run keeps its snapshot (``project.nbproj`` in its folder), so results views
and "load these weights" later read the graph the run trained, not today's.
"""

from __future__ import annotations

import copy
import re
import time
from pathlib import Path
from typing import Any

from netbuilder.files.data_settings import PATH_OPTIONS
from netbuilder.files.project import Project, loads_project
from netbuilder.model.fingerprint import graph_fingerprint

SNAPSHOT_NAME = "project.nbproj"  # inside each run's folder


def absolute_data(data: dict[str, Any], base: Path | None) -> dict[str, Any]:
    """``data`` (a project's ``"data"`` object) with its relative file paths made absolute from ``base``."""
    data = copy.deepcopy(data)
    if base is None:
        return data
    for part in (data, data.get("validation") or {}):
        options = part.get("options") or {}
        for key in PATH_OPTIONS:
            value = options.get(key)
            if isinstance(value, str) and value and not Path(value).expanduser().is_absolute():
                options[key] = str((base / value).resolve())
    return data


def take_snapshot(project: Project) -> Project:
    """An independent copy of ``project`` (graph, settings, data) that later edits do not touch."""
    copied = loads_project(project.to_json())
    copied.data = absolute_data(project.data, project.path.parent if project.path else None)
    copied.path = None
    return copied


def write_snapshot(project: Project, folder: Path) -> Path:
    """Write a snapshot of ``project`` into ``folder`` (made when missing); returns its file."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    snapshot = take_snapshot(project)
    path = folder / f".snapshot-{stamp}-{graph_fingerprint(project.graph)[:8]}.nbproj"
    snapshot.save(path)
    return path


def runs_beside(project_file: Path) -> Path:
    """Where a saved project's runs go: the folder ``<name>-runs`` beside its file (torch-free, so the
    window can list a reopened project's runs before torch has loaded)."""
    return project_file.with_name(project_file.stem + "-runs")


def default_runs_folder(project: Project, data_root: Path) -> Path:
    """Where an unsaved project's runs go: ``data_root/runs/<project name>`` (a saved project's go
    beside its file, see :func:`netbuilder.training.run.runs_dir`)."""
    slug = re.sub(r"[^\w.-]+", "_", project.name, flags=re.UNICODE).strip("._") or "Untitled"
    return Path(data_root) / "runs" / slug


def same_graph(project: Project, fingerprint: str) -> bool:
    """Whether ``project``'s graph is still the one whose fingerprint a run recorded."""
    return graph_fingerprint(project.graph) == fingerprint
