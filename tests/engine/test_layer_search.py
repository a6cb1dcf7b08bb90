"""Finding a layer by what a user types, and which layers take a wire's shape (no Qt)."""

from __future__ import annotations

import pytest

from netbuilder.analysis.shape_inference import infer_shapes
from netbuilder.analysis.wiring import insert_problem, replace_problem
from netbuilder.examples import example_path
from netbuilder.files.project import load_project
from netbuilder.layers import CATALOG, TensorType
from netbuilder.layers.accepts import fit, kinds_accepting
from netbuilder.layers.search import ALIAS, INSIDE, NAME, search, search_kinds
from netbuilder.model.graph import Edge


def test_relu_lists_the_relu_family_first_and_nothing_unrelated() -> None:
    assert search_kinds("relu") == ["ReLU", "ReLU6", "LeakyReLU", "PReLU"]  # not ELU, GELU (a letter away), Softplus


def test_conv_lists_the_convolutions() -> None:
    assert search_kinds("conv") == ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose2d"]


@pytest.mark.parametrize("typed", ["dense", "Dense", "fc", "tf.keras.layers.Dense", "fully connected"])
def test_dense_and_fc_find_linear(typed: str) -> None:
    assert search_kinds(typed)[0] == "Linear"


def test_bn_finds_batchnorm() -> None:
    assert search_kinds("bn") == ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d"]


@pytest.mark.parametrize(("keras", "torch"), [("Dense", "Linear"), ("Conv2D", "Conv2d"), ("MaxPooling2D", "MaxPool2d"),
                                              ("Flatten", "Flatten"), ("LSTM", "LSTM"), ("Dropout", "Dropout"),
                                              ("layers.Conv2D", "Conv2d"), ("SimpleRNN", "RNN"),
                                              ("GlobalAveragePooling2D", "AdaptiveAvgPool2d"),
                                              ("BatchNormalization", "BatchNorm1d"), ("Concatenate", "Concat")])
def test_keras_names_find_their_pytorch_layers(keras: str, torch: str) -> None:
    assert search_kinds(keras)[0] == torch


def test_name_matches_beat_substring_matches_beat_aliases() -> None:
    ranked = search("pool")
    tiers = [m.tier for m in ranked]
    assert tiers == sorted(tiers)
    assert [m.kind for m in ranked if m.tier == NAME] == ["MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d",
                                                         "AvgPool2d", "AvgPool3d", "AdaptiveAvgPool1d",
                                                         "AdaptiveAvgPool2d", "AdaptiveAvgPool3d"]
    # "norm": the names holding the word, then none; "batch": BatchNorm by name before any alias.
    assert search_kinds("norm")[:4] == ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LayerNorm"]
    relu = {m.kind: m.tier for m in search("relu")}
    assert relu == {"ReLU": NAME, "ReLU6": NAME, "LeakyReLU": NAME, "PReLU": NAME}
    assert {m.kind: m.tier for m in search("lu")}["ReLU"] == INSIDE
    assert {m.kind: m.tier for m in search("swish")} == {"Hardswish": INSIDE, "SiLU": ALIAS}
    # An exact name is first even where another name starts with it.
    assert search_kinds("linear")[0] == "Linear" and search_kinds("conv2d")[0] == "Conv2d"


def test_typos_and_descriptions_only_when_nothing_matches_as_typed() -> None:
    assert search_kinds("lienar") == ["Linear"]
    assert search_kinds("dropuot") == ["Dropout"]
    assert "Sigmoid" in search_kinds("probability")
    assert search_kinds("xyzzy") == []


def test_an_empty_query_lists_every_kind_in_catalog_order_and_a_limit_keeps_to_its_kinds() -> None:
    assert search_kinds("") == list(CATALOG)
    assert search_kinds("relu", {"PReLU", "Linear"}) == ["PReLU"]


def test_the_layers_that_take_a_flat_tensor_are_those_whose_rule_accepts_it() -> None:
    flat = kinds_accepting(TensorType((64,)))
    assert {"Linear", "ReLU", "BatchNorm1d", "Dropout", "Output"} <= flat
    assert not {"Conv2d", "MaxPool2d", "LSTM", "Input", "Embedding"} & flat
    image = kinds_accepting(TensorType((32, 7, 7)))
    assert {"Conv2d", "MaxPool2d", "BatchNorm2d", "Flatten"} <= image and "Linear" not in image
    assert kinds_accepting(TensorType((64,))) is flat  # the second drop of such a wire is a look-up
    assert "insert Flatten" in fit("Linear", TensorType((32, 7, 7))).reason


def test_a_wire_may_replace_the_one_its_input_has_unless_it_would_loop() -> None:
    graph = load_project(example_path("mnist_cnn")).graph
    fc1, fc2, relu3 = (graph.by_name(n) for n in ("fc1", "fc2", "relu3"))
    assert "already has a wire" in graph.connect_problem(Edge(relu3.id, "out", fc2.id, "in"))
    assert replace_problem(graph, Edge(relu3.id, "out", fc2.id, "in")) is None
    assert "loop" in replace_problem(graph, Edge(fc2.id, "out", fc1.id, "in"))
    assert "feed itself" in replace_problem(graph, Edge(fc1.id, "out", fc1.id, "in"))


def test_a_layer_goes_into_a_wire_only_where_both_ends_take_its_shapes() -> None:
    graph = load_project(example_path("mnist_cnn")).graph
    inference = infer_shapes(graph)
    conv_wire = graph.in_edges(graph.by_name("conv2").id)["in"]  # an image into a convolution
    fc_wire = graph.in_edges(graph.by_name("fc2").id)["in"]  # features into a Linear
    assert insert_problem(graph, inference, "ReLU", conv_wire) is None
    assert insert_problem(graph, inference, "BatchNorm2d", conv_wire) is None
    assert "Linear needs" in insert_problem(graph, inference, "Linear", conv_wire)
    flatten = insert_problem(graph, inference, "Flatten", conv_wire)  # takes the image; conv2 cannot take its output
    assert flatten.startswith("Conv2d 'conv2' needs") and "[N, 5408]" in flatten  # 32 x 13 x 13 flattened
    assert insert_problem(graph, inference, "Dropout", fc_wire) is None
    assert "no output" in insert_problem(graph, inference, "Output", fc_wire)
