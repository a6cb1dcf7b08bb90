"""Common modern architectures, as torch's two exporters write them, import, keep their weights and
reproduce their outputs: import (project and weights beside it) -> export again -> ONNX Runtime on
the re-export against the original at rtol 1e-3, atol 1e-4, at the exported batch and another.
Then the ops and patterns they need, each on its own: Clip (ReLU6, Hardtanh), HardSwish,
HardSigmoid, Mish, ReduceMean, LayerNormalization, self-attention, and their refusals."""

from __future__ import annotations

import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

from netbuilder import load_project
from netbuilder.onnx.exporter import export_onnx
from netbuilder.onnx.importer import OnnxImportError, import_onnx, import_onnx_project
from tests.engine.onnx_architectures import ARCHITECTURES, EXPORTERS, TextRNN, export, seeded

RTOL, ATOL = 1e-3, 1e-4
F = TensorProto.FLOAT

# What each architecture must become (kind -> count), beyond reproducing its outputs.
KINDS = {
    "resnet": {"Add": 2, "AdaptiveAvgPool2d": 1},
    "mobilenetv2": {"ReLU6": 7, "Add": 2},
    "vgg_bn": {"Conv2d": 3, "MaxPool2d": 2},
    "text_lstm": {"Embedding": 1, "LSTM": 1},
    "transformer": {"TransformerEncoderLayer": 2},
    "unet": {"ConvTranspose2d": 2, "Concat": 2},
}


def _session(path: Path | bytes) -> ort.InferenceSession:
    so = ort.SessionOptions()
    so.log_severity_level = 3
    return ort.InferenceSession(path if isinstance(path, bytes) else str(path), so,
                                providers=["CPUExecutionProvider"])


def _feed(sample: torch.Tensor, batch: int) -> np.ndarray:
    rng = np.random.default_rng(batch)
    shape = (batch, *sample.shape[1:])
    if sample.dtype == torch.int64:
        return rng.integers(0, 50, shape).astype(np.int64)
    return rng.standard_normal(shape).astype(np.float32)


def _round_trip(original: Path, sample: torch.Tensor, work: Path) -> Counter:
    """Import, export again, compare in ONNX Runtime; the imported kinds and their counts."""
    project, _ = import_onnx_project(original, work / "imported.nbproj")
    back = work / "back.onnx"
    export_onnx(load_project(work / "imported.nbproj"), back)
    orig, new = _session(original), _session(back)
    for batch in (sample.shape[0], 3):
        x = _feed(sample, batch)
        want = orig.run(None, {orig.get_inputs()[0].name: x})
        got = new.run(None, {new.get_inputs()[0].name: x})
        assert len(got) == len(want)
        for g, e in zip(got, want, strict=True):
            assert g.shape == e.shape, f"batch {batch}"
            np.testing.assert_allclose(g, e, rtol=RTOL, atol=ATOL, err_msg=f"batch {batch}")
    return Counter(n.kind for n in project.graph.nodes.values())


@pytest.mark.parametrize("exporter", EXPORTERS)
@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_architecture_round_trip(arch: str, exporter: str, tmp_path: Path) -> None:
    module, sample = ARCHITECTURES[arch]()
    path = export(module, sample, tmp_path / f"{arch}.onnx", exporter)
    if exporter == "dynamo":
        assert Path(f"{path}.data").exists()  # the file as written keeps its weights beside it, and is read so
    kinds = _round_trip(path, sample, tmp_path)
    assert kinds >= Counter(KINDS[arch]), kinds


