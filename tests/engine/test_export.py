"""Export: ONNX verified with ONNX Runtime, safetensors weights, and readable PyTorch code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from hypothesis import HealthCheck, given, settings

import netbuilder.onnx.exporter as onnx_export
from netbuilder import Project, build_module, load_project
from netbuilder.build.codegen import generate_source
from netbuilder.cli import main
from netbuilder.examples import EXAMPLE_NAMES, example_path
from netbuilder.files.weights import WeightsError, load_into, save_weights
from netbuilder.onnx.exporter import ExportError, export_onnx, sample_inputs
from tests.engine.strategies import graphs
from tests.engine.test_shape_inference import CASES, single

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_each_example_exports_verified_with_a_dynamic_batch(name: str, tmp_path) -> None:
    project = load_project(example_path(name))
    report = export_onnx(project, tmp_path / "m.onnx")
    assert report.exporter == "torchscript" and set(report.max_abs_error) == {2, 5}
    assert max(report.max_abs_error.values()) < 1e-5
    model = onnx.load(str(tmp_path / "m.onnx"))
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["project"] == project.name and len(meta["graph_hash"]) == 16 and meta["netbuilder_version"]
    inputs = [n.name for n in project.graph if n.kind == "Input"]
    assert [i.name for i in model.graph.input] == inputs
    assert [o.name for o in model.graph.output] == [n.name for n in project.graph if n.kind == "Output"]
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    x = sample_inputs(project.graph, 7)[0].numpy()
    assert session.run(None, {inputs[0]: x})[0].shape[0] == 7


@pytest.mark.parametrize(("kind", "shape", "params", "expected"), CASES,
                         ids=[f"{c[0]}-{k}" for k, c in enumerate(CASES)])
def test_every_layer_kind_exports_and_matches(kind, shape, params, expected, tmp_path) -> None:
    graph, _, _ = single(kind, shape, **params)
    report = export_onnx(Project(graph), tmp_path / "m.onnx")
    assert max(report.max_abs_error.values()) <= 1e-4


def test_trained_weights_and_static_batch(tmp_path) -> None:
    project = load_project(example_path("softmax_regression"))
    module = build_module(project.graph)
    with torch.no_grad():
        module.scores.weight.fill_(0.25)
    save_weights(module, tmp_path / "w.safetensors")
    export_onnx(project, tmp_path / "m.onnx", weights=tmp_path / "w.safetensors", static_batch=True)
    model = onnx.load(str(tmp_path / "m.onnx"))
    weight = next(i for i in model.graph.initializer if i.name == "scores.weight")
    assert np.all(onnx.numpy_helper.to_array(weight) == 0.25)
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 2


def test_layer_that_cannot_be_exported_is_named_and_nothing_is_written(tmp_path, monkeypatch) -> None:
    class Eigen(torch.nn.Module):
        def forward(self, x):
            return torch.linalg.eigh(x.unsqueeze(-1) @ x.unsqueeze(-2))[0]

    real = onnx_export.build_module

    def with_eigen(graph, inference=None):
        module = real(graph, inference)
        module.act = Eigen()
        return module

    monkeypatch.setattr(onnx_export, "build_module", with_eigen)
    graph, _, _ = single("ReLU", [3])
    graph.rename(graph.by_name("layer").id, "act")
    with pytest.raises(ExportError, match=r"ReLU 'act' cannot be exported to ONNX opset 17"):
        export_onnx(Project(graph), tmp_path / "m.onnx")
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_computes_something_else_fails_with_the_numbers(tmp_path, monkeypatch) -> None:
    real = onnx_export._stamp

    def corrupt(path, *args) -> None:
        real(path, *args)
        model = onnx.load(str(path))
        for init in model.graph.initializer:
            if init.name.endswith("weight"):
                init.CopyFrom(onnx.numpy_helper.from_array(onnx.numpy_helper.to_array(init) + 1.0, init.name))
        onnx.save(model, str(path))

    monkeypatch.setattr(onnx_export, "_stamp", corrupt)
    (tmp_path / "m.onnx").write_bytes(b"the previous export")
    with pytest.raises(ExportError, match=r"differs from torch on output 'y' at batch 2: max abs error .*tolerance"):
        export_onnx(Project(single("Linear", [4], out_features=3)[0]), tmp_path / "m.onnx")
    assert (tmp_path / "m.onnx").read_bytes() == b"the previous export"
    assert [p.name for p in tmp_path.iterdir()] == ["m.onnx"]


def test_graph_with_problems_is_refused(tmp_path) -> None:
    with pytest.raises(ExportError, match="Linear 'layer' needs"):
        export_onnx(Project(single("Linear", [3, 4, 5])[0]), tmp_path / "m.onnx")


def _run_source(source: str, tmp_path: Path, name: str = "generated"):
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    namespace: dict = {}
    exec(compile(source, str(path), "exec"), namespace)
    return namespace["Net"]()


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_generated_code_matches_the_app_module_and_passes_ruff(name: str, tmp_path) -> None:
    project = load_project(example_path(name))
    source = generate_source(project, f"{name}.nbproj")
    assert "netbuilder" not in "\n".join(line for line in source.splitlines() if "import" in line)
    net = _run_source(source, tmp_path)
    app = build_module(project.graph).eval()
    net.load_state_dict(app.state_dict())
    net.eval()
    args = sample_inputs(project.graph, 4)
    torch.testing.assert_close(net(*args), app(*args), rtol=0, atol=0)
    ruff = Path(sys.executable).with_name("ruff")
    result = subprocess.run([str(ruff), "check", "--no-cache", "--isolated", str(tmp_path / "generated.py")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs)
def test_generated_code_of_random_graphs_computes_the_same(built) -> None:
    graph, inference = built
    app = build_module(graph, inference).eval()
    namespace: dict = {}
    exec(generate_source(Project(graph)), namespace)
    net = namespace["Net"]().eval()
    net.load_state_dict(app.state_dict())
    args = [a if a.dtype == torch.float32 else torch.zeros_like(a) for a in sample_inputs(graph, 3)]
    # equal_nan: a Divide of a wire by itself where it is 0 (x - x before it) is NaN in both
    torch.testing.assert_close(net(*args), app(*args), rtol=0, atol=0, equal_nan=True)


def test_weights_round_trip_and_mismatches(tmp_path) -> None:
    project = load_project(example_path("mnist_cnn"))
    module = build_module(project.graph)
    save_weights(module, tmp_path / "w.safetensors", {"project": project.name})
    fresh = build_module(project.graph)
    assert load_into(fresh, tmp_path / "w.safetensors")["project"] == project.name
    torch.testing.assert_close(fresh.fc2.weight, module.fc2.weight)
    project.graph.set_params(project.graph.by_name("fc1").id, {"out_features": 32})
    with pytest.raises(WeightsError, match=r"'fc1.weight' has shape \[64, 576\] in the file but \[32, 576\]"):
        load_into(build_module(project.graph), tmp_path / "w.safetensors")


def test_cli_export_codegen(tmp_path, capsys) -> None:
    assert main(["export", "mnist_cnn", "-o", str(tmp_path / "m.onnx")]) == 0
    assert "ONNX Runtime matches torch" in capsys.readouterr().out
    assert main(["export", "mnist_cnn", "--format", "safetensors", "-o", str(tmp_path / "w.safetensors")]) == 0
    assert main(["codegen", "lstm_sequence", "-o", str(tmp_path / "m.py")]) == 0
    assert "class Net(nn.Module)" in (tmp_path / "m.py").read_text()
    assert main(["export", "mnist_cnn", "-o", str(tmp_path / "x.onnx"), "--weights", str(tmp_path / "nope")]) == 1
    assert "no such file" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["linear_regression", "softmax_regression", "lstm_sequence"])
def test_codegen_with_training_runs_standalone_and_learns(name: str, tmp_path) -> None:
    assert main(["codegen", name, "--with-training", "-o", str(tmp_path / "model.py")]) == 0
    assert (tmp_path / "model_data.npz").exists()
    imports = [line for line in (tmp_path / "model.py").read_text().splitlines() if line.startswith(("import", "from"))]
    assert imports == ["import argparse", "from pathlib import Path", "import numpy as np", "import torch",
                       "from torch import nn"]
    ruff = Path(sys.executable).with_name("ruff")
    assert subprocess.run([str(ruff), "check", "--no-cache", "--isolated", str(tmp_path)]).returncode == 0
    # Run isolated (-I) from another folder: it needs only torch and numpy (its imports are checked above).
    result = subprocess.run([sys.executable, "-I", str(tmp_path / "model.py"), "--epochs", "60"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    losses = [float(line.split("train loss ")[1].split(",")[0]) for line in result.stdout.splitlines()]
    assert len(losses) == 60 and losses[-1] < losses[0]


def test_codegen_with_training_needs_an_output_file(capsys) -> None:
    assert main(["codegen", "linear_regression", "--with-training"]) == 2
    assert "needs -o FILE.py" in capsys.readouterr().err


def test_cli_import_writes_an_editable_project_and_its_weights(tmp_path, capsys) -> None:
    assert main(["export", "mnist_cnn", "-o", str(tmp_path / "cnn.onnx")]) == 0
    assert main(["import", str(tmp_path / "cnn.onnx"), "-o", str(tmp_path / "cnn.nbproj")]) == 0
    assert "wrote" in capsys.readouterr().out
    project = load_project(tmp_path / "cnn.nbproj")
    module = build_module(project.graph).eval()
    load_into(module, tmp_path / "cnn.safetensors")
    session = ort.InferenceSession(str(tmp_path / "cnn.onnx"), providers=["CPUExecutionProvider"])
    x = torch.randn(3, 1, 28, 28)
    torch.testing.assert_close(module(x), torch.from_numpy(session.run(None, {"image": x.numpy()})[0]),
                               rtol=1e-4, atol=1e-5)
    assert main(["import", str(tmp_path / "missing.onnx"), "-o", str(tmp_path / "x.nbproj")]) == 1
    assert not (tmp_path / "x.nbproj").exists()


def test_export_from_a_training_run_records_the_run(tmp_path) -> None:
    from netbuilder.training.run import train_project

    project = load_project(example_path("linear_regression"))
    project.save(tmp_path / "line.nbproj")
    _, run_dir = train_project(project, {"epochs": 2})
    export_onnx(project, tmp_path / "m.onnx", weights=run_dir / "best.safetensors")
    meta = {p.key: p.value for p in onnx.load(str(tmp_path / "m.onnx")).metadata_props}
    assert meta["run_id"] == "1" and meta["weights"] == "best.safetensors"


def test_an_input_that_reaches_no_output_is_kept_in_the_onnx_file(tmp_path) -> None:
    project = load_project(example_path("softmax_regression"))
    g = project.graph
    g.add_node(g.make_node("Input", "unused", {"shape": [3]}))  # a warning in the app, not an error
    report = export_onnx(project, tmp_path / "m.onnx")
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    assert [(i.name, i.shape) for i in session.get_inputs()][1] == ("unused", ["N", 3])
    x, unused = sample_inputs(g, 4)
    got = session.run(None, {"x": x.numpy(), "unused": unused.numpy()})[0]
    assert got.shape[0] == 4
    assert (session.run(None, {"x": x.numpy(), "unused": 0 * unused.numpy()})[0] == got).all()
    assert set(report.max_abs_error) == {2, 5}  # checked against torch, fed every input
    export_onnx(project, tmp_path / "static.onnx", static_batch=True)
    static = onnx.load(str(tmp_path / "static.onnx"))
    assert [d.dim_value for d in static.graph.input[1].type.tensor_type.shape.dim] == [2, 3]


def test_onnx_export_uses_the_weights_beside_the_project_and_says_so(tmp_path) -> None:
    project = load_project(example_path("softmax_regression"))
    project.save(tmp_path / "p.nbproj")
    module = build_module(project.graph)
    with torch.no_grad():
        module.scores.weight.fill_(0.5)
    save_weights(module, tmp_path / "p.safetensors")
    report = export_onnx(project, tmp_path / "m.onnx")
    assert report.weights.file == tmp_path / "p.safetensors" and report.weights.fresh == ()
    assert {p.key: p.value for p in onnx.load(str(tmp_path / "m.onnx")).metadata_props}["weights"] == "p.safetensors"
    weight = next(t for t in onnx.load(str(tmp_path / "m.onnx")).graph.initializer if t.name.endswith("weight"))
    assert (onnx.numpy_helper.to_array(weight) == 0.5).all()
    fresh = export_onnx(project, tmp_path / "fresh.onnx", fresh_weights=True)
    assert fresh.weights.file is None and fresh.weights.describe() == "freshly initialised weights (as asked)"
    weight = next(t for t in onnx.load(str(tmp_path / "fresh.onnx")).graph.initializer if t.name.endswith("weight"))
    assert not (onnx.numpy_helper.to_array(weight) == 0.5).all()
