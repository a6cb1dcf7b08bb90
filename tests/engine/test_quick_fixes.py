"""Each problem whose message names its fix offers it as one edit; applied, the problem is gone, the
graph infers, and nothing else changed; reverted, the project is exactly as before."""

from __future__ import annotations

import json

import pytest
import torch

from netbuilder import Edge, Graph, Project
from netbuilder.analysis.lint import lint_project
from netbuilder.analysis.quick_fixes import QuickFix, quick_fixes
from netbuilder.analysis.shape_inference import Problem, ShapeInference, infer_shapes
from netbuilder.data.dataset import Dataset
from netbuilder.data.digits import digits
from netbuilder.data.facts import data_facts
from netbuilder.data.fit import data_problems
from netbuilder.data.seed_data import seed_logistic, seed_softmax
from netbuilder.files.project_edits import ProjectEdit


def chain(*layers: tuple[str, str, dict], input_shape: list[int] | None = None, output: bool = True) -> Project:
    """Input 'x' -> each (kind, name, params) in a row, 300 apart -> Output 'y'."""
    g = Graph()
    prev = g.add_node(g.make_node("Input", "x", {"shape": input_shape or [4]}, (0, 0)))
    for k, (kind, name, params) in enumerate(layers, start=1):
        node = g.add_node(g.make_node(kind, name, params, (300 * k, 0)))
        g.connect(Edge(prev.id, "out", node.id, "in"))
        prev = node
    if output:
        out = g.add_node(g.make_node("Output", "y", position=(300 * (len(layers) + 1), 0)))
        g.connect(Edge(prev.id, "out", out.id, "in"))
    return Project(g)


def all_problems(project: Project, dataset: Dataset | None = None) -> list[Problem]:
    inference = infer_shapes(project.graph)
    found = [*inference.problems, *lint_project(project)]
    if dataset is not None and not inference.errors:
        found += data_problems(dataset, project.graph, inference, project.training["loss"])
    return found


def the_problem(project: Project, code: str, dataset: Dataset | None = None) -> Problem:
    found = [p for p in all_problems(project, dataset) if p.code == code]
    assert len(found) == 1, [p.message for p in all_problems(project, dataset)]
    return found[0]


def fixes(project: Project, problem: Problem, dataset: Dataset | None = None) -> list[QuickFix]:
    facts = data_facts(dataset, project.graph) if dataset is not None else None
    return quick_fixes(problem, project, ShapeInference(project.graph), facts)


def snapshot(project: Project) -> str:
    return json.dumps(project.to_dict(), sort_keys=True)


def nodes_of(project: Project) -> dict[str, tuple]:
    return {n.id: (n.kind, n.name, json.dumps(n.params, sort_keys=True), n.position) for n in project.graph}


def unmoved(nodes: dict[str, tuple]) -> dict[str, tuple]:
    """``nodes_of`` without the positions: an inserted layer may move its neighbours to make room for itself."""
    return {k: v[:3] for k, v in nodes.items()}


def none_overlap(project: Project) -> bool:
    from netbuilder.model.layout import is_free, node_height

    g = project.graph
    return all(is_free(g, *n.position, node_height(n), ignore=frozenset({n.id})) for n in g)


def apply(project: Project, fix: QuickFix) -> None:
    fix.edit.apply(project if isinstance(fix.edit, ProjectEdit) else project.graph)


def revert(project: Project, fix: QuickFix) -> None:
    fix.edit.revert(project if isinstance(fix.edit, ProjectEdit) else project.graph)


def check_fix(project: Project, fix: QuickFix, code: str, dataset: Dataset | None = None) -> None:
    """Applied: no problem of ``code`` and no error left; reverted: the project as it was."""
    before = snapshot(project)
    apply(project, fix)
    after = all_problems(project, dataset)
    assert not [p for p in after if p.code == code], [p.message for p in after]
    assert not [p for p in after if p.severity == "error"], [p.message for p in after]
    assert not infer_shapes(project.graph).errors
    revert(project, fix)
    assert snapshot(project) == before


