"""torch's own exported modules (onnx's ``pytorch-converted`` test data, issue 12): each imports,
exports again and reproduces torch's stored output in ONNX Runtime; and the layer kinds they
needed: 3-D convolution, pooling and batch norm, Split with an output port per part, Math,
Subtract, Divide, Softmin, Softsign, GLU, PixelShuffle, PReLU per channel, dilated MaxPool."""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import helper
from torch import nn

from netbuilder import Project, build_module, infer_shapes, load_project
from netbuilder.analysis.summary import summarize
from netbuilder.build.codegen import generate_source
from netbuilder.errors import EditRefused
from netbuilder.model.graph import Edge, Graph
from netbuilder.onnx.exporter import export_onnx
from netbuilder.onnx.importer import OnnxImportError, import_onnx, import_onnx_project
from tests.engine.test_onnx_import import _model, _save, _vi, _w

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(onnx.__file__).parent / "backend" / "test" / "data" / "pytorch-converted"
NAMES = sorted(d.name.removeprefix("test_") for d in CORPUS.iterdir())
REACHED = 81  # of 82
# Expected to fail, by name; strict, so one that starts passing fails here until it is taken off.
EXPECTED_TO_FAIL = {
    "PoissonNLLLLoss_no_reduce": "the loss's target is a constant [10, 10] that differs along the fixed batch of "
                                 "10: no per-sample layer computes it (refused by name, see the test below)",
}


def _corpus():
    """benchmarks/onnx_corpus.py, the round trip the issue counts with."""
    spec = importlib.util.spec_from_file_location("onnx_corpus", ROOT / "benchmarks" / "onnx_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def corpus_results(tmp_path_factory) -> dict[str, str | None]:
    """Each model's round trip: None when it reproduces torch's output, else why not."""
    corpus = _corpus()
    work = tmp_path_factory.mktemp("corpus")
    return {name: corpus.check(name, path, ins, outs, work) for name, path, ins, outs in corpus.cases("torch", work)}


def test_the_corpus_is_the_82_modules(corpus_results) -> None:
    assert len(corpus_results) == 82
    assert set(EXPECTED_TO_FAIL) <= set(corpus_results)


def test_at_least_77_of_82_reproduce_torch(corpus_results) -> None:
    failing = {k: v for k, v in corpus_results.items() if v is not None}
    assert len(corpus_results) - len(failing) >= REACHED, failing
    assert set(failing) <= set(EXPECTED_TO_FAIL), {k: v for k, v in failing.items() if k not in EXPECTED_TO_FAIL}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=EXPECTED_TO_FAIL[n]))
                                  if n in EXPECTED_TO_FAIL else n for n in NAMES])
def test_torch_module_round_trip(name: str, corpus_results) -> None:
    assert corpus_results[name] is None, corpus_results[name]


def test_poisson_loss_is_refused_naming_the_node_the_constant_and_the_fix() -> None:
    with pytest.raises(OnnxImportError) as info:
        import_onnx(CORPUS / "test_PoissonNLLLLoss_no_reduce" / "model.onnx")
    message = str(info.value)
    assert "Mul node '3'" in message and "shape [10, 10]" in message and "along the batch dimension" in message
    assert "make the constant a single number" in message


@pytest.mark.parametrize(("name", "kinds"), [
    ("GLU", ["Input", "GLU", "Output"]), ("Softmin", ["Input", "Softmin", "Output"]),
    ("Softsign", ["Input", "Softsign", "Output"]), ("PixelShuffle", ["Input", "PixelShuffle", "Output"]),
    ("Conv3d_groups", ["Input", "Conv3d", "Output"]), ("BatchNorm3d_eval", ["Input", "BatchNorm3d", "Output"]),
    ("AvgPool3d_stride", ["Input", "AvgPool3d", "Output"]),
    ("MaxPool3d_stride_padding", ["Input", "MaxPool3d", "Output"]),
    ("Linear_no_bias", ["Input", "Linear", "Output"]), ("PReLU_2d_multiparam", ["Input", "PReLU", "Output"]),
])
def test_the_exporters_patterns_read_as_the_torch_layer(name: str, kinds: list[str]) -> None:
    project, _ = import_onnx(CORPUS / f"test_{name}" / "model.onnx")
    assert [n.kind for n in project.graph] == kinds


