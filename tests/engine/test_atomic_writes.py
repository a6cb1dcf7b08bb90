"""Every file netbuilder writes is written one way (netbuilder/files/atomic.py): whole or not at
all, synced with its folder, and a folder that is not there is named before any work."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from netbuilder import build_module, load_project
from netbuilder.data.idx import write_idx
from netbuilder.errors import ProjectError
from netbuilder.examples import example_path
from netbuilder.files.atomic import WriteError, atomic_path, write_atomic
from netbuilder.files.weights import save_weights
from netbuilder.onnx.exporter import export_onnx
from netbuilder.training.training_script import write_training_data

ROOT = Path(__file__).resolve().parents[2]


def _project():
    return load_project(example_path("softmax_regression"))


WRITERS: dict[str, Callable[[Path], object]] = {
    "project": lambda p: _project().save(p),
    "weights": lambda p: save_weights(build_module(_project().graph), p),
    "onnx": lambda p: export_onnx(_project(), p),
    "training data": lambda p: write_training_data(p, {"x": np.zeros((3, 2), np.float32)}),
    "idx": lambda p: write_idx(p, np.zeros((2, 3), np.uint8)),
    "bytes": lambda p: write_atomic(p, b"generated code"),
}


@pytest.mark.parametrize("name", WRITERS)
def test_each_writer_syncs_the_file_and_its_folder(name: str, tmp_path: Path, monkeypatch) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        synced.append("folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    WRITERS[name](tmp_path / "out.bin")
    monkeypatch.undo()
    assert (tmp_path / "out.bin").stat().st_size > 0
    assert synced[-2:] == ["file", "folder"]  # the bytes reach the disk before the rename is made durable
    assert sorted(os.listdir(tmp_path)) == ["out.bin"]


@pytest.mark.parametrize("name", WRITERS)
def test_a_failed_rename_leaves_the_old_file_and_no_temporary_file(name: str, tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"the old file")

    def full_disk(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises((OSError, ProjectError), match="No space left"):  # a project says so in its own words
        WRITERS[name](target)
    monkeypatch.undo()
    assert target.read_bytes() == b"the old file"
    assert os.listdir(tmp_path) == ["out.bin"]


@pytest.mark.parametrize("name", WRITERS)
def test_a_new_file_gets_the_usual_permissions(name: str, tmp_path: Path) -> None:
    # safetensors' own writer makes its files 0600; a weights file is no more private than a project.
    old = os.umask(0o022)
    try:
        WRITERS[name](tmp_path / "out.bin")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "out.bin").stat().st_mode) == 0o644


@pytest.mark.parametrize("name", WRITERS)
def test_a_missing_folder_is_named(name: str, tmp_path: Path) -> None:
    with pytest.raises((WriteError, ProjectError), match=re.escape(f"the folder {tmp_path / 'no'} does not exist")):
        WRITERS[name](tmp_path / "no" / "such" / "out.bin")
    assert os.listdir(tmp_path) == []


def test_a_file_where_the_folder_should_be_is_named(tmp_path: Path) -> None:
    (tmp_path / "notes").write_text("a file")
    with pytest.raises(WriteError, match="notes is a file, not a folder"):
        write_atomic(tmp_path / "notes" / "p.nbproj", b"x")


def test_a_folder_given_as_the_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(WriteError, match="that is a folder; give a file name"):
        save_weights(torch.nn.Linear(2, 2), tmp_path)


def test_a_read_only_folder_is_named(tmp_path: Path, monkeypatch) -> None:
    # os.access is what decides; root passes every permission check, so it is asked directly.
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != tmp_path)
    with pytest.raises(WriteError, match=f"the folder {re.escape(str(tmp_path))} is read-only for you"):
        write_atomic(tmp_path / "p.nbproj", b"x")


def test_an_interrupt_inside_the_block_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt), atomic_path(tmp_path / "m.onnx") as tmp:
        tmp.write_bytes(b"half")
        raise KeyboardInterrupt
    assert os.listdir(tmp_path) == []


def test_no_other_module_renames_or_syncs_files_itself() -> None:
    """One writer for all: os.replace and os.fsync appear in atomic.py alone."""
    offenders = []
    for folder in ("netbuilder", "ui"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path == ROOT / "netbuilder" / "files" / "atomic.py":
                continue
            text = path.read_text("utf-8")
            for call in ("os.replace(", "os.rename(", "os.fsync(", "NamedTemporaryFile("):
                if call in text:
                    offenders.append(f"{path.relative_to(ROOT)}: {call}")
    assert offenders == []
