"""The seed text's classic mistakes are caught with a fix, not copied."""

from __future__ import annotations

import pytest

from netbuilder import Edge, Graph, Project
from netbuilder.analysis.lint import lint_project


def model_ending_in(last: str | None, loss: str) -> Project:
    g = Graph()
    x = g.add_node(g.make_node("Input", "x", {"shape": [4]}))
    fc = g.add_node(g.make_node("Linear", "fc", {"out_features": 3}))
    g.connect(Edge(x.id, "out", fc.id, "in"))
    prev = fc
    if last:
        act = g.add_node(g.make_node(last, "act"))
        g.connect(Edge(fc.id, "out", act.id, "in"))
        prev = act
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
