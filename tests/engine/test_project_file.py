"""Project files (.nbproj): round trips, migrations, atomic saving, no pickle, the format doc."""

from __future__ import annotations

import io
import json
import os
import re
import sys
import tokenize
from pathlib import Path
from typing import Any

import pytest

import netbuilder.files.project as project_module
from netbuilder.errors import ProjectError
from netbuilder.files.project import (
    DEFAULT_TRAINING,
    FORMAT,
    VERSION,
    Project,
    load_project,
    loads_project,
)
from tests.engine.project_samples import DOCS, EXAMPLES, LINEAR, RAW, ROOT, doc_of, error_of


def test_examples_are_found() -> None:
    assert len(EXAMPLES) >= 5 and LINEAR in RAW and "mnist_cnn" in RAW


# ---- round trip --------------------------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_round_trips_through_a_saved_file(path: Path, tmp_path: Path) -> None:
    project = load_project(path)
    assert project.path == path
    original = json.loads(path.read_bytes())
    assert len(project.graph) == len(original["graph"]["nodes"])
    assert len(project.graph.edges) == len(original["graph"]["edges"])

    out = tmp_path / "copy.nbproj"
    assert project.save(out) == out
    assert project.path == out
    saved = json.loads(out.read_bytes().decode("utf-8"))
    assert saved["format"] == FORMAT == "netbuilder-project"
    assert saved["version"] == VERSION == 1
    again = load_project(out)
    assert again.to_dict() == project.to_dict()
    assert again.path == out


@pytest.mark.parametrize("name", sorted(RAW))
def test_example_saves_back_unchanged(name: str) -> None:
    # The examples spell out every value, so opening and saving one rewrites nothing.
    assert loads_project(RAW[name]).to_dict() == DOCS[name]


def test_saved_file_keeps_non_ascii_text_readable(tmp_path: Path) -> None:
    project = loads_project(RAW[LINEAR])
    project.name = "Régression → 线性"
    project.save(tmp_path / "p.nbproj")
    raw = (tmp_path / "p.nbproj").read_bytes()
    assert "Régression → 线性".encode() in raw
    assert load_project(tmp_path / "p.nbproj").name == "Régression → 线性"


def test_missing_parameters_sections_and_settings_take_defaults() -> None:
    doc = doc_of()
    del doc["graph"]["nodes"][1]["params"]["bias"]
    del doc["graph"]["nodes"][2]["params"]
    del doc["training"], doc["data"], doc["layout"], doc["name"], doc["description"]
    project = loads_project(json.dumps(doc))
    linear = project.graph.by_name("linear")
    assert linear.params == {"out_features": 1, "bias": True}
    assert project.training == DEFAULT_TRAINING
    assert project.data == {"dataset": "", "options": {}}
    assert project.name == "Untitled" and project.description == ""
    assert all(n.position == (0.0, 0.0) for n in project.graph)


def test_partial_training_settings_keep_the_rest_default() -> None:
    doc = doc_of()
    doc["training"] = {"epochs": 3}
    training = loads_project(json.dumps(doc)).training
    assert training == {**DEFAULT_TRAINING, "epochs": 3}


def test_whole_number_settings_written_with_a_point_become_whole_numbers() -> None:
    # JSON Schema counts 10.0 as an integer; the trainer must get an int for range(epochs).
    doc = doc_of()
    doc["training"].update(epochs=10.0, batch_size=16.0, seed=3.0)
    training = loads_project(json.dumps(doc)).training
    assert [type(training[k]) for k in ("epochs", "batch_size", "seed")] == [int, int, int]
    assert (training["epochs"], training["batch_size"], training["seed"]) == (10, 16, 3)


def test_utf8_byte_order_mark_is_accepted() -> None:
    project = loads_project(b"\xef\xbb\xbf" + RAW[LINEAR])
    assert project.to_dict() == DOCS[LINEAR]


def test_emoji_written_as_a_surrogate_pair_escape_loads_and_saves(tmp_path: Path) -> None:
    doc = doc_of()
    text = json.dumps(doc).replace('"Linear regression', '"\\ud83d\\ude00 Linear regression')
    project = loads_project(text)
    assert project.name.startswith("\U0001f600")
    project.save(tmp_path / "p.nbproj")
    assert load_project(tmp_path / "p.nbproj").name == project.name


