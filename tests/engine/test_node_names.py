"""Node names become attributes of the compiled module: every name torch already uses is refused
when naming, in files and in ONNX imports, and a module that still fails to build names the node."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.fx as fx
import torch.nn as nn
from onnx import TensorProto, helper, numpy_helper

from netbuilder import CompileError, Edge, Graph, build_module, load_project
from netbuilder.cli import main
from netbuilder.errors import EditRefused, ProjectError
from netbuilder.examples import example_path
from netbuilder.model.graph import CODE_NAMES, MODULE_ATTRIBUTES, name_problem
from netbuilder.onnx.importer import import_onnx

CLASHES = ["training", "graph", "code", "meta", "_modules", "recompile", "forward", "_private"]


def torch_attribute_names() -> set[str]:
    """Every attribute of nn.Module and fx.GraphModule, on the classes and on instances
    (``training``, ``graph``, ``code`` and ``meta`` exist only on instances)."""
    instances = (nn.Module(), fx.GraphModule(nn.Module(), fx.Graph()))
    return {name for thing in (nn.Module, fx.GraphModule, *instances) for name in dir(thing)}


def test_reserved_names_cover_every_attribute_of_the_installed_torch() -> None:
    public = {n for n in torch_attribute_names() if not n.startswith("_")}
    missing = public - MODULE_ATTRIBUTES
    assert not missing, f"add these to MODULE_ATTRIBUTES in netbuilder/model/graph.py: {sorted(missing)}"
    # The rest start with _, which name_problem refuses as a whole.
    assert all(name_problem(n) for n in torch_attribute_names())


def _linear_graph() -> tuple[Graph, str]:
    g = Graph()
    x = g.add_node(g.make_node("Input", "x", {"shape": [4]}))
    fc = g.add_node(g.make_node("Linear", "fc", {"out_features": 2}))
    out = g.add_node(g.make_node("Output", "y"))
    g.connect(Edge(x.id, "out", fc.id, "in"))
    g.connect(Edge(fc.id, "out", out.id, "in"))
    return g, fc.id


@pytest.mark.parametrize("name", CLASHES)
def test_names_torch_uses_are_refused_with_what_they_clash_with(name: str) -> None:
    g, fc = _linear_graph()
    with pytest.raises(EditRefused, match=rf"name '{name}' (clashes with the attribute '{name}'|starts with _)"):
        g.rename(fc, name)
    with pytest.raises(EditRefused, match=f"name '{name}'"):
        g.add_node(g.make_node("ReLU", name))
    assert g.node(fc).name == "fc"
    assert "choose" in g.rename_problem(fc, name)


def test_every_name_the_graph_makes_up_is_valid() -> None:
    g = Graph()
    for base in ["training", "_modules", "__init__", "_", "graph", "self", "code1"]:
        name = g.unique_name(base)
        assert name_problem(name) is None, name
        g.add_node(g.make_node("ReLU", name))
    assert [n.name for n in g] == ["training1", "modules1", "init__1", "layer1", "graph1", "self1", "code1"]


@pytest.mark.parametrize("name", ["training", "_modules", "recompile"])
def test_a_project_file_holding_such_a_name_is_refused_on_load_naming_it_and_the_fix(
        name: str, tmp_path: Path, capsys) -> None:
    doc = json.loads(Path(example_path("mnist_cnn")).read_text(encoding="utf-8"))
    index = next(k for k, n in enumerate(doc["graph"]["nodes"]) if n["kind"] == "Linear")
    doc["graph"]["nodes"][index]["name"] = name
    path = tmp_path / "old.nbproj"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ProjectError) as err:
        load_project(path)
    assert err.value.path == f"$.graph.nodes[{index}].name"
    assert f"name '{name}'" in err.value.message and "choose" in err.value.message
    assert main(["check", str(path)]) == 1
    assert f"name '{name}'" in capsys.readouterr().err


def test_onnx_import_turns_such_names_into_safe_ones(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    names = ["training", "/graph/Gemm", "_modules", "code", "meta"]
    nodes, inits, prev = [], [], "x"
    for k, raw in enumerate(names):
        w, b = f"w{k}", f"b{k}"
        inits += [numpy_helper.from_array(rng.standard_normal((4, 4)).astype(np.float32), w),
                  numpy_helper.from_array(np.zeros(4, np.float32), b)]
        nodes.append(helper.make_node("Gemm", [prev, w, b], [f"h{k}"], name=raw, transB=1))
        prev = f"h{k}"
    nodes.append(helper.make_node("Identity", [prev], ["self"]))
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
                              [helper.make_tensor_value_info("self", TensorProto.FLOAT, ["N", 4])], inits)
    path = tmp_path / "m.onnx"
    path.write_bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                                       ir_version=8).SerializeToString())
    project, weights = import_onnx(path)
    got = [n.name for n in project.graph]
    assert all(name_problem(n) is None for n in got), got
    assert not set(got) & (MODULE_ATTRIBUTES | CODE_NAMES)
    module = build_module(project.graph)
    module.load_state_dict(weights)
    assert module(torch.randn(3, 4)).shape == (3, 4)


def test_a_module_that_fails_to_build_names_the_node() -> None:
    # A name that slipped past the checks (set behind the Graph's back, as a future torch
    # attribute would): torch's bare KeyError becomes a CompileError about the node.
    g, fc = _linear_graph()
    g.node(fc).name = "training"
    with pytest.raises(CompileError, match=r"Linear 'training' could not be built as a torch module "
                                           r"\(KeyError: .*attribute 'training' already exists"):
        build_module(g)
    g.node(fc).name = "code"  # accepted by add_module, then shadowed by GraphModule.code
    with pytest.raises(CompileError, match=r"Linear 'code': the name clashes with an attribute of torch's "
                                           r"GraphModule; rename the node"):
        build_module(g)


def test_a_new_layer_takes_the_lowest_free_number_after_removals_and_renames() -> None:
    """unique_name starts where its last search ended (an import of 5,000 ReLUs searched from 1 each time),
    yet a number freed by a removal or a rename is found again."""
    from netbuilder.model.graph import Graph

    g = Graph()
    ids = [g.add_node(g.make_node("ReLU")).id for _ in range(6)]
    assert [g.node(i).name for i in ids] == [f"relu{k}" for k in range(1, 7)]
    g.remove_node(ids[1])  # relu2 is free again
    assert g.add_node(g.make_node("ReLU")).name == "relu2"
    g.rename(ids[3], "middle")  # relu4 too
    assert g.add_node(g.make_node("ReLU")).name == "relu4"
    assert g.add_node(g.make_node("ReLU")).name == "relu7"