@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_dynamo_export_with_weights_inside_round_trip(arch: str, tmp_path: Path) -> None:
    """The dynamo exporter's graph, its weights re-saved inside the file: its patterns, without external data."""
    module, sample = ARCHITECTURES[arch]()
    path = export(module, sample, tmp_path / f"{arch}.onnx", "dynamo")
    inline = tmp_path / f"{arch}_inline.onnx"
    onnx.save(onnx.load(str(path)), str(inline), save_as_external_data=False)
    kinds = _round_trip(inline, sample, tmp_path)
    assert kinds >= Counter(KINDS[arch]), kinds
    names = [n.name for n in import_onnx(inline)[0].graph.nodes.values()]
    assert not [name for name in names if name.startswith("node_")], names  # 'node_Conv_3' says nothing


def test_torch_module_outputs_are_reproduced_by_the_import(tmp_path: Path) -> None:
    """The imported module computes what torch's did (not only what the exported file does)."""
    from netbuilder import build_module

    module, sample = ARCHITECTURES["transformer"]()
    path = export(module, sample, tmp_path / "t.onnx", "torchscript")
    project, weights = import_onnx(path)
    mine = build_module(project.graph).eval()
    mine.load_state_dict(weights)
    with torch.no_grad():
        torch.testing.assert_close(mine(sample), module(sample), rtol=1e-4, atol=1e-5)


# ---- the ops, one at a time ------------------------------------------------------------------
def _model(nodes: list, shape: list, inits: dict[str, np.ndarray] | None = None, opset: int = 17,
           out_shape: list | None = None) -> onnx.ModelProto:
    inits = [numpy_helper.from_array(np.asarray(v), k) for k, v in (inits or {}).items()]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", F, shape)],
                              [helper.make_tensor_value_info("y", F, out_shape or shape)], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)


def _matches(model: onnx.ModelProto, tmp_path: Path, shape: list[int]) -> Counter:
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    project, weights = import_onnx(path)
    from netbuilder import build_module

    module = build_module(project.graph).eval()
    module.load_state_dict(weights)
    session = _session(path)
    for batch in (1, 3):
        x = np.random.default_rng(batch).standard_normal((batch, *shape)).astype(np.float32) * 4
        want = session.run(None, {"x": x})[0]
        with torch.no_grad():
            got = module(torch.from_numpy(x)).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    return Counter(n.kind for n in project.graph.nodes.values())


def _refusal(model: onnx.ModelProto, tmp_path: Path) -> str:
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    with pytest.raises(OnnxImportError) as info:
        import_onnx(path)
    return str(info.value)


@pytest.mark.parametrize(("lo", "hi", "kind"), [(0.0, 6.0, "ReLU6"), (0.0, None, "ReLU"), (-2.0, 3.5, "Hardtanh")])
def test_clip_bounds_as_inputs(lo: float, hi: float | None, kind: str, tmp_path: Path) -> None:
    inits = {"lo": np.float32(lo)} | ({"hi": np.float32(hi)} if hi is not None else {})
    node = helper.make_node("Clip", ["x", "lo", "hi" if hi is not None else ""], ["y"], name="clamp")
    assert _matches(_model([node], ["N", 3, 5], inits), tmp_path, [3, 5])[kind] == 1


def test_clip_bounds_as_attributes_of_opset_6(tmp_path: Path) -> None:
    node = helper.make_node("Clip", ["x"], ["y"], min=0.0, max=6.0)
    assert _matches(_model([node], ["N", 4], opset=9), tmp_path, [4])["ReLU6"] == 1


def test_one_sided_clip_other_than_relu_is_refused_with_the_fix(tmp_path: Path) -> None:
    node = helper.make_node("Clip", ["x", "", "hi"], ["y"], name="cap")
    message = _refusal(_model([node], ["N", 4], {"hi": np.float32(2.0)}), tmp_path)
    assert "Clip node 'cap'" in message and "[-inf, 2.0]" in message and "Hardtanh" in message


def test_hardswish_hardsigmoid_mish_ops(tmp_path: Path) -> None:
    nodes = [helper.make_node("HardSwish", ["x"], ["a"]),
             helper.make_node("HardSigmoid", ["a"], ["b"], alpha=1 / 6, beta=0.5),
             helper.make_node("Mish", ["b"], ["y"])]
    kinds = _matches(_model(nodes, ["N", 6], opset=18), tmp_path, [6])
    assert kinds["Hardswish"] == kinds["Hardsigmoid"] == kinds["Mish"] == 1