# ---- migrations ---------------------------------------------------------------------------
# Version 1 is the first real format, so the shipped MIGRATIONS is empty. These tests install
# test-only steps to exercise the mechanism the next format change will use.


def test_older_version_is_migrated_step_by_step(monkeypatch) -> None:
    ran: list[int] = []

    def one_to_two(doc: dict[str, Any]) -> dict[str, Any]:
        ran.append(doc["version"])
        doc["name"] += " (v2)"
        return doc

    def two_to_three(doc: dict[str, Any]) -> dict[str, Any]:
        ran.append(doc["version"])
        # a pretend rename: version 2 called the Linear layer's width "units"
        for node in doc["graph"]["nodes"]:
            if "units" in node.get("params", {}):
                node["params"]["out_features"] = node["params"].pop("units")
        return doc

    monkeypatch.setattr(project_module, "VERSION", 3)
    monkeypatch.setattr(project_module, "MIGRATIONS", {1: one_to_two, 2: two_to_three})
    original = doc_of()
    project = Project.from_dict(original)
    assert ran == [1, 2]
    assert project.name == "Linear regression (v2)"
    assert project.to_dict()["version"] == 3
    assert original == DOCS[LINEAR]  # the caller's document is left alone

    ran.clear()
    v2 = doc_of()
    v2["version"] = 2
    v2["graph"]["nodes"][1]["params"] = {"units": 7, "bias": False}
    project = loads_project(json.dumps(v2))
    assert ran == [2]
    assert project.graph.by_name("linear").params == {"out_features": 7, "bias": False}

    v4 = doc_of()
    v4["version"] = 4
    assert "update netbuilder" in error_of(v4).message


def test_a_migration_failing_on_a_damaged_old_file_is_a_project_error(monkeypatch) -> None:
    monkeypatch.setattr(project_module, "VERSION", 2)
    monkeypatch.setattr(project_module, "MIGRATIONS",
                        {1: lambda doc: {**doc, "nodes": doc["graph"]["nodes"]}})
    doc = doc_of()
    del doc["graph"]
    err = error_of(doc)
    assert "cannot upgrade this file from format version 1 to 2" in err.message


def test_shipped_format_is_version_1_with_no_migrations() -> None:
    assert VERSION == 1 and project_module.MIGRATIONS == {}


# ---- saving ---------------------------------------------------------------------------------


def _saved(tmp_path: Path) -> tuple[Project, Path, bytes]:
    project = loads_project(RAW[LINEAR])
    path = tmp_path / "p.nbproj"
    project.save(path)
    return project, path, path.read_bytes()


def test_saving_over_an_existing_file_replaces_it(tmp_path: Path) -> None:
    project, path, _ = _saved(tmp_path)
    project.name = "second"
    project.graph.set_params(project.graph.by_name("linear").id, {"out_features": 5})
    project.save()  # to project.path
    again = load_project(path)
    assert again.name == "second"
    assert again.graph.by_name("linear").params["out_features"] == 5
    assert os.listdir(tmp_path) == ["p.nbproj"]


def test_save_without_a_path_asks_for_one() -> None:
    project = loads_project(RAW[LINEAR])
    assert project.path is None
    with pytest.raises(ProjectError, match="choose where to save"):
        project.save()


