"""Pooling's ceil_mode and count_include_pad, asymmetric pool and convolution padding, and the
per-channel Scale: the layers against torch, ONNX pools, Conv, Mul/Add/Sub/Div imported and
compared with ONNX Runtime, and refusals that name the node and the fix."""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
import torch.nn.functional as F
from onnx import helper, numpy_helper

from netbuilder import build_module
from netbuilder.build.codegen import generate_source
from netbuilder.files.project import Project
from netbuilder.onnx.importer import OnnxImportError, import_onnx
from tests.engine.test_shape_inference import single

RNG = np.random.default_rng(5)


def _model(nodes: list, x_shape: list, y_rank: int, inits: dict | None = None, opset: int = 17) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", 1, x_shape)],
                              [helper.make_tensor_value_info("y", 1, ["N", *"abcd"[: y_rank - 1]])],
                              [numpy_helper.from_array(v, k) for k, v in (inits or {}).items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                             ir_version=8 if opset >= 15 else 4)


def _import_and_compare(model: onnx.ModelProto, tmp_path: Path, batches=(1, 3)):
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    project, weights = import_onnx(path)
    module = build_module(project.graph).eval()
    module.load_state_dict(weights)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    shape = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    for batch in batches:
        x = RNG.standard_normal([batch, *shape[1:]]).astype(np.float32)
        want = session.run(None, {"x": x})[0]
        with torch.no_grad():
            got = module(torch.from_numpy(x))
        torch.testing.assert_close(got, torch.from_numpy(want), rtol=1e-4, atol=1e-5)
    return project


def _kinds(project: Project) -> list[str]:
    return [n.kind for n in project.graph if n.kind not in ("Input", "Output")]


# ---- the pooling layers' new parameters, against torch ----------------------------------------------
@pytest.mark.parametrize(("size", "k", "s", "p", "ceil", "include"),
                         [c for c in itertools.product((5, 6, 7), (2, 3), (2, 3), (0, 1), (False, True), (False, True))
                          if 2 * c[3] <= c[1]])
def test_avg_and_max_pool_with_ceil_mode_and_count_include_pad_are_torchs(size, k, s, p, ceil, include) -> None:
    x = torch.randn(2, 3, size, size + 1)
    params = {"kernel_size": k, "stride": s, "padding": p, "ceil_mode": ceil}
    _, inference, layer = single("AvgPool2d", [3, size, size + 1], **params, count_include_pad=include)
    want = F.avg_pool2d(x, k, s, p, ceil_mode=ceil, count_include_pad=include)
    assert inference.outputs(layer.id)["out"].shape == tuple(want.shape[1:])
    graph, _, _ = single("AvgPool2d", [3, size, size + 1], **params, count_include_pad=include)
    torch.testing.assert_close(build_module(graph)(x), want)
    graph, inference, layer = single("MaxPool1d", [3, size + 1], **params)
    want = F.max_pool1d(x[:, :, 0], k, s, p, ceil_mode=ceil)
    assert inference.outputs(layer.id)["out"].shape == tuple(want.shape[1:])
    torch.testing.assert_close(build_module(graph)(x[:, :, 0]), want)


def test_generated_code_keeps_ceil_mode_and_count_include_pad() -> None:
    graph, _, _ = single("AvgPool2d", [3, 7, 7], kernel_size=3, stride=2, padding=1, ceil_mode=True,
                         count_include_pad=False)
    source = generate_source(Project(graph, "p"))
    assert "ceil_mode=True" in source and "count_include_pad=False" in source


