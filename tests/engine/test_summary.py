"""The summary counts what is compiled: a layer that reaches no Output is shown, marked dead,
and left out of the totals, so they equal the compiled module's parameters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netbuilder import Edge, build_module, load_project, summarize
from netbuilder.cli import main
from netbuilder.examples import example_path
from tests.engine.strategies import grow_graph


def _cnn_with_a_dangling_linear():
    project = load_project(example_path("mnist_cnn"))
    g = project.graph
    flatten = next(n for n in g if n.kind == "Flatten")
    dangling = g.add_node(g.make_node("Linear", "dangling", {"out_features": 1000}))
    g.connect(Edge(flatten.id, "out", dangling.id, "in"))
    return project, dangling


def _module_params(graph) -> int:
    return sum(p.numel() for p in build_module(graph).parameters())


def test_a_layer_reaching_no_output_is_marked_dead_and_left_out_of_the_totals() -> None:
    project, dangling = _cnn_with_a_dangling_linear()
    summary = summarize(project.graph)
    assert summary.total_params == _module_params(project.graph) == 93_322
    assert summary.trainable_params == 93_322
    assert [r.name for r in summary.dead_rows] == ["dangling"]
    assert summary.dead_params == 576 * 1000 + 1000
    row = next(r for r in summary.rows if r.node_id == dangling.id)
    assert not row.compiled and row.params == 577_000
    assert summary.total_macs == sum(r.macs for r in summary.rows) - row.macs


def test_summary_command_marks_dead_rows_in_the_table_and_the_json(tmp_path, capsys) -> None:
    # The example's own file plus one node and wire, so the file is exactly what users have.
    doc = json.loads(Path(example_path("mnist_cnn")).read_text(encoding="utf-8"))
    flatten = next(n["id"] for n in doc["graph"]["nodes"] if n["kind"] == "Flatten")
    doc["graph"]["nodes"].append({"id": "dead1", "kind": "Linear", "name": "dangling",
                                  "params": {"out_features": 1000}})
    doc["graph"]["edges"].append({"src": flatten, "src_port": "out", "dst": "dead1", "dst_port": "in"})
    path = tmp_path / "dangling.nbproj"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert main(["summary", str(path)]) == 0  # a dead end is a warning, not an error
    out = capsys.readouterr().out
    dead_line = next(line for line in out.splitlines() if line.startswith("dangling"))
    assert dead_line.endswith("dead: not counted")
    assert "Total parameters: 93,322 (trainable 93,322)" in out
    assert "Not counted: 577,000 parameters in 1 layer(s) that reach no Output" in out
    assert main(["summary", "--json", str(path)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["total_params"], doc["dead_params"]) == (93_322, 577_000)
    assert [n["name"] for n in doc["nodes"] if not n["compiled"]] == ["dangling"]


def test_a_graph_without_dead_ends_prints_no_dead_column(capsys) -> None:
    assert main(["summary", "mnist_cnn"]) == 0
    out = capsys.readouterr().out
    assert "dead" not in out and "Not counted" not in out


@pytest.mark.parametrize("seed", range(12))
def test_totals_equal_the_compiled_module_on_random_graphs(seed: int) -> None:
    # The strategy gives Outputs to at most three leaves, so larger graphs hold dead branches.
    graph, inference = grow_graph(seed, 30)
    summary = summarize(graph, inference)
    assert summary.total_params == _module_params(graph)
