"""The seed text's classic mistakes are caught with a fix, not copied."""

from __future__ import annotations

import pytest

from netbuilder import Edge, Graph, Project
from netbuilder.analysis.lint import lint_project


def model_ending_in(last: str | None, loss: str, then: tuple[str, ...] = ()) -> Project:
    """x -> Linear 'fc' -> ``last`` 'act' -> each of ``then`` (named after their kind) -> Output 'y'."""
    g = Graph()
    x = g.add_node(g.make_node("Input", "x", {"shape": [4]}))
    fc = g.add_node(g.make_node("Linear", "fc", {"out_features": 3}))
    g.connect(Edge(x.id, "out", fc.id, "in"))
    prev = fc
    if last:
        act = g.add_node(g.make_node(last, "act"))
        g.connect(Edge(fc.id, "out", act.id, "in"))
        prev = act
    for kind in then:
        params = {"shape": [3]} if kind == "Reshape" else {}
        node = g.add_node(g.make_node(kind, kind.lower(), params))
        g.connect(Edge(prev.id, "out", node.id, "in"))
        prev = node
    out = g.add_node(g.make_node("Output", "y"))
    g.connect(Edge(prev.id, "out", out.id, "in"))
    project = Project(g)
    project.training["loss"] = loss
    return project


@pytest.mark.parametrize(
    ("last", "loss", "severity", "text"),
    [
        ("Softmax", "cross_entropy", "error", "Softmax 'act' feeds Output 'y', but the cross_entropy loss applies "
                                              "softmax to raw scores itself: delete the Softmax"),
        ("LogSoftmax", "cross_entropy_soft", "error", "delete the LogSoftmax so the model ends in logits"),
        ("Sigmoid", "bce_with_logits", "error", "the bce_with_logits loss applies the sigmoid itself"),
        (None, "bce", "warning", "the bce loss needs probabilities in [0, 1]"),
        ("ReLU", "nll", "warning", "add a LogSoftmax before the Output"),
    ],
)
def test_mismatched_final_layer_and_loss(last, loss, severity, text) -> None:
    problems = lint_project(model_ending_in(last, loss))
    assert len(problems) == 1
    assert problems[0].severity == severity and text in problems[0].message


@pytest.mark.parametrize(("last", "loss"), [(None, "cross_entropy"), ("Sigmoid", "bce"),
                                            ("LogSoftmax", "nll"), (None, "mse"), ("Softmax", "mse")])
def test_matching_final_layer_and_loss_are_quiet(last, loss) -> None:
    assert lint_project(model_ending_in(last, loss)) == []


@pytest.mark.parametrize(
    ("last", "loss", "then", "text"),
    [
        ("Softmax", "cross_entropy", ("Dropout",),
         "Softmax 'act' feeds Output 'y' (through Dropout 'dropout'), but the cross_entropy loss applies softmax"),
        ("LogSoftmax", "cross_entropy", ("Flatten", "Reshape"),
         "LogSoftmax 'act' feeds Output 'y' (through Flatten 'flatten', Reshape 'reshape'), but the cross_entropy"),
        ("Softmax", "cross_entropy_soft", ("Reshape", "Dropout"), "delete the Softmax so the model ends in logits"),
        ("Sigmoid", "bce_with_logits", ("Flatten",), "the bce_with_logits loss applies the sigmoid itself"),
        ("ReLU", "bce", ("Dropout",), "Output 'y' gets ReLU 'act': add a Sigmoid before the Output"),
        ("Tanh", "nll", ("Flatten",), "Output 'y' gets Tanh 'act': add a LogSoftmax before the Output"),
    ],
)
def test_checks_look_through_layers_that_keep_the_values_meaning(last, loss, then, text) -> None:
    problems = lint_project(model_ending_in(last, loss, then))
    assert [p.message for p in problems if text in p.message], [p.message for p in problems]
    assert problems[0].node == model_ending_in(last, loss, then).graph.by_name("act").id


@pytest.mark.parametrize(("last", "loss"), [("Sigmoid", "bce"), ("LogSoftmax", "nll")])
def test_dropout_after_the_activation_a_loss_needs_is_an_error(last, loss) -> None:
    project = model_ending_in(last, loss, ("Dropout",))
    problems = lint_project(project)
    assert len(problems) == 1 and problems[0].severity == "error"
    assert problems[0].node == project.graph.by_name("dropout").id
    assert "move Dropout 'dropout' before" in problems[0].message
    # Without the Dropout, or after a Flatten only, the ending is right.
    assert lint_project(model_ending_in(last, loss, ("Flatten",))) == []
    project.graph.set_params(project.graph.by_name("dropout").id, {"p": 0.0})
    assert lint_project(project) == []


def test_a_layer_that_changes_values_ends_the_walk() -> None:
    # Softmax -> Linear: the Linear gives raw scores again, which is what cross_entropy wants.
    assert lint_project(model_ending_in("Softmax", "cross_entropy", ("Linear",))) == []


def test_the_seed_softmax_mistake_behind_a_dropout_blocks_training() -> None:
    from netbuilder.errors import NetbuilderError
    from netbuilder.training.run import prepare

    project = model_ending_in("Softmax", "cross_entropy", ("Dropout",))
    with pytest.raises(NetbuilderError, match=r"Softmax 'act' feeds Output 'y' \(through Dropout 'dropout'\)"):
        prepare(project)


def test_final_width_against_classes_names_the_linear_behind_a_dropout() -> None:
    from netbuilder.analysis.shape_inference import infer_shapes
    from netbuilder.data.fit import data_problems
    from netbuilder.data.seed_data import seed_softmax

    data = seed_softmax()  # seed 4.3: two classes; the text's model gives three outputs
    project = model_ending_in(None, "cross_entropy", ("Dropout",))
    g = project.graph
    g.set_params(g.by_name("x").id, {"shape": list(data.input_type.shape)})
    problems = [p for p in data_problems(data, g, infer_shapes(g), "cross_entropy") if p.code == "data-classes"]
    assert len(problems) == 1 and problems[0].node == g.by_name("fc").id
    assert "Linear 'fc' gives [N, 3] but 'seed-softmax' has 2 classes" in problems[0].message
    assert "(set out_features to 2)" in problems[0].message