# ---- ONNX pools -----------------------------------------------------------------------------------
POOL_CASES = [
    # op, size, kernel, strides, pads, ceil_mode, count_include_pad
    ("MaxPool", 8, 3, 2, [0, 0, 1, 1], 0, 0),  # AlexNet's, Inception's: torch's padding 0 and ceil mode
    ("MaxPool", 7, 3, 2, [1, 1, 0, 0], 0, 0), ("MaxPool", 9, 3, 2, [0, 1, 2, 1], 0, 0),
    ("MaxPool", 7, 2, 2, [0, 0, 0, 0], 1, 0), ("MaxPool", 8, 3, 1, [2, 2, 2, 2], 0, 0),  # pads over half: Pad
    ("MaxPool", 8, 3, 2, [1, 1, 1, 1], 1, 0),
    ("AveragePool", 8, 3, 2, [0, 0, 1, 1], 0, 0), ("AveragePool", 8, 3, 2, [0, 0, 1, 1], 0, 1),
    ("AveragePool", 8, 3, 2, [1, 1, 1, 1], 0, 0), ("AveragePool", 8, 3, 2, [1, 1, 1, 1], 0, 1),
    ("AveragePool", 7, 3, 2, [1, 1, 1, 1], 1, 0), ("AveragePool", 7, 3, 2, [1, 1, 1, 1], 1, 1),
    ("AveragePool", 6, [7, 8], 1, [0, 0, 1, 1], 0, 0),  # Inception v1's last pool: one window over all
    ("AveragePool", 6, 3, 3, [0, 0, 0, 0], 1, 0), ("AveragePool", 8, 3, 1, [2, 0, 0, 2], 0, 1),
    ("AveragePool", 9, 2, 2, [1, 1, 0, 0], 1, 1),
]


@pytest.mark.parametrize(("op", "size", "k", "s", "pads", "ceil", "include"), POOL_CASES)
def test_onnx_pools_match_ort(op, size, k, s, pads, ceil, include, tmp_path: Path) -> None:
    attrs = {"kernel_shape": k if isinstance(k, list) else [k, k], "strides": [s, s], "pads": pads,
             "ceil_mode": ceil}
    if op == "AveragePool":
        attrs["count_include_pad"] = include
    for opset in (10, 19):
        model = _model([helper.make_node(op, ["x"], ["y"], name="pool", **attrs)], ["N", 2, size, size + 1], 4,
                       opset=opset)
        project = _import_and_compare(model, tmp_path)
        assert _kinds(project)[-1] == ("MaxPool2d" if op == "MaxPool" else "AvgPool2d")


def test_asymmetric_max_pool_needs_no_pad_layer_where_torchs_ceil_mode_gives_its_windows(tmp_path: Path) -> None:
    model = _model([helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2],
                                     pads=[0, 0, 1, 1])], ["N", 2, 112, 112], 4)
    project = _import_and_compare(model, tmp_path, batches=(1,))
    pool = next(n for n in project.graph if n.kind == "MaxPool2d")
    assert _kinds(project) == ["MaxPool2d"] and pool.params["ceil_mode"] and pool.params["padding"] == 0


def test_average_pool_excluding_padding_that_torch_cannot_window_is_refused(tmp_path: Path) -> None:
    model = _model([helper.make_node("AveragePool", ["x"], ["y"], name="avg", kernel_shape=[3, 3], strides=[1, 1],
                                     pads=[0, 0, 3, 3], count_include_pad=0)], ["N", 2, 8, 8], 4)
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    with pytest.raises(OnnxImportError) as info:
        import_onnx(path)
    message = str(info.value)
    assert "AveragePool node 'avg'" in message and "count_include_pad=0" in message and "Pad node" in message


def test_ceil_mode_where_onnx_shape_inference_and_ort_disagree_is_refused(tmp_path: Path) -> None:
    # The last window would start in the end padding: onnx's shape inference keeps it, ONNX Runtime drops it.
    model = _model([helper.make_node("AveragePool", ["x"], ["y"], name="avg", kernel_shape=[2, 2], strides=[2, 2],
                                     pads=[1, 0, 0, 1], ceil_mode=1, count_include_pad=1)], ["N", 2, 9, 10], 4)
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    with pytest.raises(OnnxImportError) as info:
        import_onnx(path)
    message = str(info.value)
    assert "AveragePool node 'avg'" in message and "ceil_mode=1" in message and "ONNX Runtime computes" in message


