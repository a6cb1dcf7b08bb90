"""Data and training settings as undoable project edits; the suggested loss; the data cache and preview;
the devices a run can use."""

from __future__ import annotations

import os

import pytest
import torch

from netbuilder import load_project
from netbuilder.data.cache import DataCache, NotDownloaded
from netbuilder.data.dataset import DataError, Dataset
from netbuilder.data.preview import preview
from netbuilder.data.sources import load_dataset
from netbuilder.data.suggest import loss_to_suggest, suggest_loss
from netbuilder.errors import EditRefused
from netbuilder.examples import example_path
from netbuilder.files.project import Project
from netbuilder.files.project_edits import ProjectEdits, SetData, SetTraining
from netbuilder.files.training_settings import SettingsError, TrainingSettings
from netbuilder.training.devices import list_devices, resolve_device


def test_set_data_and_set_training_revert_exactly() -> None:
    project = load_project(example_path("mnist_cnn"))
    before = project.to_json()
    data = SetData({"dataset": "seed-linear", "options": {"noise": 0.1}})
    assert data.text == "Use data set 'seed-linear'"
    data.apply(project)
    assert project.data == {"dataset": "seed-linear", "options": {"noise": 0.1}}
    training = SetTraining({"learning_rate": 0.01})
    assert training.text == "Set learning rate to 0.01"
    training.apply(project)
    assert project.training["learning_rate"] == 0.01
    training.revert(project)
    data.revert(project)
    assert project.to_json() == before


def test_an_invalid_training_combination_is_refused_with_the_reason_and_nothing_changes() -> None:
    project = load_project(example_path("mnist_cnn"))
    before = project.to_json()
    with pytest.raises(EditRefused, match="nesterov needs the sgd optimizer"):
        SetTraining({"nesterov": True}).apply(project)
    with pytest.raises(EditRefused, match="add 'top5' to metrics"):
        SetTraining({"monitor": "top5"}).apply(project)
    with pytest.raises(EditRefused, match="learning_rate"):
        SetTraining({"learning_rate": -1.0}).apply(project)
    assert project.to_json() == before


def test_an_unknown_data_option_is_refused() -> None:
    project = Project()
    with pytest.raises(EditRefused, match="did you mean 'noise'"):
        SetData({"dataset": "seed-linear", "options": {"nosie": 1}}).apply(project)
    assert project.data == {"dataset": "", "options": {}}


def test_project_edits_are_all_or_nothing() -> None:
    project = Project()
    before = project.to_json()
    both = ProjectEdits("Use data set 'digits'", [SetData({"dataset": "digits"}), SetTraining({"epochs": 0})])
    with pytest.raises(EditRefused):
        both.apply(project)
    assert project.to_json() == before
    both = ProjectEdits("Use data set 'digits'", [SetData({"dataset": "digits"}),
                                                  SetTraining({"loss": "cross_entropy"})])
    both.apply(project)
    assert project.data["dataset"] == "digits" and project.training["loss"] == "cross_entropy"
    both.revert(project)
    assert project.to_json() == before


@pytest.mark.parametrize(("name", "options", "loss", "words"), [
    ("digits", {}, "cross_entropy", "class numbers (10 classes)"),
    ("seed-softmax", {}, "cross_entropy", "class numbers (2 classes)"),
    ("seed-linear", {}, "mse", "real numbers"),
    ("seed-logistic", {"label_noise": 0}, "bce_with_logits", "0/1 labels"),
    ("seed-logistic", {}, "mse", "outside the [0, 1]"),  # the text's noisy labels (§4.2)
    ("seed-sequence", {}, "cross_entropy_soft", "one-hot"),
])
def test_the_suggested_loss_fits_the_targets_and_says_why(name, options, loss, words) -> None:
    suggested, reason = suggest_loss(load_dataset({"dataset": name, "options": options}))
    assert suggested == loss and reason.startswith(loss) and words in reason


def test_a_graph_ending_in_sigmoid_gets_bce() -> None:
    project = load_project(example_path("logistic_regression"))
    kinds = [n.kind for n in project.graph]
    assert "Sigmoid" in kinds
    dataset = load_dataset({"dataset": "seed-logistic", "options": {"label_noise": 0}})
    assert suggest_loss(dataset, project.graph)[0] == "bce"