# ---- round trips of modules torch exports here --------------------------------------------
class Chunks(nn.Module):
    def forward(self, x):
        a, b, c = x.chunk(3, dim=1)
        return a * b - c / (1.0 + b.abs())


class Arithmetic(nn.Module):
    def forward(self, x):
        return (x.exp() * 2.0 + 1.0).sqrt() - 3.0 / (x.abs() + 1.0) + x.pow(2.0) - (0.5 - x)


def _prelu(channels: int) -> nn.Module:
    m = nn.PReLU(channels)
    with torch.no_grad():
        m.weight.copy_(torch.linspace(0.05, 0.9, channels))
    return m


def _bn3d() -> nn.Module:
    m = nn.BatchNorm3d(6).eval()
    with torch.no_grad():
        m.running_mean.uniform_(-1, 1)
        m.running_var.uniform_(0.5, 2)
        m.weight.uniform_(0.5, 1.5)
        m.bias.uniform_(-1, 1)
    return m


MODULES = [
    # BatchNorm first: after a convolution torch's exporter folds it into the convolution's weights
    ("bn3d_conv3d_pools", lambda: nn.Sequential(_bn3d(), nn.Conv3d(6, 4, 3, stride=(1, 2, 1), padding=1, groups=2),
                                                nn.MaxPool3d(2, dilation=1), nn.AvgPool3d((1, 2, 2)),
                                                nn.AdaptiveAvgPool3d(1)),
     [6, 6, 8, 8], ["BatchNorm3d", "Conv3d", "MaxPool3d", "AvgPool3d", "AdaptiveAvgPool3d"]),
    ("glu", lambda: nn.GLU(dim=1), [6, 5], ["GLU"]),
    ("softmin", lambda: nn.Softmin(dim=-1), [3, 7], ["Softmin"]),
    ("softsign", lambda: nn.Softsign(), [3, 7], ["Softsign"]),
    ("pixel_shuffle", lambda: nn.PixelShuffle(2), [8, 3, 3], ["PixelShuffle"]),
    ("prelu_per_channel", lambda: _prelu(3), [3, 4, 5], ["PReLU"]),
    ("maxpool_dilated", lambda: nn.MaxPool2d(3, stride=2, padding=1, dilation=2), [2, 11, 11], ["MaxPool2d"]),
    ("chunks", Chunks, [6, 4], ["Split", "Multiply", "Math", "Math", "Divide", "Subtract"]),
    ("arithmetic", Arithmetic, [5], None),
]


@pytest.mark.parametrize(("name", "make", "shape", "kinds"), MODULES, ids=[m[0] for m in MODULES])
def test_torch_modules_round_trip_through_netbuilder(name, make, shape, kinds, tmp_path: Path) -> None:
    torch.manual_seed(0)
    module = make().eval()
    x = torch.randn(2, *shape)
    path = tmp_path / f"{name}.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (x,), str(path), dynamo=False, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "N"}, "y": {0: "N"}}, opset_version=17)
    project, _ = import_onnx_project(path, tmp_path / f"{name}.nbproj")
    if kinds is not None:
        assert [n.kind for n in project.graph if n.kind not in ("Input", "Output")] == kinds
    back = tmp_path / f"{name}_back.onnx"
    export_onnx(load_project(tmp_path / f"{name}.nbproj"), back)
    session = ort.InferenceSession(str(back), providers=["CPUExecutionProvider"])
    for batch in (1, 3):
        xb = torch.randn(batch, *shape)
        with torch.no_grad():
            want = module(xb).numpy()
        got = session.run(None, {session.get_inputs()[0].name: xb.numpy()})[0]
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4)