def test_flatten_goes_in_front_of_a_linear_fed_an_image() -> None:
    project = chain(("Conv2d", "conv", {"out_channels": 4, "kernel_size": 3}), ("ReLU", "relu", {}),
                    ("Linear", "fc", {"out_features": 10}), input_shape=[1, 8, 8])
    problem = the_problem(project, "shape")
    assert problem.message.endswith("insert Flatten")
    [fix] = fixes(project, problem)
    assert fix.label == "Insert Flatten before Linear 'fc' ([N, 4, 6, 6] to [N, 144])"
    graph = project.graph
    relu, fc = graph.by_name("relu"), graph.by_name("fc")
    old_nodes, old_edges = nodes_of(project), set(graph.edges)
    check_fix(project, fix, "shape")
    apply(project, fix)
    flatten = graph.node(fix.node)
    assert flatten.kind == "Flatten"
    assert unmoved({k: v for k, v in nodes_of(project).items() if k != flatten.id}) == unmoved(old_nodes)
    assert set(graph.edges) == old_edges - {Edge(relu.id, "out", fc.id, "in")} | {
        Edge(relu.id, "out", flatten.id, "in"), Edge(flatten.id, "out", fc.id, "in")}
    assert str(infer_shapes(graph).outputs(fc.id)["out"]) == "[N, 10]"
    # In the chain between the two (what is right of it moved on to make room), covering no layer.
    assert relu.position[0] < flatten.position[0] < fc.position[0] and flatten.position[1] == relu.position[1]
    assert none_overlap(project)


def merge_of(a: list[int], b: list[int], kind: str = "Add", params: dict | None = None) -> Project:
    g = Graph()
    x1 = g.add_node(g.make_node("Input", "a", {"shape": a}, (0, 0)))
    x2 = g.add_node(g.make_node("Input", "b", {"shape": b}, (0, 200)))
    m = g.add_node(g.make_node(kind, "merge", params or {}, (300, 100)))
    out = g.add_node(g.make_node("Output", "y", position=(600, 100)))
    g.connect(Edge(x1.id, "out", m.id, "in1"))
    g.connect(Edge(x2.id, "out", m.id, "in2"))
    g.connect(Edge(m.id, "out", out.id, "in"))
    return Project(g)


@pytest.mark.parametrize("kind", ["Add", "Multiply"])
def test_reshape_matches_the_ranks_of_a_merge(kind: str) -> None:
    project = merge_of([3, 4], [4], kind)
    problem = the_problem(project, "shape")
    [fix] = fixes(project, problem)
    assert fix.label == f"Insert Reshape to [1, 4] before 'in2' of {kind} 'merge'"
    old_nodes = nodes_of(project)
    check_fix(project, fix, "shape")
    apply(project, fix)
    graph = project.graph
    reshape = graph.node(fix.node)
    assert (reshape.kind, reshape.params["shape"]) == ("Reshape", [1, 4])
    assert unmoved({k: v for k, v in nodes_of(project).items() if k != reshape.id}) == unmoved(old_nodes)
    assert none_overlap(project)
    assert graph.in_edges(graph.by_name("merge").id)["in2"].src == reshape.id
    assert graph.in_edges(reshape.id)["in"].src == graph.by_name("b").id
    assert str(infer_shapes(graph).outputs(graph.by_name("merge").id)["out"]) == "[N, 3, 4]"


def test_features_meet_an_images_channels_with_trailing_1s() -> None:
    # Seen on Xvfb: Add of [N, 64] and [N, 64, 3, 3] said "insert Reshape to [1, 1, 64]" (which does not broadcast
    # with [64, 3, 3]) and offered no fix; [64, 1, 1] does, a value per channel (a squeeze-excitation gate).
    project = merge_of([64], [64, 3, 3], "Multiply")
    problem = the_problem(project, "shape")
    assert "insert Reshape to [64, 1, 1] before 'in1'" in problem.message
    [fix] = fixes(project, problem)
    assert fix.label == "Insert Reshape to [64, 1, 1] before 'in1' of Multiply 'merge'"
    check_fix(project, fix, "shape")
    apply(project, fix)
    graph = project.graph
    assert str(infer_shapes(graph).outputs(graph.by_name("merge").id)["out"]) == "[N, 64, 3, 3]"


def test_shapes_that_no_added_1s_line_up_say_so_and_offer_no_fix() -> None:
    project = merge_of([5], [64, 3, 3])
    problem = the_problem(project, "shape")
    assert "[N, 5] and [N, 64, 3, 3] do not broadcast even with 1s added on either side" in problem.message
    assert "insert Reshape" not in problem.message
    assert fixes(project, problem) == []