def test_a_loss_is_suggested_only_where_none_was_chosen_or_the_chosen_cannot_read_the_targets() -> None:
    digits = load_dataset({"dataset": "digits"})
    line = load_dataset({"dataset": "seed-linear"})
    fresh = Project()
    assert loss_to_suggest(fresh.training, fresh.data, digits)[0] == "cross_entropy"
    assert loss_to_suggest({}, {"dataset": "seed-linear"}, digits)[0] == "cross_entropy"
    # A user's huber on regression data stays; so does mse once a data set was chosen with it.
    assert loss_to_suggest({"loss": "huber"}, {"dataset": "digits"}, line) is None
    assert loss_to_suggest({"loss": "mse"}, {"dataset": "seed-sequence"}, line) is None
    # cross_entropy on real numbers cannot train: the fitting loss is suggested.
    assert loss_to_suggest({"loss": "cross_entropy"}, {"dataset": "digits"}, line)[0] == "mse"


def test_the_cache_loads_once_keeps_two_and_sees_a_changed_file(tmp_path) -> None:
    cache = DataCache()
    a, b, c = ({"dataset": n, "options": {}} for n in ("seed-linear", "seed-softmax", "digits"))
    first = cache.get(a)
    assert cache.get(a) is first and cache.loads == 1
    cache.get(b)
    cache.get(c)  # a is the least recently used of three: dropped
    assert cache.loads == 3
    cache.get(a)
    assert cache.loads == 4
    table = tmp_path / "t.csv"
    table.write_text("x,y\n1,2\n2,4\n")
    data = {"dataset": "csv", "options": {"path": "t.csv"}}
    assert len(cache.get(data, tmp_path)) == 2
    table.write_text("x,y\n1,2\n2,4\n3,6\n")
    os.utime(table, ns=(10**18, 10**18))  # a new time, however coarse the file system's clock
    assert len(cache.get(data, tmp_path)) == 3


def test_the_cache_keeps_failures_and_guards_its_size(tmp_path) -> None:
    cache = DataCache(max_bytes=1000)
    missing = {"dataset": "csv", "options": {"path": str(tmp_path / "none.csv")}}
    for _ in range(2):
        with pytest.raises(DataError, match="no such file"):
            cache.get(missing)
    assert cache.loads == 0
    cache.get({"dataset": "digits"})  # 1,797 × 64 floats: over 1,000 bytes, not kept
    cache.get({"dataset": "digits"})
    assert cache.loads == 2


def test_the_cache_never_downloads_for_a_check(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("NETBUILDER_CACHE", str(tmp_path))
    with pytest.raises(NotDownloaded, match="not downloaded yet"):
        DataCache().get({"dataset": "mnist", "options": {}})


def test_a_preview_of_a_table_shows_rows_counts_and_split_sizes(tmp_path) -> None:
    table = tmp_path / "flowers.csv"
    table.write_text("a,b,kind\n" + "".join(f"{k},{k * 2},{'xy'[k % 2]}\n" for k in range(10)))
    shown = preview(load_dataset({"dataset": "csv", "options": {"path": str(table), "target": "kind"}}), 0.2, 0)
    assert shown.kind == "table" and shown.columns == ["a", "b", "target"]
    assert shown.rows[1] == ["1", "2", "y"]
    assert shown.class_counts == {"x": 5, "y": 5}
    assert (shown.train_size, shown.validation_size) == (8, 2)
    assert shown.input_shape == [2] and shown.input_dtype == "float32"


def test_a_preview_of_images_gives_eight_with_labels() -> None:
    shown = preview(load_dataset({"dataset": "digits", "options": {"resize": [28, 28]}}), 0.2, 0)
    assert shown.kind == "images" and len(shown.images) == 8
    assert shown.images[0].shape == (28, 28) and shown.labels[:3] == ["0", "1", "2"]
    assert shown.input_shape == [1, 28, 28] and shown.target_dtype == "int64"
    assert sum(shown.class_counts.values()) == 1797 and len(shown.class_counts) == 10
    assert (shown.train_size, shown.validation_size) == (1438, 359)
    colour = Dataset("rgb", torch.rand(3, 3, 4, 5), torch.tensor([0, 1, 0]), "classification", 2)
    assert preview(colour).images[0].shape == (3, 4, 5)


def test_the_device_list_has_auto_and_cpu_and_one_gpu_is_named_by_number() -> None:
    names = [d.name for d in list_devices()]
    assert names[:2] == ["auto", "cpu"]
    assert all(d.label for d in list_devices())
    TrainingSettings(device="cuda:1").validate()
    for bad in ("cuda:", "cuda:x", "cuda:01", "gpu"):
        with pytest.raises(SettingsError, match="cuda:0"):
            TrainingSettings(device=bad).validate()
    if not torch.cuda.is_available():
        with pytest.raises(SettingsError, match="no CUDA GPU"):
            resolve_device("cuda:0")
    else:
        assert resolve_device("cuda:0") == torch.device("cuda", 0)
        with pytest.raises(SettingsError, match="pick one of them"):
            resolve_device(f"cuda:{torch.cuda.device_count()}")