# ---- refusals ----------------------------------------------------------------------------
def _refusal(model: onnx.ModelProto, tmp_path: Path) -> str:
    with pytest.raises(OnnxImportError) as info:
        import_onnx(_save(model, tmp_path))
    return str(info.value)


def test_depth_to_space_dcr_is_refused_with_the_mode_to_use(tmp_path: Path) -> None:
    nodes = [helper.make_node("DepthToSpace", ["x"], ["y"], name="d2s", blocksize=2, mode="DCR")]
    message = _refusal(_model(nodes, [_vi("x", ["N", 8, 3, 3])], [_vi("y", ["N", 2, 6, 6])]), tmp_path)
    assert "DepthToSpace node 'd2s'" in message and "DCR" in message and "mode CRD" in message


def test_pow_of_a_computed_exponent_is_refused(tmp_path: Path) -> None:
    nodes = [helper.make_node("Pow", ["x", "x"], ["y"], name="pw")]
    message = _refusal(_model(nodes, [_vi("x", ["N", 3])], [_vi("y", ["N", 3])]), tmp_path)
    assert "Pow node 'pw'" in message and "computed exponent" in message


def test_split_along_the_batch_is_refused(tmp_path: Path) -> None:
    nodes = [helper.make_node("Split", ["x"], ["a", "b"], name="cut", axis=0, num_outputs=2)]
    model = _model(nodes, [_vi("x", [4, 3])], [_vi("a", [2, 3]), _vi("b", [2, 3])], opset=18)
    message = _refusal(model, tmp_path)
    assert "Split node 'cut'" in message and "batch dimension" in message


def test_a_constant_tensor_operand_names_its_shape_and_the_fix(tmp_path: Path) -> None:
    # (one value per channel is a Scale layer; one per column of [N, 3, 4] is neither)
    nodes = [helper.make_node("Mul", ["x", "c"], ["y"], name="scale")]
    message = _refusal(_model(nodes, [_vi("x", ["N", 3, 4])], [_vi("y", ["N", 3, 4])], {"c": _w(4)}), tmp_path)
    assert "Mul node 'scale'" in message and "shape [4]" in message and "single number" in message


# ---- Split: output ports from its params ---------------------------------------------------
def _split_graph(sizes: list[int], wire: tuple[str, ...] | None = None, shape: list[int] | None = None) -> Graph:
    """x [N, 6, 4] -> Split 'sp' along dim 1 -> one Output per wired part."""
    g = Graph()
    x = g.add_node(g.make_node("Input", "x", {"shape": shape or [6, 4]}))
    sp = g.add_node(g.make_node("Split", "sp", {"sizes": sizes, "dim": 1}))
    g.connect(Edge(x.id, "out", sp.id, "in"))
    for port in wire or sp.output_ports():
        out = g.add_node(g.make_node("Output", f"y_{port}"))
        g.connect(Edge(sp.id, port, out.id, "in"))
    return g


def test_split_has_one_output_port_per_part() -> None:
    g = _split_graph([2, 4])
    sp = g.by_name("sp")
    assert sp.output_ports() == ("out1", "out2")
    g.set_params(sp.id, {"sizes": [1, 2, 3]})
    assert sp.output_ports() == ("out1", "out2", "out3")
    out3 = g.add_node(g.make_node("Output", "z"))
    g.connect(Edge(sp.id, "out3", out3.id, "in"))
    with pytest.raises(EditRefused, match="output 'out3' of 'sp' is wired; remove that wire first"):
        g.set_params(sp.id, {"sizes": [3, 3]})
    with pytest.raises(EditRefused, match=r"no output port 'out' .*outputs: out1, out2, out3"):
        g.connect(Edge(sp.id, "out", g.add_node(g.make_node("Output", "w")).id, "in"))