def test_a_concat_of_ranks_that_reshaping_cannot_line_up_offers_no_fix() -> None:
    project = merge_of([3, 4], [5], "Concat", {"dim": 1})
    assert fixes(project, the_problem(project, "shape")) == []
    lined_up = merge_of([3, 4], [4], "Concat", {"dim": 1})  # [N, 4] -> [N, 1, 4] joins [N, 3, 4] along dim 1
    [fix] = fixes(lined_up, the_problem(lined_up, "shape"))
    check_fix(lined_up, fix, "shape")


@pytest.mark.parametrize("last", ["Softmax", "LogSoftmax"])
def test_a_softmax_before_cross_entropy_is_deleted_keeping_the_wires(last: str) -> None:
    project = chain(("Linear", "fc", {"out_features": 3}), (last, "act", {}), ("Dropout", "drop", {"p": 0.0}))
    project.training["loss"] = "cross_entropy"
    problem = the_problem(project, "lint-double-activation")
    found = fixes(project, problem)
    assert found[0].label == f"Delete {last} 'act' so the model ends in raw scores (logits)"
    old_nodes = nodes_of(project)
    check_fix(project, found[0], "lint-double-activation")
    apply(project, found[0])
    graph = project.graph
    assert graph.by_name("act") is None
    assert {k: v for k, v in old_nodes.items() if v[1] != "act"} == nodes_of(project)
    assert graph.in_edges(graph.by_name("drop").id)["in"].src == graph.by_name("fc").id
    revert(project, found[0])
    if last == "LogSoftmax":  # LogSoftmax gives what nll takes: switching the loss also fixes it
        assert found[1].label == "Switch the loss to nll (it takes the LogSoftmax's log-probabilities)"
        check_fix(project, found[1], "lint-double-activation")
    else:
        assert len(found) == 1


def test_a_sigmoid_before_bce_with_logits_can_go_or_the_loss_can_switch() -> None:
    project = chain(("Linear", "fc", {"out_features": 1}), ("Sigmoid", "act", {}))
    project.training["loss"] = "bce_with_logits"
    found = fixes(project, the_problem(project, "lint-double-activation"))
    assert [f.label for f in found] == ["Delete Sigmoid 'act' so the model ends in raw scores (logits)",
                                        "Switch the loss to bce (it takes the Sigmoid's probabilities)"]
    for fix in found:
        check_fix(project, fix, "lint-double-activation")
    old = nodes_of(project)
    apply(project, found[1])
    assert project.training["loss"] == "bce" and nodes_of(project) == old


@pytest.mark.parametrize(("loss", "kind", "other"), [("bce", "Sigmoid", "bce_with_logits"),
                                                     ("nll", "LogSoftmax", "cross_entropy")])
def test_a_loss_wanting_probabilities_gets_the_activation_or_the_other_loss(loss: str, kind: str, other: str) -> None:
    project = chain(("Linear", "fc", {"out_features": 3}))
    project.training["loss"] = loss
    code = "lint-needs-probabilities" if loss == "bce" else "lint-needs-log-probabilities"
    insert, switch = fixes(project, the_problem(project, code))
    assert insert.label == f"Insert {kind} before Output 'y'"
    assert switch.label.startswith(f"Switch the loss to {other} (")
    for fix in (insert, switch):
        check_fix(project, fix, code)
    old = nodes_of(project)
    apply(project, switch)
    assert nodes_of(project) == old and project.training["loss"] == other


def test_the_last_layer_gets_as_many_outputs_as_there_are_classes() -> None:
    # The teaching text's 4.3: Dense(3) for 2 classes.
    project = chain(("Linear", "fc", {"out_features": 3}), input_shape=[2])
    project.training["loss"] = "cross_entropy"
    data = seed_softmax()
    problem = the_problem(project, "data-classes", data)
    [fix] = fixes(project, problem, data)
    assert fix.label == "Set out_features of Linear 'fc' to 2, the number of classes"
    assert fixes(project, problem) == []  # without the data's facts there is no number to set
    check_fix(project, fix, "data-classes", data)
    old = nodes_of(project)
    apply(project, fix)
    fc = project.graph.by_name("fc")
    assert fc.params["out_features"] == 2
    assert {k: v for k, v in nodes_of(project).items() if k != fc.id} == {k: v for k, v in old.items() if k != fc.id}