def test_hardsigmoid_with_onnx_default_alpha_is_refused(tmp_path: Path) -> None:
    node = helper.make_node("HardSigmoid", ["x"], ["y"], name="gate")
    message = _refusal(_model([node], ["N", 6]), tmp_path)
    assert "HardSigmoid node 'gate'" in message and "alpha=0.2" in message and "alpha=1/6" in message


@pytest.mark.parametrize("dynamo", [False, True])
def test_torch_activations_from_both_exporters(dynamo: bool, tmp_path: Path) -> None:
    """torch's Hardswish, Hardsigmoid, Mish (Softplus-Tanh-Mul before opset 18), Hardtanh, ReLU6."""
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Hardswish(), torch.nn.Linear(8, 8),
                                 torch.nn.Mish(), torch.nn.Hardtanh(-0.5, 2.0), torch.nn.Linear(8, 8),
                                 torch.nn.Hardsigmoid(), torch.nn.ReLU6()).eval()
    path = tmp_path / "acts.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dynamo:
            torch.onnx.export(module, (torch.randn(2, 6),), str(path), dynamo=True, input_names=["x"],
                              dynamic_shapes=({0: torch.export.Dim("N", min=1, max=64)},), external_data=False)
        else:
            torch.onnx.export(module, (torch.randn(2, 6),), str(path), dynamo=False, input_names=["x"],
                              dynamic_axes={"x": {0: "N"}}, opset_version=17)
    kinds = _matches(onnx.load(str(path)), tmp_path, [6])
    assert kinds["Hardswish"] == kinds["Hardsigmoid"] == kinds["Hardtanh"] == kinds["ReLU6"] == kinds["Mish"] == 1
    assert kinds["Softplus"] == kinds["Tanh"] == kinds["Multiply"] == 0  # opset 17's Mish is one Mish


@pytest.mark.parametrize("keepdims", [0, 1])
def test_reduce_mean_over_the_spatial_axes_is_a_global_average_pool(keepdims: int, tmp_path: Path) -> None:
    node = helper.make_node("ReduceMean", ["x", "axes"], ["y"], keepdims=keepdims)
    out = ["N", 3, 1, 1] if keepdims else ["N", 3]
    model = _model([node], ["N", 3, 4, 5], {"axes": np.array([-1, 2])}, opset=18, out_shape=out)
    kinds = _matches(model, tmp_path, [3, 4, 5])
    assert kinds["AdaptiveAvgPool2d"] == 1 and kinds["Flatten"] == 1 - keepdims


def test_reduce_mean_over_channels_is_refused(tmp_path: Path) -> None:
    node = helper.make_node("ReduceMean", ["x"], ["y"], axes=[1], name="avg")
    message = _refusal(_model([node], ["N", 3, 4, 5], out_shape=["N", 1, 4, 5]), tmp_path)
    assert "ReduceMean node 'avg'" in message and "axes [1]" in message and "AdaptiveAvgPool" in message