@pytest.mark.parametrize("crash", ["replace", "fsync", "write"])
def test_crash_mid_save_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch, crash):
    project, path, before = _saved(tmp_path)
    project.name = "never written"

    def fail(*args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    if crash == "write":  # half the bytes reach the temp file, then the disk fills up
        real_fdopen = os.fdopen

        class HalfWriter(io.RawIOBase):
            def __init__(self, f: Any) -> None:
                self.f = f

            def write(self, data: Any) -> int:
                self.f.write(bytes(data[: len(data) // 2]))
                self.f.flush()
                fail()
                return 0

            def __getattr__(self, name: str) -> Any:
                return getattr(self.f, name)

            def __enter__(self) -> HalfWriter:
                return self

            def __exit__(self, *exc: Any) -> None:
                self.f.close()

        monkeypatch.setattr(project_module.os, "fdopen", lambda *a: HalfWriter(real_fdopen(*a)))
    else:
        monkeypatch.setattr(project_module.os, crash, fail)
    with pytest.raises(ProjectError) as info:
        project.save()
    monkeypatch.undo()
    assert "No space left on device" in info.value.message
    assert path.read_bytes() == before
    assert load_project(path).name == "Linear regression"
    assert os.listdir(tmp_path) == ["p.nbproj"]
    assert project.path == path


def test_interrupted_save_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch) -> None:
    project, path, before = _saved(tmp_path)
    project.name = "never written"

    def interrupt(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(project_module.os, "fsync", interrupt)
    with pytest.raises(KeyboardInterrupt):
        project.save()
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["p.nbproj"]


def test_save_into_a_missing_folder_is_a_project_error(tmp_path: Path) -> None:
    project = loads_project(RAW[LINEAR])
    target = tmp_path / "no" / "such" / "p.nbproj"
    with pytest.raises(ProjectError, match="cannot save") as info:
        project.save(target)
    assert info.value.file == str(target)
    assert project.path is None
    assert not (tmp_path / "no").exists()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_saving_keeps_the_file_permissions(tmp_path: Path) -> None:
    project, path, _ = _saved(tmp_path)
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # a new file: the usual permissions
    path.chmod(0o640)
    project.save()
    assert path.stat().st_mode & 0o777 == 0o640


@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links need privileges")
def test_saving_through_a_symbolic_link_updates_its_target(tmp_path: Path) -> None:
    project, real, _ = _saved(tmp_path)
    link = tmp_path / "link.nbproj"
    link.symlink_to(real)
    project = load_project(link)
    project.name = "via link"
    project.save()
    assert link.is_symlink()
    assert load_project(real).name == "via link"
    assert sorted(os.listdir(tmp_path)) == ["link.nbproj", "p.nbproj"]


# ---- no pickle ------------------------------------------------------------------------------

PICKLE_NAMES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "joblib", "shelve",
                "marshal"}


def pickle_uses(source: str) -> list[str]:
    """Code (not comments or docstrings) that could unpickle: modules, torch.load, torch.save."""
    found, code = [], []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.NAME and tok.string in PICKLE_NAMES:
            found.append(tok.string)
        if tok.type not in (tokenize.COMMENT, tokenize.STRING):
            code.append(tok.string)
    text = " ".join(code)
    for call in re.finditer(r"torch \. (load|save) \((.*?)\)", text):
        if call.group(1) == "save" or not re.search(r"weights_only = True", call.group(2)):
            found.append(f"torch.{call.group(1)}({call.group(2)})")
    found += re.findall(r"allow_pickle = True", text)
    return found


def test_the_pickle_check_catches_what_it_should() -> None:
    assert pickle_uses("import pickle\n") == ["pickle"]
    assert pickle_uses("from dill import loads\n") == ["dill"]
    assert pickle_uses("m = torch.load(path)\n")
    assert pickle_uses("torch.save(model, path)\n")
    assert pickle_uses("np.load(f, allow_pickle=True)\n")
    assert pickle_uses("m = torch.load(path, weights_only=True)\n") == []
    assert pickle_uses('"""Loading never unpickles; no pickle here."""\n# pickle\n') == []


def test_no_pickle_anywhere_in_netbuilder() -> None:
    sources = sorted((ROOT / "netbuilder").rglob("*.py"))
    assert len(sources) > 10
    found = {str(p.relative_to(ROOT)): uses for p in sources
             if (uses := pickle_uses(p.read_text("utf-8")))}
    assert found == {}


# ---- the documentation --------------------------------------------------------------------


def test_file_format_doc_lists_every_key_and_training_default() -> None:
    doc = (ROOT / "docs" / "file-format.md").read_text("utf-8")
    rows = {line.split("`")[1]: line for line in doc.splitlines() if line.startswith("| `")}
    schema = json.loads((ROOT / "netbuilder" / "files" / "schema" / "project.schema.json").read_text())
    for key in schema["properties"]:
        assert key in rows, key
    for key, default in DEFAULT_TRAINING.items():
        assert f"`{json.dumps(default)}`" in rows[key], rows[key]
        for allowed in schema["properties"]["training"]["properties"][key].get("enum", []):
            assert f'`"{allowed}"`' in rows[key], (key, allowed)
