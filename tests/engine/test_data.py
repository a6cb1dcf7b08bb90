"""Data sets: the seed's data as written, bundled digits, and clear problems when data and model disagree."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from netbuilder import Edge, Graph, infer_shapes
from netbuilder.data.dataset import DataError, Dataset
from netbuilder.data.digits import digits
from netbuilder.data.fit import data_problems
from netbuilder.data.images import load_image_folder
from netbuilder.data.mnist import load_mnist
from netbuilder.data.seed_data import seed_linear, seed_logistic, seed_sequence, seed_softmax
from netbuilder.data.sources import load_dataset
from netbuilder.data.tabular import load_csv, load_numpy
from netbuilder.files.data_settings import DATA_SETS, known_options


def test_seed_data_is_generated_as_the_text_writes_it() -> None:
    rng = np.random.RandomState(7)
    x = np.linspace(-1, 1, 100)
    expected = 2 * x + rng.randn(*x.shape) * 0.33
    np.testing.assert_allclose(seed_linear(seed=7).y.squeeze(1).numpy(), expected, rtol=1e-6)
    noisy = seed_logistic(seed=0)
    assert noisy.y.min() < 0 and noisy.y.max() > 1  # the text's labels leave [0, 1]
    assert set(seed_logistic(label_noise=0).y.unique().tolist()) == {0.0, 1.0}
    assert seed_softmax().y.tolist() == [0, 1, 0]
    assert seed_sequence().x.shape == (3, 2, 1) and seed_sequence().x[2].flatten().tolist() == [3, 4]


def test_digits_are_bundled_and_scaled() -> None:
    d = digits()
    assert d.x.shape == (1797, 1, 8, 8) and d.x.min() == 0 and d.x.max() == 1
    assert torch.bincount(d.y).min() >= 170 and d.num_classes == 10
    resized = load_dataset({"dataset": "digits", "options": {"resize": [28, 28]}})
    assert resized.x.shape == (1797, 1, 28, 28)


def test_unknown_or_missing_data_set_and_bad_options() -> None:
    with pytest.raises(DataError, match="names no data set"):
        load_dataset({"dataset": ""})
    with pytest.raises(DataError, match="unknown data set 'imagenet'"):
        load_dataset({"dataset": "imagenet"})
    with pytest.raises(DataError, match="data set 'digits' has no option 'colour'; its options are resize"):
        load_dataset({"dataset": "digits", "options": {"colour": True}})
    with pytest.raises(DataError, match="100 samples but 99 targets"):
        Dataset("x", torch.zeros(100, 1), torch.zeros(99, 1))


def graph_for(shape: list[int], width: int, last: str | None = None) -> Graph:
    g = Graph()
    x = g.add_node(g.make_node("Input", "x", {"shape": shape}))
    prev = x
    if len(shape) > 1:
        f = g.add_node(g.make_node("Flatten", "flat"))
        g.connect(Edge(x.id, "out", f.id, "in"))
        prev = f
    fc = g.add_node(g.make_node("Linear", "fc", {"out_features": width}))
    g.connect(Edge(prev.id, "out", fc.id, "in"))
    prev = fc
    if last:
        act = g.add_node(g.make_node(last, "act"))
        g.connect(Edge(fc.id, "out", act.id, "in"))
        prev = act
    out = g.add_node(g.make_node("Output", "y"))
    g.connect(Edge(prev.id, "out", out.id, "in"))
    return g


def problems(dataset: Dataset, graph: Graph, loss: str) -> list[str]:
    return [p.message for p in data_problems(dataset, graph, infer_shapes(graph), loss)]


def test_seed_softmax_mistakes_are_reported() -> None:
    # The text: Dense(3) for 2 classes, integer labels with a one-hot (categorical) loss.
    data = seed_softmax()
    found = problems(data, graph_for([2], 3), "cross_entropy_soft")
    assert any("wants one-hot or probability rows, but 'seed-softmax' has class numbers" in m for m in found)
    found = problems(data, graph_for([2], 3), "cross_entropy")
    assert found == ["Linear 'fc' gives [N, 3] but 'seed-softmax' has 2 classes: give the last layer 2 outputs "
                     "(set out_features to 2)"]
    assert problems(data, graph_for([2], 2), "cross_entropy") == []


def test_one_hot_targets_with_an_index_loss() -> None:
    found = problems(seed_sequence(), graph_for([2, 1], 2), "cross_entropy")
    assert "switch the loss to cross_entropy_soft" in found[0]


def test_input_shape_mismatch_names_both() -> None:
    found = problems(digits(), graph_for([1, 28, 28], 10), "cross_entropy")
    assert found[0].startswith("Input 'x' expects [N, 1, 28, 28] but data set 'digits' gives samples [N, 1, 8, 8]")
    assert "resize" in found[0]


def test_nan_values_and_target_shape() -> None:
    x = torch.randn(10, 3)
    x[4, 1] = float("nan")
    found = problems(Dataset("mine.csv", x, torch.randn(10, 2)), graph_for([3], 1), "mse")
    assert any("'mine.csv' contains NaN" in m for m in found)
    assert any("Linear 'fc' gives [N, 1] but the targets of 'mine.csv' are [N, 2]" in m for m in found)


def test_a_separate_validation_set_replaces_the_split(tmp_path) -> None:
    from netbuilder import load_project
    from netbuilder.data.idx import write_idx
    from netbuilder.examples import example_path
    from netbuilder.training.run import prepare

    rng = np.random.default_rng(1)
    for prefix, n in (("train", 40), ("t10k", 12)):
        write_idx(tmp_path / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28), np.uint8))
        write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte", rng.integers(0, 10, n).astype(np.uint8))
    project = load_project(example_path("mnist_cnn"))
    project.data = {"dataset": "mnist", "options": {"folder": str(tmp_path)},
                    "validation": {"dataset": "mnist", "options": {"folder": str(tmp_path), "split": "test"}}}
    run = prepare(project)
    assert len(run.train) == 40 and len(run.val) == 12
    saved = load_project(project.save(tmp_path / "p.nbproj"))
    assert saved.data["validation"]["options"]["split"] == "test"


def test_a_misspelt_csv_option_is_refused_not_ignored(tmp_path) -> None:
    (tmp_path / "t.csv").write_text("a,b,c\n1,2,0.5\n3,4,1.5\n")
    with pytest.raises(DataError, match=r"data set 'csv' has no option 'targte' \(did you mean 'target'\?\); "
                                        "its options are features, path, resize, target, task"):
        load_dataset({"dataset": "csv", "options": {"path": "t.csv", "targte": "a"}}, tmp_path)
    assert load_dataset({"dataset": "csv", "options": {"path": "t.csv", "target": "a"}}, tmp_path).feature_names \
        == ["b", "c"]
    for source in ("csv", "numpy"):  # a misspelt task is refused too, not read as regression
        with pytest.raises(DataError, match="option 'task' is 'clasification'; choose one of auto, regression"):
            load_dataset({"dataset": source, "options": {"path": "t.csv", "task": "clasification"}}, tmp_path)


@pytest.mark.parametrize("name", list(DATA_SETS))
def test_every_data_source_refuses_unknown_options_and_lists_its_own(name: str) -> None:
    with pytest.raises(DataError, match=f"data set '{name}' has no option 'bogus'; its options are "
                                        f"{', '.join(known_options(name))}$"):
        load_dataset({"dataset": name, "options": {"bogus": 1}})


def test_the_option_table_is_what_the_loaders_take() -> None:
    import functools
    import inspect

    from netbuilder.data import sources

    loaders = {**sources.BUILT_IN, "mnist": functools.partial(load_mnist, "mnist"),
               "fashion-mnist": functools.partial(load_mnist, "fashion-mnist"), "csv": load_csv,
               "numpy": load_numpy, "image-folder": load_image_folder}
    assert list(loaders) == list(DATA_SETS) == sources.dataset_names()
    supplied = {"seed", "progress", "mirrors", "shape"}  # given by the app, not by the project file
    for name, loader in loaders.items():
        params = inspect.signature(loader).parameters.values()
        assert all(p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL) for p in params), name  # nothing swallowed
        assert {p.name for p in params} - supplied == set(DATA_SETS[name]), name


def test_netbuilder_check_reports_misspelt_data_options(tmp_path, capsys) -> None:
    from netbuilder import load_project
    from netbuilder.cli import main
    from netbuilder.examples import example_path

    project = load_project(example_path("linear_regression"))
    project.data = {"dataset": "csv", "options": {"path": "t.csv", "targte": "a"},
                    "validation": {"dataset": "digits", "options": {"splt": "test"}}}
    path = project.save(tmp_path / "p.nbproj")
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "error: data set 'csv' has no option 'targte' (did you mean 'target'?)" in out
    assert "error: validation data set 'digits' has no option 'splt'" in out


def test_class_numbers_with_a_value_loss_name_the_task_option() -> None:
    data = Dataset("counts.csv", torch.randn(6, 3), torch.tensor([0, 1, 2, 3, 4, 5]), "classification", 6)
    (message,) = problems(data, graph_for([3], 1), "mse")
    assert "use cross_entropy for classes" in message and "set the data set's task option to 'regression'" in message