@pytest.mark.parametrize("axis", [-1, -2])
def test_layer_normalization(axis: int, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    shape = [4, 6][axis:] if axis == -1 else [4, 6]
    inits = {"s": rng.standard_normal(shape).astype(np.float32), "b": rng.standard_normal(shape).astype(np.float32)}
    node = helper.make_node("LayerNormalization", ["x", "s", "b"], ["y"], axis=axis, epsilon=1e-3)
    assert _matches(_model([node], ["N", 4, 6], inits), tmp_path, [4, 6])["LayerNorm"] == 1


class SelfAttention(torch.nn.Module):
    def __init__(self, width: int = 12, heads: int = 3) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.attn = torch.nn.MultiheadAttention(width, heads, batch_first=True)
        with torch.no_grad():
            for p in self.attn.parameters():
                p.add_(torch.randn_like(p) * 0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.attn(x, x, x, need_weights=False)[0]


def test_multihead_attention_from_both_exporters(tmp_path: Path) -> None:
    """nn.MultiheadAttention alone, self-attention, batch-first: one MultiheadAttention node each time."""
    module, sample = SelfAttention().eval(), torch.randn(2, 5, 12)
    for exporter in EXPORTERS:
        path = export(module, sample, tmp_path / f"{exporter}.onnx", exporter)
        inline = tmp_path / f"{exporter}_inline.onnx"
        onnx.save(onnx.load(str(path)), str(inline), save_as_external_data=False)
        kinds = _round_trip(inline, sample, tmp_path)
        assert kinds["MultiheadAttention"] == 1 and kinds["Linear"] == 0, (exporter, kinds)


def test_matmul_of_a_time_major_tensor_that_is_not_attention_is_refused(tmp_path: Path) -> None:
    """[N, T, E] -> Transpose [T, N, E] -> MatMul by [E, 3E]: looks like an in-projection, is not attention."""
    w = np.random.default_rng(0).standard_normal((4, 12)).astype(np.float32)
    nodes = [helper.make_node("Transpose", ["x"], ["t"], perm=[1, 0, 2]),
             helper.make_node("MatMul", ["t", "w"], ["m"], name="proj"),
             helper.make_node("Transpose", ["m"], ["y"], perm=[1, 0, 2])]
    message = _refusal(_model(nodes, ["N", 5, 4], {"w": w}, out_shape=["N", 5, 12]), tmp_path)
    assert "MatMul node 'proj'" in message and "time-major" in message and "MultiheadAttention" in message


@pytest.mark.parametrize(("options", "fused", "opset"), [
    ({"norm_first": True, "activation": "gelu"}, True, None),  # pre-norm, GELU: one TransformerEncoderLayer
    ({"activation": "gelu"}, True, 17),  # GELU before opset 20: Div, Erf, Add, Mul, Mul
    ({"layer_norm_eps": 1e-6}, False, None),  # an eps the catalog kind cannot hold: its parts, as it computes
])
def test_encoder_layer_variants(options: dict, fused: bool, opset: int | None, tmp_path: Path) -> None:
    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True, **options)
    with torch.no_grad():
        for p in layer.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (a layer alone does not trace: torch passes is_causal as a tensor)
        encoder = torch.nn.TransformerEncoder(layer, 1, enable_nested_tensor=False).eval()
    sample = torch.randn(2, 5, 8)
    kinds = _round_trip(export(encoder, sample, tmp_path / "layer.onnx", "torchscript", opset), sample, tmp_path)
    if fused:
        assert kinds["TransformerEncoderLayer"] == 1 and kinds["MultiheadAttention"] == 0, kinds
    else:
        assert kinds["TransformerEncoderLayer"] == 0 and kinds["MultiheadAttention"] == 1, kinds
        assert kinds["LayerNorm"] == 2 and kinds["Linear"] == 2 and kinds["Add"] == 2, kinds


def _inline(path: Path) -> Path:
    inline = path.with_name(f"{path.stem}_inline.onnx")
    onnx.save(onnx.load(str(path)), str(inline), save_as_external_data=False)
    return inline


@pytest.mark.parametrize("exporter", EXPORTERS)
@pytest.mark.parametrize(("options", "kinds"), [
    ({}, {"LSTM": 1}),  # h_n[-1]: the last step of the one layer
    ({"layers": 2}, {"LSTM": 2}),  # h_n[-1] of two: the second layer's last step (the first gives its sequence)
    ({"kind": "GRU"}, {"GRU": 1}),
    ({"end": "mean"}, {"LSTM": 1, "AdaptiveAvgPool1d": 1, "Permute": 1}),  # the mean over the positions
])
def test_text_classifier_endings(options: dict, kinds: dict, exporter: str, tmp_path: Path) -> None:
    module, sample = seeded(lambda: TextRNN(**options)), torch.randint(0, 50, (2, 7))
    path = _inline(export(module, sample, tmp_path / "text.onnx", exporter))
    assert _round_trip(path, sample, tmp_path) >= Counter(kinds)


class StepPick(torch.nn.Module):
    """One step of a computed sequence: a bidirectional GRU's ``y[:, -1]`` (both directions' values at the
    last position, not the RNN's 'last' output) or a Linear's ``x[:, 0]`` (a transformer's class token)."""

    def __init__(self, which: str) -> None:
        super().__init__()
        self.which = which
        self.embed = torch.nn.Embedding(50, 8)
        self.gru = torch.nn.GRU(8, 6, batch_first=True, bidirectional=True)
        self.linear = torch.nn.Linear(8, 6)
        self.head = torch.nn.Linear(12 if which == "bigru" else 6, 3)

    def forward(self, ids):
        x = self.embed(ids)
        if self.which == "bigru":
            return self.head(self.gru(x)[0][:, -1])
        return self.head(torch.relu(self.linear(x))[:, 0])


@pytest.mark.parametrize("exporter", EXPORTERS)
@pytest.mark.parametrize("which", ["bigru", "first"])
def test_one_step_of_a_computed_sequence_is_a_split_and_a_reshape(which: str, exporter: str, tmp_path: Path) -> None:
    # Before: "Gather on a computed tensor has no netbuilder layer" for both.
    module, sample = seeded(lambda: StepPick(which)), torch.randint(0, 50, (2, 7))
    kinds = _round_trip(export(module, sample, tmp_path / "pick.onnx", exporter), sample, tmp_path)
    assert kinds >= Counter({"Split": 1, "Reshape": 1}), kinds


def test_final_state_of_a_bidirectional_rnn_is_refused_with_the_fix(tmp_path: Path) -> None:
    module, sample = seeded(lambda: TextRNN(bidirectional=True)), torch.randint(0, 50, (2, 7))
    with pytest.raises(OnnxImportError) as info:
        import_onnx(export(module, sample, tmp_path / "bi.onnx", "torchscript"))
    message = str(info.value)
    assert "Gather node" in message and "bidirectional" in message and "y[:, -1]" in message, message


@pytest.mark.parametrize("arch", ["transformer", "text_lstm"])
def test_opset_14_export(arch: str, tmp_path: Path) -> None:
    """Before opset 17 torch writes LayerNorm as ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul, Add."""
    module, sample = ARCHITECTURES[arch]()
    path = export(module, sample, tmp_path / f"{arch}.onnx", "torchscript", opset=14)
    assert _round_trip(path, sample, tmp_path) >= Counter(KINDS[arch])


def test_decomposed_layer_norm_without_affine(tmp_path: Path) -> None:
    module = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.LayerNorm(8, eps=1e-3, elementwise_affine=False))
    path = export(module.eval(), torch.randn(2, 6), tmp_path / "ln.onnx", "torchscript", opset=14)
    project, _ = import_onnx(path)
    [norm] = [n for n in project.graph.nodes.values() if n.kind == "LayerNorm"]
    assert norm.params["eps"] == pytest.approx(1e-3)
    assert _round_trip(path, torch.randn(2, 6), tmp_path)["LayerNorm"] == 1