def test_a_regression_output_gets_the_width_of_the_targets() -> None:
    project = chain(("Linear", "fc", {"out_features": 3}), input_shape=[2])
    project.training["loss"] = "mse"
    data = Dataset("pairs", torch.randn(20, 2), torch.randn(20, 1))
    [fix] = fixes(project, the_problem(project, "data-target-shape", data), data)
    assert fix.label == "Set out_features of Linear 'fc' to 1, the width of a target"
    check_fix(project, fix, "data-target-shape", data)


@pytest.mark.parametrize(("loss", "data", "wanted"), [
    ("cross_entropy", Dataset("values", torch.randn(20, 2), torch.randn(20, 2)), "mse"),  # real targets
    ("mse", Dataset("labels", torch.randn(20, 2), torch.tensor([0, 1] * 10), "classification", 2), "cross_entropy"),
    ("cross_entropy_soft", seed_softmax(), "cross_entropy"),
    ("bce", seed_logistic(), "mse"),  # the teaching text's 4.2: noise pushed the 0/1 labels out of [0, 1]
])
def test_the_loss_switches_to_match_the_labels(loss: str, data: Dataset, wanted: str) -> None:
    project = chain(("Linear", "fc", {"out_features": 2 if data.labels_are_indices else data.y.shape[1]}),
                    *([("Sigmoid", "act", {})] if loss == "bce" else []), input_shape=list(data.x.shape[1:]))
    project.training["loss"] = loss
    code = "data-bce-range" if loss == "bce" else "data-targets"
    [fix] = fixes(project, the_problem(project, code, data), data)
    assert fix.label.startswith(f"Switch the loss to {wanted} (because the targets ")
    old = nodes_of(project)
    check_fix(project, fix, code, data)
    apply(project, fix)
    assert project.training["loss"] == wanted and nodes_of(project) == old


def test_the_input_takes_the_shape_of_the_data() -> None:
    project = chain(("Flatten", "flat", {}), ("Linear", "fc", {"out_features": 10}), input_shape=[1, 28, 28])
    project.training["loss"] = "cross_entropy"
    data = digits()
    [fix] = fixes(project, the_problem(project, "data-input", data), data)
    assert fix.label == "Set the shape of Input 'x' to [1, 8, 8]"
    check_fix(project, fix, "data-input", data)


def test_a_missing_output_is_added_after_the_last_layer() -> None:
    project = chain(("Linear", "fc", {"out_features": 3}), ("ReLU", "relu", {}), output=False)
    [fix] = fixes(project, the_problem(project, "no-output"))
    assert fix.label == "Add an Output after ReLU 'relu'"
    old_nodes, old_edges = nodes_of(project), set(project.graph.edges)
    check_fix(project, fix, "no-output")
    apply(project, fix)
    graph = project.graph
    out = graph.node(fix.node)
    assert out.kind == "Output" and out.position == (900.0, 0.0)
    assert set(graph.edges) == old_edges | {Edge(graph.by_name("relu").id, "out", out.id, "in")}
    assert {k: v for k, v in nodes_of(project).items() if k != out.id} == old_nodes


def test_an_empty_input_is_wired_from_the_nearest_output_it_accepts() -> None:
    g = Graph()
    x = g.add_node(g.make_node("Input", "x", {"shape": [4]}, (0, 300)))
    image = g.add_node(g.make_node("Input", "image", {"shape": [1, 8, 8]}, (0, 0)))
    conv = g.add_node(g.make_node("Conv2d", "conv", {"out_channels": 2, "kernel_size": 3}, (300, 0)))
    relu = g.add_node(g.make_node("ReLU", "relu", {}, (300, 300)))
    fc = g.add_node(g.make_node("Linear", "fc", {"out_features": 2}, (600, 0)))  # nearest to conv, which is 4-D
    out = g.add_node(g.make_node("Output", "y", position=(900, 0)))
    g.connect(Edge(image.id, "out", conv.id, "in"))
    g.connect(Edge(x.id, "out", relu.id, "in"))
    g.connect(Edge(fc.id, "out", out.id, "in"))
    project = Project(g)
    problem = next(p for p in all_problems(project) if p.code == "unconnected" and p.node == fc.id)
    [fix] = fixes(project, problem)
    assert fix.label == "Wire ReLU 'relu' into Linear 'fc'"
    old_nodes, old_edges = nodes_of(project), set(g.edges)
    fix.edit.apply(g)
    assert set(g.edges) == old_edges | {Edge(relu.id, "out", fc.id, "in")} and nodes_of(project) == old_nodes
    assert not [p for p in infer_shapes(g).problems if p.node == fc.id]
    fix.edit.revert(g)
    assert set(g.edges) == old_edges


