"""A top-5 accuracy over 5 classes or fewer always reads 1.0: `netbuilder check` refuses it before any run,
with the app's Problems list's words (both ask netbuilder.data.project_check), not only when a run starts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from netbuilder import load_project
from netbuilder.examples import example_path


def softmax_with_top5(tmp_path: Path) -> Path:
    project = load_project(example_path("softmax_regression"))  # the teaching text's two classes
    project.training["metrics"] = ["loss", "accuracy", "top5"]
    return project.save(tmp_path / "top5.nbproj")


def test_check_refuses_top5_on_two_classes_and_says_what_to_do(tmp_path: Path) -> None:
    path = softmax_with_top5(tmp_path)
    out = subprocess.run([sys.executable, "-m", "netbuilder", "check", str(path)], capture_output=True, text=True)
    assert out.returncode == 1, out.stdout + out.stderr
    text = out.stdout + out.stderr
    assert "top5" in text and "2 classes" in text and "remove top5 from metrics" in text, text


def test_check_passes_the_same_project_without_top5(tmp_path: Path) -> None:
    path = softmax_with_top5(tmp_path)
    project = load_project(path)
    project.training["metrics"] = ["loss", "accuracy"]
    project.save(path)
    out = subprocess.run([sys.executable, "-m", "netbuilder", "check", str(path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_a_graph_with_two_outputs_is_told_which_and_what_to_do() -> None:
    # Seen in the app: "training needs exactly one Input and one Output; this graph has 1 and 2".
    from netbuilder import load_project
    from netbuilder.analysis.shape_inference import infer_shapes
    from netbuilder.data.digits import digits
    from netbuilder.data.fit import data_problems
    from netbuilder.examples import example_path

    graph = load_project(example_path("mnist_cnn")).graph
    graph.add_node(graph.make_node("Output", "extra"))
    [problem] = data_problems(digits(), graph, infer_shapes(graph), "cross_entropy")
    assert problem.message == ("training needs exactly one Input and one Output; this graph has 1 Input and "
                               "2 Outputs ('logits', 'extra'): delete the extra Output")