def test_split_shapes_and_the_fix_when_the_sizes_do_not_add_up() -> None:
    g = _split_graph([2, 4])
    inference = infer_shapes(g)
    assert not inference.errors
    out = inference.outputs(g.by_name("sp").id)
    assert {k: v.shape for k, v in out.items()} == {"out1": (2, 4), "out2": (4, 4)}
    g.set_params(g.by_name("sp").id, {"sizes": [2, 3]})
    (problem,) = infer_shapes(g).errors
    assert problem.message == ("Split 'sp' needs 5 values along dim 1 for sizes [2, 3]; got [N, 6, 4]: "
                               "make sizes add up to 6, e.g. [3, 3]")


def test_split_compiles_to_torch_split_and_writes_readable_code() -> None:
    g = _split_graph([2, 4])
    module = build_module(g)
    x = torch.randn(3, 6, 4)
    for got, want in zip(module(x), torch.split(x, [2, 4], 1), strict=True):
        assert torch.equal(got, want)
    source = generate_source(Project(g))
    assert "sp = x.split([2, 4], 1)" in source and "sp_out1 = sp[0]  # Split 'sp' -> [N, 2, 4]" in source
    namespace: dict = {}
    exec(source, namespace)
    for got, want in zip(namespace["Net"]()(x), torch.split(x, [2, 4], 1), strict=True):
        assert torch.equal(got, want)


def test_split_exports_to_onnx_and_imports_back_as_a_split(tmp_path: Path) -> None:
    g = _split_graph([1, 2, 3])
    report = export_onnx(Project(g), tmp_path / "split.onnx")
    assert report.max_abs_error  # verified in ONNX Runtime against torch
    project, _ = import_onnx(tmp_path / "split.onnx")
    (split,) = [n for n in project.graph if n.kind == "Split"]
    assert split.params == {"sizes": [1, 2, 3], "dim": 1}
    assert sorted(e.src_port for e in project.graph.out_edges(split.id)) == ["out1", "out2", "out3"]


def test_only_the_wired_parts_need_a_wire_and_the_project_file_keeps_the_ports(tmp_path: Path) -> None:
    g = _split_graph([2, 4], wire=("out2",))
    assert not infer_shapes(g).errors
    Project(g, name="s").save(tmp_path / "s.nbproj")
    loaded = load_project(tmp_path / "s.nbproj").graph
    sp = loaded.by_name("sp")
    assert [e.src_port for e in loaded.out_edges(sp.id)] == ["out2"]
    assert build_module(loaded)(torch.randn(2, 6, 4)).shape == (2, 4, 4)


def test_the_summary_shows_each_parts_shape() -> None:
    g = _split_graph([2, 4])
    row = next(r for r in summarize(g).rows if r.name == "sp")
    assert row.output == "[N, 2, 4], [N, 4, 4]" and row.macs == 0


# ---- the new kinds: shape rules, their fixes, torch and ONNX export ------------------------
def _single(kind: str, shape: list[int], **params) -> Graph:
    g = Graph()
    x = g.add_node(g.make_node("Input", "x", {"shape": shape}))
    layer = g.add_node(g.make_node(kind, "layer", params))
    y = g.add_node(g.make_node("Output", "y"))
    g.connect(Edge(x.id, "out", layer.id, layer.input_ports()[0].name))
    g.connect(Edge(layer.id, layer.output_ports()[0], y.id, "in"))
    return g