def test_attention_too_long_to_check_is_refused_before_running_it(tmp_path: Path) -> None:
    """1,100 positions of width 16: 19 million T*T*E values, over the 2^24 the import's check may run."""
    path = export(SelfAttention(16, 2).eval(), torch.randn(1, 1100, 16), tmp_path / "long.onnx", "torchscript")
    with pytest.raises(OnnxImportError) as info:
        import_onnx(path)
    message = str(info.value)
    assert "MatMul node" in message and "1100 positions of width 16" in message and "shorten" in message, message


def test_exact_gelu_before_opset_20_is_one_gelu(tmp_path: Path) -> None:
    module = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.GELU(), torch.nn.Linear(8, 2)).eval()
    path = export(module, torch.randn(2, 6), tmp_path / "gelu.onnx", "torchscript", opset=17)
    assert {n.op_type for n in onnx.load(str(path)).graph.node} >= {"Div", "Erf"}
    kinds = _round_trip(path, torch.randn(2, 6), tmp_path)
    assert kinds["GELU"] == 1 and len(kinds) == 4, kinds  # Input, Linear, GELU, Output


def test_tanh_gelu_before_opset_20_is_one_gelu(tmp_path: Path) -> None:
    module = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.GELU(approximate="tanh"),
                                 torch.nn.Linear(8, 2)).eval()
    path = export(module, torch.randn(2, 6), tmp_path / "gelu_tanh.onnx", "torchscript", opset=17)
    assert {n.op_type for n in onnx.load(str(path)).graph.node} >= {"Mul", "Tanh"}
    kinds = _round_trip(path, torch.randn(2, 6), tmp_path)
    assert kinds["GELU"] == 1 and len(kinds) == 4, kinds  # Input, Linear, GELU, Output
    project, _ = import_onnx(path)
    [gelu] = [n for n in project.graph.nodes.values() if n.kind == "GELU"]
    assert gelu.params["approximate"] == "tanh"


