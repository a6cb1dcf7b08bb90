"""Frozen layers: a layer's weights kept as they are while the rest trains (fine-tuning an imported
model). The flag is saved, copied, undone, compiled, written into generated code and counted."""

from __future__ import annotations

import json

import pytest
import torch

from netbuilder import Edge, Graph, build_module, load_project
from netbuilder.analysis.summary import summarize
from netbuilder.build.codegen import generate_source
from netbuilder.data.dataset import Dataset
from netbuilder.errors import ProjectError
from netbuilder.examples import example_path
from netbuilder.files.fragment import fragment_of, fragment_to_json, parse_fragment, paste_edits
from netbuilder.files.project import Project, loads_project
from netbuilder.files.training_settings import SettingsError, TrainingSettings
from netbuilder.model.edits import SetFrozen
from netbuilder.training.trainer import Trainer


def mlp_graph() -> Graph:
    g = Graph()
    prev = None
    for kind, params in [("Input", {"shape": [4]}), ("Linear", {"out_features": 16}), ("ReLU", {}),
                         ("Linear", {"out_features": 3}), ("Output", {})]:
        node = g.add_node(g.make_node(kind, params=params))
        if prev:
            g.connect(Edge(prev.id, "out", node.id, "in"))
        prev = node
    return g


def blobs(n: int = 240) -> Dataset:
    gen = torch.Generator().manual_seed(0)
    y = torch.randint(0, 3, (n,), generator=gen)
    x = torch.randn(n, 4, generator=gen) + torch.nn.functional.one_hot(y, 4).float() * 3
    return Dataset("blobs", x, y, "classification", num_classes=3)


def settings() -> TrainingSettings:
    return TrainingSettings(loss="cross_entropy", optimizer="adam", learning_rate=0.05, batch_size=16, epochs=2,
                            validation_split=0.0, seed=1, device="cpu")


def test_training_keeps_a_frozen_layers_weights_and_trains_the_others() -> None:
    g = mlp_graph()
    first, second = (n.id for n in g.of_kind("Linear"))
    SetFrozen(first, True).apply(g)
    torch.manual_seed(0)
    model = build_module(g)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    Trainer(model, blobs(), settings()).run()
    after = model.state_dict()
    frozen_name, trained_name = g.node(first).name, g.node(second).name
    assert torch.equal(after[f"{frozen_name}.weight"], before[f"{frozen_name}.weight"])
    assert torch.equal(after[f"{frozen_name}.bias"], before[f"{frozen_name}.bias"])
    assert not torch.equal(after[f"{trained_name}.weight"], before[f"{trained_name}.weight"])


def test_with_every_layer_frozen_training_refuses_and_says_what_to_do() -> None:
    g = mlp_graph()
    SetFrozen([n.id for n in g.of_kind("Linear")], True).apply(g)
    with pytest.raises(SettingsError, match="unfreeze"):
        Trainer(build_module(g), blobs(), settings())


def test_the_flag_is_saved_loaded_copied_and_undone() -> None:
    project = load_project(example_path("mnist_cnn"))
    g = project.graph
    conv1, conv2 = g.by_name("conv1"), g.by_name("conv2")
    plain = project.to_json()
    assert '"frozen"' not in plain  # files of projects with nothing frozen are as they were
    edit = SetFrozen([conv1.id, conv2.id], True)
    edit.apply(g)
    again = loads_project(project.to_json())
    assert [n.name for n in again.graph if n.frozen] == ["conv1", "conv2"]
    # A copy pasted is frozen too.
    edits, new_ids = paste_edits(g, parse_fragment(fragment_to_json(fragment_of(g, [conv1.id]))), offset=(40, 40))
    for e in edits:
        e.apply(g)
    assert g.node(new_ids[0]).frozen
    edit.revert(g)
    assert not conv1.frozen and not conv2.frozen


def test_a_frozen_flag_that_is_not_true_or_false_is_refused_naming_where() -> None:
    doc = json.loads(Project(name="x").to_json())
    doc["graph"]["nodes"] = [{"id": "a", "kind": "Input", "name": "x", "params": {"shape": [3]}, "frozen": "yes"}]
    with pytest.raises(ProjectError) as err:
        loads_project(json.dumps(doc))
    assert "frozen" in str(err.value)


def test_compiled_generated_and_summarised_alike() -> None:
    project = load_project(example_path("mnist_cnn"))
    g = project.graph
    SetFrozen([g.by_name("conv1").id, g.by_name("fc1").id], True).apply(g)
    compiled = {name: p.requires_grad for name, p in build_module(g).named_parameters()}
    assert not compiled["conv1.weight"] and not compiled["fc1.bias"] and compiled["conv2.weight"]
    namespace: dict = {}
    exec(compile(generate_source(project), "net.py", "exec"), namespace)
    generated = {name: p.requires_grad for name, p in namespace["Net"]().named_parameters()}
    assert generated == compiled
    summary = summarize(g)
    rows = {r.name: r for r in summary.rows}
    assert rows["conv1"].frozen == rows["conv1"].params == 320 and rows["conv1"].trainable == 0
    assert rows["conv2"].frozen == 0
    assert summary.frozen_params == 320 + rows["fc1"].params
    assert summary.trainable_params == summary.total_params - summary.frozen_params