KINDS = [
    ("Conv3d", [4, 5, 6, 7], {"out_channels": 6, "kernel_size": [3, 1, 2], "stride": [1, 2, 1], "padding": 1,
                               "dilation": [1, 1, 2], "groups": 2}, (6, 5, 4, 7)),
    ("MaxPool3d", [2, 7, 8, 9], {"kernel_size": 3, "stride": 2, "padding": 1, "dilation": 2}, (2, 3, 3, 4)),
    ("MaxPool2d", [2, 11, 11], {"kernel_size": 3, "stride": 2, "padding": 1, "dilation": 2}, (2, 5, 5)),
    ("AvgPool3d", [2, 6, 6, 7], {"kernel_size": [2, 3, 2]}, (2, 3, 2, 3)),
    # (torch exports adaptive pooling only where the output size divides the input's)
    ("AdaptiveAvgPool3d", [3, 5, 6, 9], {"output_size": [1, 2, 3]}, (3, 1, 2, 3)),
    ("BatchNorm3d", [3, 2, 4, 4], {}, (3, 2, 4, 4)),
    ("Softmin", [3, 4], {"dim": 1}, (3, 4)),
    ("Softsign", [3, 4], {}, (3, 4)),
    ("GLU", [3, 8], {"dim": -1}, (3, 4)),
    ("PixelShuffle", [18, 2, 3], {"upscale_factor": 3}, (2, 6, 9)),
    ("PReLU", [3, 4, 4], {"per_channel": True}, (3, 4, 4)),
    *(("Math", [3, 4], {"function": f, "value": 2.0}, (3, 4))
      for f in ("exp", "log", "sqrt", "abs", "neg", "reciprocal", "add", "multiply", "power")),
]


@pytest.mark.parametrize(("kind", "shape", "params", "out"), KINDS,
                         ids=[f"{k}-{p.get('function', '')}" for k, _, p, _ in KINDS])
def test_new_kind_infers_runs_and_exports(kind: str, shape: list[int], params: dict, out: tuple,
                                          tmp_path: Path) -> None:
    g = _single(kind, shape, **params)
    inference = infer_shapes(g)
    assert not inference.errors, inference.errors
    assert inference.outputs(g.by_name("layer").id)["out"].shape == out
    module = build_module(g).eval()
    assert tuple(module(torch.rand(2, *shape) + 0.1).shape[1:]) == out
    export_onnx(Project(g), tmp_path / "m.onnx")  # ONNX Runtime must match torch, or this raises


MATH = {"exp": np.exp, "log": np.log, "sqrt": np.sqrt, "abs": np.abs, "neg": np.negative,
        "reciprocal": np.reciprocal, "add": lambda x: x + 2.5, "multiply": lambda x: x * 2.5,
        "power": lambda x: x ** 2.5}


@pytest.mark.parametrize("function", list(MATH))
def test_math_computes_its_function(function: str) -> None:
    module = build_module(_single("Math", [5], function=function, value=2.5))
    x = torch.rand(3, 5) + 0.5
    np.testing.assert_allclose(module(x).numpy(), MATH[function](x.numpy()), rtol=1e-6)


@pytest.mark.parametrize(("kind", "op"), [("Subtract", np.subtract), ("Divide", np.divide)])
def test_subtract_and_divide_broadcast_like_torch(kind: str, op, tmp_path: Path) -> None:
    g = Graph()
    a = g.add_node(g.make_node("Input", "a", {"shape": [3, 4]}))
    b = g.add_node(g.make_node("Input", "b", {"shape": [1, 4]}))
    m = g.add_node(g.make_node(kind, "m"))
    y = g.add_node(g.make_node("Output", "y"))
    for e in (Edge(a.id, "out", m.id, "in1"), Edge(b.id, "out", m.id, "in2"), Edge(m.id, "out", y.id, "in")):
        g.connect(e)
    xa, xb = torch.randn(2, 3, 4), torch.rand(2, 1, 4) + 0.5
    np.testing.assert_allclose(build_module(g)(xa, xb).numpy(), op(xa.numpy(), xb.numpy()), rtol=1e-6)
    source = generate_source(Project(g))
    assert f"m = a.{'sub' if kind == 'Subtract' else 'div'}(b)" in source
    export_onnx(Project(g), tmp_path / "m.onnx")  # ONNX Runtime must match torch, or this raises
    project, _ = import_onnx(tmp_path / "m.onnx")  # and it reads back as the same kind
    assert [n.kind for n in project.graph] == ["Input", "Input", kind, "Output"]


