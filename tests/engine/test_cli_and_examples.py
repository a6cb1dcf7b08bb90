"""The headless command line and the built-in examples, as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from netbuilder import build_module, infer_shapes, load_project
from netbuilder.analysis.lint import lint_project
from netbuilder.cli import main
from netbuilder.examples import EXAMPLE_NAMES, example_path

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_each_example_loads_checks_clean_and_compiles(name: str) -> None:
    project = load_project(example_path(name))
    inference = infer_shapes(project.graph)
    assert inference.problems == []
    assert lint_project(project) == []
    assert project.description and project.data["dataset"]
    build_module(project.graph, inference)


def test_lstm_example_feeds_the_recurrent_layer_three_dimensions() -> None:
    project = load_project(example_path("lstm_sequence"))
    lstm = project.graph.by_name("lstm")
    assert infer_shapes(project.graph).info(lstm.id).inputs["in"].shape == (2, 1)


def test_check_clean_example(capsys) -> None:
    assert main(["check", "mnist_cnn"]) == 0
    assert "OK, 14 nodes, no errors" in capsys.readouterr().out


def test_check_lists_problems_with_node_names_and_exits_1(tmp_path, capsys) -> None:
    project = load_project(example_path("mnist_cnn"))
    g = project.graph
    flatten = g.by_name("flatten")
    for e in [*g.in_edges(flatten.id).values(), *g.out_edges(flatten.id)]:
        g.disconnect(e)
    g.remove_node(flatten.id)
    from netbuilder import Edge

    g.connect(Edge(g.by_name("relu3").id, "out", g.by_name("fc1").id, "in"))
    path = project.save(tmp_path / "broken.nbproj")
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "error: Linear 'fc1' needs [N, F]" in out and "got [N, 64, 3, 3]: insert Flatten" in out
    assert main(["check", "--json", str(path)]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is False
    assert doc["problems"][0]["node"] == "fc1" and doc["problems"][0]["code"] == "shape"


def test_check_reports_the_seed_softmax_mistake(tmp_path, capsys) -> None:
    project = load_project(example_path("softmax_regression"))
    g = project.graph
    scores, logits = g.by_name("scores"), g.by_name("logits")
    g.disconnect(g.in_edges(logits.id)["in"])
    from netbuilder import Edge

    sm = g.add_node(g.make_node("Softmax", "probs"))
    g.connect(Edge(scores.id, "out", sm.id, "in"))
    g.connect(Edge(sm.id, "out", logits.id, "in"))
    assert main(["check", str(project.save(tmp_path / "p.nbproj"))]) == 1
    assert "Softmax 'probs' feeds Output 'logits', but the cross_entropy loss applies softmax" in (
        capsys.readouterr().out)


def test_summary_table_and_json(capsys) -> None:
    assert main(["summary", "mnist_cnn"]) == 0
    out = capsys.readouterr().out
    assert "fc1" in out and "[N, 576]" in out and "Total parameters: 93,322" in out
    assert main(["summary", "--json", "mnist_cnn"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["total_params"] == 93322
    fc1 = next(r for r in doc["nodes"] if r["name"] == "fc1")
    assert fc1["output"] == "[N, 64]" and fc1["params"] == 576 * 64 + 64 and fc1["macs"] == 576 * 64


def test_bad_file_exits_1_with_the_reason(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.nbproj"
    bad.write_text('{"format": "netbuilder-project", "version": 1, "graph": {"nodes": [')
    assert main(["check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "bad.nbproj" in err and "not valid JSON" in err and "cut short" in err
    assert main(["check", str(tmp_path / "missing.nbproj")]) == 1
    assert "no such file" in capsys.readouterr().err


def test_usage_errors_exit_2() -> None:
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main(["check"])
    assert info.value.code == 2


def test_python_m_netbuilder_never_imports_qt() -> None:
    code = ("import sys, runpy; sys.argv = ['netbuilder', 'check', 'lstm_sequence']\n"
            "try:\n    runpy.run_module('netbuilder', run_name='__main__')\n"
            "except SystemExit as e:\n    code = e.code\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph', 'ui')]\n"
            "print(code, bad)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.splitlines() == ["lstm_sequence: OK, 4 nodes, no errors", "0 []"], result.stderr


def test_netbuilder_script_hands_subcommands_to_the_cli() -> None:
    script = Path(sys.executable).with_name("netbuilder")
    result = subprocess.run([str(script), "summary", "linear_regression"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "Total parameters: 2" in result.stdout
