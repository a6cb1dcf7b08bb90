"""The project's name and description as undoable edits: exact inverses, refusals change nothing."""

from __future__ import annotations

import pytest

from netbuilder import load_project
from netbuilder.errors import EditRefused
from netbuilder.examples import example_path
from netbuilder.files.project_edits import SetProjectInfo


def test_setting_name_and_description_reverts_exactly() -> None:
    project = load_project(example_path("mnist_cnn"))
    before = project.to_json()
    edit = SetProjectInfo(name="Mine", description="Digits, mine.")
    edit.apply(project)
    assert (project.name, project.description) == ("Mine", "Digits, mine.")
    edit.revert(project)
    assert project.to_json() == before


@pytest.mark.parametrize(("name", "reason"), [("", "needs a name"), ("   ", "needs a name"),
                                              (" padded", "spaces"), ("x" * 201, "at most 200")])
def test_a_name_the_file_could_not_hold_is_refused_and_nothing_changes(name: str, reason: str) -> None:
    project = load_project(example_path("linear_regression"))
    before = project.to_json()
    with pytest.raises(EditRefused, match=reason):
        SetProjectInfo(name=name).apply(project)
    assert project.to_json() == before