@pytest.mark.parametrize("module", [
    torch.nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False), torch.nn.AvgPool2d(3, 2, 1, ceil_mode=True),
    torch.nn.MaxPool2d(3, 2, 1, ceil_mode=True), torch.nn.AvgPool1d(2, 2, 1, ceil_mode=True, count_include_pad=False),
])
def test_torch_pools_with_ceil_mode_round_trip(module: torch.nn.Module, tmp_path: Path) -> None:
    shape = [2, 3, 8] if isinstance(module, torch.nn.AvgPool1d) else [2, 3, 8, 7]
    path = tmp_path / "t.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (torch.randn(*shape),), str(path), dynamo=False, input_names=["x"],
                          output_names=["y"], dynamic_axes={"x": {0: "N"}, "y": {0: "N"}}, opset_version=17)
    project = _import_and_compare(onnx.load(str(path)), tmp_path)
    (pool,) = [n for n in project.graph if n.kind not in ("Input", "Output")]
    assert pool.params["ceil_mode"] is True


@pytest.mark.parametrize("pads", [[0, 0, 1, 1], [2, 1, 0, 1], [1, 0, 0, 0]])
def test_conv_with_asymmetric_pads_is_pad_then_conv(pads: list[int], tmp_path: Path) -> None:
    w = RNG.standard_normal((4, 2, 3, 3)).astype(np.float32)
    model = _model([helper.make_node("Conv", ["x", "w"], ["y"], name="stem", pads=pads, strides=[2, 2])],
                   ["N", 2, 9, 8], 4, {"w": w})
    project = _import_and_compare(model, tmp_path)
    assert _kinds(project) == ["Pad", "Conv2d"]
    assert project.graph.by_name("stem_pad").kind == "Pad" and project.graph.by_name("stem").kind == "Conv2d"


def test_same_upper_and_lower_pad_the_odd_amount_where_onnx_does(tmp_path: Path) -> None:
    w = RNG.standard_normal((3, 2, 2, 2)).astype(np.float32)
    for auto in ("SAME_UPPER", "SAME_LOWER"):
        model = _model([helper.make_node("Conv", ["x", "w"], ["y"], auto_pad=auto)], ["N", 2, 6, 6], 4, {"w": w})
        _import_and_compare(model, tmp_path)


# ---- Scale: Mul, Add, Sub, Div with a per-channel constant ----------------------------------------------------
def test_scale_layer_is_x_times_w_plus_b_per_channel() -> None:
    for shape in ([5], [4, 6], [4, 5, 6], [3, 4, 5, 2]):
        graph, inference, layer = single("Scale", shape)
        module = build_module(graph)
        conv = module.layer
        c = shape[0]
        with torch.no_grad():
            conv.weight.copy_(torch.randn_like(conv.weight))
            conv.bias.copy_(torch.randn(c))
        x = torch.randn(2, *shape)
        view = (1, c, *[1] * (len(shape) - 1))
        torch.testing.assert_close(module(x), x * conv.weight.reshape(view) + conv.bias.reshape(view))
        assert inference.outputs(layer.id)["out"].shape == tuple(shape)
        assert "groups=" in generate_source(Project(graph, "p"))


def _bn_inits(c: int) -> dict[str, np.ndarray]:
    return {"s": RNG.uniform(0.5, 1.5, c).astype(np.float32), "b": RNG.standard_normal(c).astype(np.float32),
            "m": RNG.standard_normal(c).astype(np.float32), "v": RNG.uniform(0.5, 2, c).astype(np.float32)}


@pytest.mark.parametrize("const_shape", [[4, 1, 1], [1, 4, 1, 1], [1], [], [1, 1, 1]])
def test_mul_and_add_after_batchnorm_fold_into_it(const_shape: list[int], tmp_path: Path) -> None:
    n = int(np.prod([d for d in const_shape if d != 4] or [1]))
    size = 4 if 4 in const_shape else n
    inits = {**_bn_inits(4), "w": RNG.uniform(0.5, 2, size).astype(np.float32).reshape(const_shape),
             "c": RNG.standard_normal(size).astype(np.float32).reshape(const_shape)}
    nodes = [helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["t"]),
             helper.make_node("Mul", ["t", "w"], ["u"]), helper.make_node("Add", ["u", "c"], ["y"])]
    project = _import_and_compare(_model(nodes, ["N", 4, 5, 5], 4, inits), tmp_path)
    assert _kinds(project) == ["BatchNorm2d"]