@pytest.mark.parametrize(("kind", "shape", "params", "expected"), [
    ("Conv3d", [3, 8, 8], {}, "needs [N, C, D, H, W]; got [N, 3, 8, 8]: use Conv2d for an image [N, C, H, W], "
                              "or insert Reshape to add a channel dimension, e.g. [1, D, H, W]"),
    ("Conv3d", [3, 8], {}, "needs [N, C, D, H, W]; got [N, 3, 8]: use Conv1d"),
    ("Conv2d", [8, 8], {}, "needs [N, C, H, W]; got [N, 8, 8]: insert Reshape to add a channel dimension, "
                           "e.g. [1, H, W]"),
    ("MaxPool3d", [3, 1, 8, 8], {"kernel_size": 2}, "D of at least 2 for kernel_size 2"),
    ("BatchNorm3d", [3, 8, 8], {}, "needs [N, C, D, H, W]; got [N, 3, 8, 8]: use BatchNorm2d"),
    ("GLU", [3, 5], {"dim": -1}, "needs an even size along dim -1 to halve"),
    ("PixelShuffle", [6, 4, 4], {"upscale_factor": 2}, "channels divisible by upscale_factor² = 4"),
    ("Math", [4], {"function": "exp"}, None),
])
def test_shape_errors_name_the_fix(kind: str, shape: list[int], params: dict, expected: str | None) -> None:
    errors = infer_shapes(_single(kind, shape, **params)).errors
    if expected is None:
        assert not errors
    else:
        assert len(errors) == 1 and expected in errors[0].message, errors


# ---- Slice: torch's chunk and split with a free batch, and x[:, a:b] -------------------------
class Narrow(nn.Module):
    def forward(self, x):
        return x[:, 2:5] * 2.0


class Overlapping(nn.Module):
    def forward(self, x):
        a, b, c = x.chunk(3, dim=1)
        return a * b - c + x[:, 1:3]


@pytest.mark.parametrize(("make", "splits"), [
    (Chunks, [([2, 2, 2], ["out1", "out2", "out3"])]),
    (Narrow, [([2, 3, 1], ["out2"])]),
    (Overlapping, [([2, 4], ["out1"]), ([2, 2, 2], ["out2"]), ([4, 2], ["out2"]), ([1, 2, 3], ["out2"])]),
], ids=["chunk", "narrow", "overlapping"])
def test_slices_become_splits(make, splits, tmp_path: Path) -> None:
    module = make().eval()
    path = tmp_path / "m.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (torch.randn(2, 6, 4),), str(path), dynamo=False, input_names=["x"],
                          dynamic_axes={"x": {0: "N"}}, opset_version=17)
    assert "Slice" in {n.op_type for n in onnx.load(str(path)).graph.node}
    project, _ = import_onnx(path)
    graph = project.graph
    found = [(n.params["sizes"], sorted({e.src_port for e in graph.out_edges(n.id)})) for n in graph
             if n.kind == "Split"]
    assert found == splits
    imported = build_module(graph).eval()
    x = torch.randn(3, 6, 4)
    torch.testing.assert_close(imported(x), module(x))


def test_a_strided_slice_is_refused_with_what_maps(tmp_path: Path) -> None:
    nodes = [helper.make_node("Slice", ["x", "s", "e", "a", "st"], ["y"], name="every_other")]
    inits = {k: np.array([v], np.int64) for k, v in (("s", 0), ("e", 6), ("a", 1), ("st", 2))}
    message = _refusal(_model(nodes, [_vi("x", ["N", 6])], [_vi("y", ["N", 3])], inits), tmp_path)
    assert "Slice node 'every_other'" in message and "step 1" in message