def test_a_square_that_is_not_a_gelu_stays_arithmetic(tmp_path: Path) -> None:
    """x * x, then x * x * x, with no tanh after: the pattern lets go, and the Muls map as they always did."""
    module = torch.nn.Sequential(torch.nn.Linear(6, 8))
    path = export(module.eval(), torch.randn(2, 6), tmp_path / "lin.onnx", "torchscript", opset=17)
    model = onnx.load(str(path))
    out = model.graph.output[0].name
    model.graph.node.extend([helper.make_node("Mul", [out, out], ["sq"]),
                             helper.make_node("Mul", [out, "sq"], ["cube"])])
    model.graph.output[0].name = "cube"
    onnx.save(model, str(tmp_path / "cube.onnx"))
    project, _ = import_onnx(tmp_path / "cube.onnx")
    assert not [n for n in project.graph if n.kind == "GELU"]


def test_div_that_is_not_gelu_is_still_refused(tmp_path: Path) -> None:
    nodes = [helper.make_node("Div", ["x", "c"], ["d"], name="scale"), helper.make_node("Erf", ["d"], ["y"])]
    message = _refusal(_model(nodes, ["N", 4], {"c": np.float32(1.41421356)}), tmp_path)
    # The Div by a number is a Math layer; the Erf, not the rest of GELU's pattern, has no layer.
    assert "Erf (1)" in message and "GELU" not in message, message


def test_softplus_not_in_a_mish_stays_softplus(tmp_path: Path) -> None:
    nodes = [helper.make_node("Softplus", ["x"], ["s"]), helper.make_node("Tanh", ["s"], ["y"])]
    kinds = _matches(_model(nodes, ["N", 5]), tmp_path, [5])
    assert kinds["Softplus"] == kinds["Tanh"] == 1 and kinds["Mish"] == 0


def test_hardtanh_needs_min_below_max() -> None:
    from netbuilder.analysis.shape_inference import infer_shapes
    from netbuilder.model.graph import Edge, Graph

    g = Graph()
    x = g.add_node(g.make_node("Input", "x", {"shape": [4]}))
    clamp = g.add_node(g.make_node("Hardtanh", "clamp", {"min_val": 2.0, "max_val": 1.0}))
    g.connect(Edge(x.id, "out", clamp.id, "in"))
    messages = [p.message for p in infer_shapes(g).errors]
    assert any("'min_val' must be below 'max_val'" in m and "clamp" in m for m in messages), messages