@pytest.mark.parametrize(("op", "const_first"), [("Mul", False), ("Mul", True), ("Add", True), ("Sub", False),
                                                 ("Sub", True), ("Div", False)])
def test_arithmetic_with_a_constant_after_relu_is_a_scale(op: str, const_first: bool, tmp_path: Path) -> None:
    c = RNG.uniform(0.5, 2, (3, 1, 1)).astype(np.float32)
    ins = ["c", "r"] if const_first else ["r", "c"]
    nodes = [helper.make_node("Relu", ["x"], ["r"]), helper.make_node(op, ins, ["y"], name="affine")]
    project = _import_and_compare(_model(nodes, ["N", 3, 4, 5], 4, {"c": c}), tmp_path)
    assert _kinds(project) == ["ReLU", "Scale"]


def test_scale_of_features_and_a_chain_of_two_constants_make_one_scale(tmp_path: Path) -> None:
    nodes = [helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Mul", ["r", "w"], ["u"]),
             helper.make_node("Add", ["u", "c"], ["y"])]
    inits = {"w": RNG.standard_normal(6).astype(np.float32), "c": RNG.standard_normal(6).astype(np.float32)}
    project = _import_and_compare(_model(nodes, ["N", 6], 2, inits), tmp_path)
    assert _kinds(project) == ["ReLU", "Scale"]


def test_a_constant_that_varies_along_width_is_refused_with_the_fix(tmp_path: Path) -> None:
    nodes = [helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Mul", ["r", "w"], ["y"], name="wscale")]
    model = _model(nodes, ["N", 3, 4, 5], 4, {"w": RNG.standard_normal(5).astype(np.float32)})
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    with pytest.raises(OnnxImportError) as info:
        import_onnx(path)
    message = str(info.value)
    assert "Mul node 'wscale'" in message and "not one value per channel" in message
    assert "one per channel ([C, 1, ...])" in message


# ---- ConvTranspose with asymmetric pads (a U-Net's upsampling, as some exporters write it) -----------
@pytest.mark.parametrize(("k", "s", "pads", "output_padding"), [
    (3, 2, [1, 1, 0, 0], [0, 0]),   # trims one more at the start: output_padding 1
    (4, 2, [1, 2, 1, 1], [0, 0]),   # one axis symmetric, the other trims more at its start
    (3, 2, [1, 1, 1, 1], [1, 1]),   # symmetric, with ONNX's own output_padding
    (3, 3, [2, 2, 0, 1], [0, 0]),   # trims two more at the start of one axis: under the stride of 3
])
def test_conv_transpose_with_asymmetric_pads_matches_ort(k, s, pads, output_padding, tmp_path: Path) -> None:
    w = RNG.standard_normal([4, 3, k, k]).astype(np.float32)
    bias = RNG.standard_normal([3]).astype(np.float32)
    node = helper.make_node("ConvTranspose", ["x", "w", "b"], ["y"], kernel_shape=[k, k], strides=[s, s],
                            pads=pads, output_padding=output_padding)
    project = _import_and_compare(_model([node], ["N", 4, 5, 6], 4, {"w": w, "b": bias}), tmp_path)
    assert _kinds(project) == ["ConvTranspose2d"]


def test_conv_transpose_trimming_more_at_the_end_is_refused_naming_the_fix(tmp_path: Path) -> None:
    w = RNG.standard_normal([4, 3, 3, 3]).astype(np.float32)
    node = helper.make_node("ConvTranspose", ["x", "w"], ["y"], kernel_shape=[3, 3], strides=[2, 2],
                            pads=[0, 0, 1, 1])
    path = tmp_path / "m.onnx"
    onnx.save(_model([node], ["N", 4, 5, 5], 4, {"w": w}), str(path))
    with pytest.raises(OnnxImportError, match=r"ConvTranspose.*Slice after it"):
        import_onnx(path)