def test_an_input_left_empty_by_a_deletion_is_wired_from_the_end_left_dangling() -> None:
    # Seen in the app: pool2 deleted from the digits CNN, and the fix offered was "Wire Conv2d 'conv1' into
    # Conv2d 'conv3'" (nearer on the canvas, but already wired on) instead of relu2, which the deletion cut.
    from netbuilder.examples import example_path
    from netbuilder.files.project import load_project
    from netbuilder.model.edits import RemoveNode

    project = load_project(example_path("mnist_cnn"))
    g = project.graph
    RemoveNode(g.by_name("pool2").id).apply(g)
    conv3 = g.by_name("conv3")
    problem = next(p for p in all_problems(project) if p.code == "unconnected" and p.node == conv3.id)
    [fix] = fixes(project, problem)
    assert fix.label == "Wire ReLU 'relu2' into Conv2d 'conv3'"


def test_an_empty_output_is_wired_from_the_nearest_layer() -> None:
    project = chain(("Linear", "fc", {"out_features": 3}), output=False)
    g = project.graph
    out = g.add_node(g.make_node("Output", "y", position=(600, 0)))
    [fix] = fixes(project, the_problem(project, "unconnected"))
    assert fix.label == "Wire Linear 'fc' into Output 'y'"
    check_fix(project, fix, "unconnected")
    assert out.id in g.nodes


@pytest.mark.parametrize("broken", ["conv_on_vectors", "no_input", "bad_reshape"])
def test_a_problem_with_no_fix_offers_none(broken: str) -> None:
    if broken == "conv_on_vectors":  # a Conv2d given [N, 4]: no Flatten or merge makes that an image
        project = chain(("Conv2d", "conv", {"out_channels": 2, "kernel_size": 3}))
    elif broken == "no_input":
        g = Graph()
        g.add_node(g.make_node("Output", "y"))
        project = Project(g)
    else:  # a Reshape whose sizes do not hold the values: only the user knows the shape meant
        project = chain(("Reshape", "r", {"shape": [3]}))
    found = [p for p in all_problems(project) if p.severity == "error" and p.code != "unconnected"]
    assert found
    for problem in found:
        assert quick_fixes(problem, project, ShapeInference(project.graph)) == []


def test_a_problem_about_a_node_that_is_gone_offers_nothing() -> None:
    project = chain(("Linear", "fc", {"out_features": 3}), ("Softmax", "act", {}))
    project.training["loss"] = "cross_entropy"
    problem = the_problem(project, "lint-double-activation")
    fixes(project, problem)[0].edit.apply(project.graph)
    assert quick_fixes(problem, project, ShapeInference(project.graph)) == []


def test_a_missing_output_goes_after_the_end_whose_shape_fits_the_classes_not_a_side_branch() -> None:
    # Seen on Xvfb: a ReLU added on the side of the digits CNN, then the Output deleted: the fix offered the
    # Output after the side ReLU ([N, 64]), and applying it made a new error (10 classes).
    project = chain(("Flatten", "flat", {}), ("Linear", "fc1", {"out_features": 64}), ("ReLU", "relu", {}),
                    ("Linear", "fc2", {"out_features": 10}), input_shape=[1, 8, 8], output=False)
    g = project.graph
    side = g.add_node(g.make_node("ReLU", "side", {}, (1200, 300)))
    g.connect(Edge(g.by_name("relu").id, "out", side.id, "in"))
    project.training["loss"] = "cross_entropy"
    data = digits()
    [fix] = fixes(project, the_problem(project, "no-output"), data)
    assert fix.label == "Add an Output after Linear 'fc2'"
    check_fix(project, fix, "no-output", data)
    # Without the data, the end furthest from the input: a branch off the chain's middle is nearer.
    g.disconnect(next(e for e in g.in_edges(side.id).values()))
    g.connect(Edge(g.by_name("fc1").id, "out", side.id, "in"))
    [fix] = fixes(project, the_problem(project, "no-output"))
    assert fix.label == "Add an Output after Linear 'fc2'"
