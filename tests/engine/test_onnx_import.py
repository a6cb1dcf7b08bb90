"""ONNX import: models from torch's exporter and from onnx.helper run the same as in ONNX Runtime;
unsupported and hostile files give one clear OnnxImportError."""

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

from netbuilder import build_module, load_project
from netbuilder.errors import NetbuilderError
from netbuilder.model.graph import Edge, Graph
from netbuilder.onnx.importer import OnnxImportError, import_onnx

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"
RNG = np.random.default_rng(0)
F, I64 = TensorProto.FLOAT, TensorProto.INT64


# ---- helpers ----------------------------------------------------------------------------
def _w(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32) * 0.5


def _model(nodes: list, inputs: list, outputs: list, inits: dict[str, np.ndarray] | None = None,
           opset: int = 17) -> onnx.ModelProto:
    inits = [numpy_helper.from_array(v, k) for k, v in (inits or {}).items()]
    graph = helper.make_graph(nodes, "g", inputs, outputs, inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)


def _vi(name: str, shape: list, dtype: int = F) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, dtype, shape)


def _save(model: onnx.ModelProto, tmp_path: Path, name: str = "m.onnx") -> Path:
    path = tmp_path / name
    path.write_bytes(model.SerializeToString())
    return path


def _feeds(path: Path, batch: int) -> dict[str, np.ndarray]:
    """Random inputs for every graph input of ``path``, ids below 10 for int64 inputs."""
    feeds = {}
    for vi in onnx.load(str(path)).graph.input:
        shape = [batch] + [d.dim_value for d in vi.type.tensor_type.shape.dim[1:]]
        if vi.type.tensor_type.elem_type == I64:
            feeds[vi.name] = RNG.integers(0, 10, shape).astype(np.int64)
        else:
            feeds[vi.name] = RNG.standard_normal(shape).astype(np.float32)
    return feeds


def _imported_module(path: Path) -> torch.nn.Module:
    project, weights = import_onnx(path)
    module = build_module(project.graph).eval()
    module.load_state_dict(weights)  # strict: every name and shape must fit
    return module


def _outputs(module: torch.nn.Module, feeds: dict[str, np.ndarray]) -> list[torch.Tensor]:
    with torch.no_grad():
        out = module(*(torch.from_numpy(v) for v in feeds.values()))
    return list(out) if isinstance(out, tuple) else [out]


def _assert_matches_ort(path: Path, batches: tuple[int, ...] = (1, 4)) -> torch.nn.Module:
    module = _imported_module(path)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for batch in batches:
        feeds = _feeds(path, batch)
        expected = session.run(None, feeds)
        got = _outputs(module, feeds)
        assert len(got) == len(expected)
        for g, e in zip(got, expected, strict=True):
            torch.testing.assert_close(g, torch.from_numpy(e), rtol=1e-4, atol=1e-5)
    return module


def _export(module: torch.nn.Module, sample: list[torch.Tensor], path: Path, names: list[str]) -> Path:
    outputs = ["y"]
    axes = {n: {0: "N"} for n in [*names, *outputs]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, tuple(sample), str(path), dynamo=False, input_names=names,
                          output_names=outputs, dynamic_axes=axes, opset_version=17)
    return path


def _graph_module(kind: str, params: dict, shape: list[int]) -> torch.nn.Module:
    g = Graph()
    a = g.add_node(g.make_node("Input", "x", {"shape": shape}))
    b = g.add_node(g.make_node(kind, "rnn", params))
    c = g.add_node(g.make_node("Linear", "fc", {"out_features": 2}))
    d = g.add_node(g.make_node("Output", "y"))
    for src, dst in ((a, b), (b, c), (c, d)):
        g.connect(Edge(src.id, "out", dst.id, "in"))
    module = build_module(g).eval()
    with torch.no_grad():  # non-zero biases, so a mix-up of gates or biases shows
        for p in module.parameters():
            p.copy_(torch.randn_like(p) * 0.5)
    return module


# ---- torch-exported models ----------------------------------------------------------------
@pytest.mark.parametrize("example", sorted(p.stem for p in EXAMPLES.glob("*.nbproj")))
def test_example_exported_by_torch_imports_and_matches_ort(example: str, tmp_path: Path) -> None:
    project = load_project(EXAMPLES / f"{example}.nbproj")
    module = build_module(project.graph).eval()
    inputs = [n for n in project.graph if n.kind == "Input"]
    sample = [torch.randn(3, *n.params["shape"]) for n in inputs]
    path = _export(module, sample, tmp_path / "a.onnx", [n.name for n in inputs])
    imported = _assert_matches_ort(path)
    kinds = [n.kind for n in project.graph]
    new_project, weights = import_onnx(path)
    assert [n.kind for n in new_project.graph] == kinds  # the same layers, not a pile of ops
    assert set(weights) == set(module.state_dict())  # and under the same names

    # Round trip: the imported model exports to a file that runs the same as the first.
    again = _export(imported, sample, tmp_path / "b.onnx", [n.name for n in inputs])
    first = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    second = ort.InferenceSession(str(again), providers=["CPUExecutionProvider"])
    feeds = _feeds(path, 5)
    for e, g in zip(first.run(None, feeds), second.run(None, feeds), strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)
    _assert_matches_ort(again)


@pytest.mark.parametrize(("kind", "params"), [
    ("LSTM", {"hidden_size": 5, "output": "sequence"}),
    ("LSTM", {"hidden_size": 4, "num_layers": 2}),
    ("LSTM", {"hidden_size": 3, "bidirectional": True, "output": "sequence"}),
    ("GRU", {"hidden_size": 5}),
    ("GRU", {"hidden_size": 4, "output": "sequence"}),
    ("RNN", {"hidden_size": 4, "nonlinearity": "relu"}),
])
def test_recurrent_layers_exported_by_torch(kind: str, params: dict, tmp_path: Path) -> None:
    module = _graph_module(kind, params, [6, 3])
    path = _export(module, [torch.randn(2, 6, 3)], tmp_path / "r.onnx", ["x"])
    _assert_matches_ort(path)
    project, _ = import_onnx(path)
    rnns = [n for n in project.graph if n.kind == kind]
    assert len(rnns) == params.get("num_layers", 1)  # stacked layers come in as a chain
    assert rnns[-1].params["output"] == params.get("output", "last")


# ---- models made with onnx.helper ---------------------------------------------------------
def test_gemm_mlp_with_trans_b(tmp_path: Path) -> None:
    nodes = [helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], name="fc_in", transB=1),
             helper.make_node("Relu", ["h"], ["r"]),
             helper.make_node("Gemm", ["r", "w2", "b2"], ["y"], name="fc_out", alpha=0.5, beta=2.0)]
    inits = {"w1": _w(16, 8), "b1": _w(16), "w2": _w(16, 3), "b2": _w(1, 3)}  # w2 is [in, out]: transB=0
    path = _save(_model(nodes, [_vi("x", ["N", 8])], [_vi("y", ["N", 3])], inits), tmp_path)
    _assert_matches_ort(path)
    project, _ = import_onnx(path)
    assert [(n.kind, n.name) for n in project.graph] == [
        ("Input", "x"), ("Linear", "fc_in"), ("ReLU", "relu1"), ("Linear", "fc_out"), ("Output", "y")]


def test_matmul_then_add_becomes_one_linear_with_bias(tmp_path: Path) -> None:
    nodes = [helper.make_node("MatMul", ["x", "w"], ["m"]), helper.make_node("Add", ["m", "b"], ["y"])]
    path = _save(_model(nodes, [_vi("x", ["N", 7, 5])], [_vi("y", ["N", 7, 4])], {"w": _w(5, 4), "b": _w(4)}),
                 tmp_path)
    _assert_matches_ort(path)
    project, weights = import_onnx(path)
    (linear,) = [n for n in project.graph if n.kind not in ("Input", "Output")]
    assert linear.kind == "Linear" and linear.params == {"out_features": 4, "bias": True}
    assert sorted(weights) == [f"{linear.name}.bias", f"{linear.name}.weight"]


def _cnn(opset: int = 17) -> onnx.ModelProto:
    nodes = [
        helper.make_node("Conv", ["x", "cw", "cb"], ["c"], name="conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c", "s", "sh", "mu", "var"], ["bn"], epsilon=1e-3, momentum=0.8),
        helper.make_node("Relu", ["bn"], ["r"]),
        helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("GlobalAveragePool", ["p"], ["g"]),
        helper.make_node("Flatten", ["g"], ["f"], axis=1),
        helper.make_node("Gemm", ["f", "fw", "fb"], ["y"], transB=1),
    ]
    inits = {"cw": _w(6, 3, 3, 3), "cb": _w(6), "s": _w(6) + 1, "sh": _w(6), "mu": _w(6),
             "var": np.abs(_w(6)) + 0.5, "fw": _w(4, 6), "fb": _w(4)}
    return _model(nodes, [_vi("x", ["N", 3, 12, 12])], [_vi("y", ["N", 4])], inits, opset)


def test_cnn_with_batchnorm_pools_and_gemm(tmp_path: Path) -> None:
    path = _save(_cnn(), tmp_path)
    _assert_matches_ort(path)
    project, weights = import_onnx(path)
    kinds = [n.kind for n in project.graph]
    assert kinds == ["Input", "Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d", "AdaptiveAvgPool2d", "Flatten",
                     "Linear", "Output"]
    bn = next(n for n in project.graph if n.kind == "BatchNorm2d")
    assert bn.params["eps"] == pytest.approx(1e-3)
    assert bn.params["momentum"] == pytest.approx(0.2)  # ONNX weighs the old statistics, torch the new
    assert f"{bn.name}.running_var" in weights  # running statistics come along as buffers


def test_old_opset_reshape_shapes_are_folded(tmp_path: Path) -> None:
    c = helper.make_tensor
    nodes = [
        # A target computed from constants only: [0, 6 * 4] -> folded to [0, 24].
        helper.make_node("Constant", [], ["k6"], value=c("k6", I64, [1], [6])),
        helper.make_node("Constant", [], ["k4"], value=c("k4", I64, [1], [4])),
        helper.make_node("Mul", ["k6", "k4"], ["k24"]),
        helper.make_node("Constant", [], ["k0"], value=c("k0", I64, [1], [0])),
        helper.make_node("Concat", ["k0", "k24"], ["t1"], axis=0),
        helper.make_node("Reshape", ["x", "t1"], ["flat"]),
        helper.make_node("Relu", ["flat"], ["r"]),
        # A target from the batch size at run time: Shape -> Gather -> Unsqueeze -> Concat.
        helper.make_node("Shape", ["r"], ["shp"]),
        helper.make_node("Constant", [], ["i0"], value=c("i0", I64, [], [0])),
        helper.make_node("Gather", ["shp", "i0"], ["n"], axis=0),
        helper.make_node("Unsqueeze", ["n"], ["n1"], axes=[0]),
        helper.make_node("Constant", [], ["rest"], value=c("rest", I64, [2], [4, 6])),
        helper.make_node("Concat", ["n1", "rest"], ["t2"], axis=0),
        helper.make_node("Reshape", ["r", "t2"], ["grid"]),
        helper.make_node("Dropout", ["grid"], ["d"], ratio=0.3),
        helper.make_node("Identity", ["d"], ["y"]),
    ]
    path = _save(_model(nodes, [_vi("x", ["N", 2, 3, 4])], [_vi("y", ["N", 4, 6])], opset=9), tmp_path)
    _assert_matches_ort(path)
    project, _ = import_onnx(path)
    reshapes = [n.params["shape"] for n in project.graph if n.kind == "Reshape"]
    assert reshapes == [[24], [4, 6]]
    # Dropout does nothing at inference, so the optimizer drops it.
    assert {n.kind for n in project.graph} == {"Input", "Reshape", "ReLU", "Output"}


def test_branches_concat_add_mul_sum(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Gemm", ["a", "w1", "b1"], ["h1"], transB=1),
        helper.make_node("Tanh", ["h1"], ["t"]),
        helper.make_node("Sigmoid", ["b"], ["s"]),
        helper.make_node("Add", ["t", "s"], ["sum2"]),
        helper.make_node("Mul", ["t", "s"], ["prod"]),
        helper.make_node("Sum", ["t", "s", "prod"], ["sum3"]),
        helper.make_node("Concat", ["sum2", "prod", "sum3"], ["cat"], axis=-1),
        helper.make_node("Softmax", ["cat"], ["y1"], axis=1),
        helper.make_node("LogSoftmax", ["sum2"], ["y2"]),
    ]
    inputs = [_vi("a", ["N", 5]), _vi("b", ["N", 6])]
    path = _save(_model(nodes, inputs, [_vi("y1", ["N", 18]), _vi("y2", ["N", 6])], {"w1": _w(6, 5),
                                                                                      "b1": _w(6)}), tmp_path)
    _assert_matches_ort(path)
    project, _ = import_onnx(path)
    assert Counter(n.kind for n in project.graph)["Output"] == 2
    merge = next(n for n in project.graph if n.kind == "Add" and n.params["num_inputs"] == 3)
    assert len(project.graph.in_edges(merge.id)) == 3


def test_gather_on_a_table_is_an_embedding(tmp_path: Path) -> None:
    nodes = [helper.make_node("Gather", ["table", "ids"], ["e"], name="tok_embed"),
             helper.make_node("Flatten", ["e"], ["f"]),
             helper.make_node("Gemm", ["f", "w", "b"], ["y"], transB=1)]
    inits = {"table": _w(10, 4), "w": _w(3, 20), "b": _w(3)}
    path = _save(_model(nodes, [_vi("ids", ["N", 5], I64)], [_vi("y", ["N", 3])], inits), tmp_path)
    _assert_matches_ort(path)
    project, weights = import_onnx(path)
    emb = project.graph.by_name("tok_embed")
    assert emb.kind == "Embedding" and emb.params == {"num_embeddings": 10, "embedding_dim": 4}
    assert project.graph.by_name("ids").params == {"shape": [5], "dtype": "int64"}
    table = numpy_helper.to_array(onnx.load(str(path)).graph.initializer[0]).copy()
    torch.testing.assert_close(weights["tok_embed.weight"], torch.from_numpy(table))


def test_lrn_leaky_relu_global_max_pool(tmp_path: Path) -> None:
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], strides=[2, 2]),
             helper.make_node("LRN", ["c"], ["l"], size=3, alpha=1e-3, beta=0.7, bias=1.5),
             helper.make_node("LeakyRelu", ["l"], ["r"], alpha=0.2),
             helper.make_node("GlobalMaxPool", ["r"], ["g"]),
             helper.make_node("Flatten", ["g"], ["y"])]
    path = _save(_model(nodes, [_vi("x", ["N", 3, 9, 9])], [_vi("y", ["N", 6])], {"w": _w(6, 3, 3, 3)}), tmp_path)
    _assert_matches_ort(path)
    kinds = {n.kind: n.params for n in import_onnx(path)[0].graph}
    assert kinds["LocalResponseNorm"] == {"size": 3, "alpha": pytest.approx(1e-3), "beta": pytest.approx(0.7),
                                          "k": pytest.approx(1.5)}
    assert kinds["LeakyReLU"]["negative_slope"] == pytest.approx(0.2)
    assert kinds["MaxPool2d"]["kernel_size"] == 4  # global max over the 4x4 map


def test_conv1d_norms_activations_and_reshapes(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Conv", ["x", "cw", "cb"], ["c"], pads=[2, 2], dilations=[2]),
        helper.make_node("BatchNormalization", ["c", "s", "sh", "mu", "var"], ["bn"]),
        helper.make_node("PRelu", ["bn", "slope"], ["p"]),
        helper.make_node("AveragePool", ["p"], ["ap"], kernel_shape=[2], strides=[2]),
        helper.make_node("Transpose", ["ap"], ["tr"], perm=[0, 2, 1]),
        helper.make_node("MatMul", ["tr", "mw"], ["mm"]),
        helper.make_node("Elu", ["mm"], ["el"], alpha=0.7),
        helper.make_node("Selu", ["el"], ["se"]),
        helper.make_node("Softplus", ["se"], ["sp"]),
        helper.make_node("Unsqueeze", ["sp", "ax"], ["us"]),
        helper.make_node("Squeeze", ["us", "ax"], ["sq"]),
        helper.make_node("Dropout", ["sq", "ratio"], ["dr"]),
        helper.make_node("Flatten", ["dr"], ["y"]),
    ]
    inits = {"cw": _w(4, 2, 3), "cb": _w(4), "s": _w(4), "sh": _w(4), "mu": _w(4), "var": np.abs(_w(4)) + 0.1,
             "slope": np.array([0.3], np.float32), "mw": _w(4, 3), "ax": np.array([1], np.int64),
             "ratio": np.array(0.2, np.float32)}
    path = _save(_model(nodes, [_vi("x", ["N", 2, 10])], [_vi("y", ["N", 15])], inits), tmp_path)
    _assert_matches_ort(path)
    kinds = [n.kind for n in import_onnx(path)[0].graph]
    assert kinds == ["Input", "Conv1d", "BatchNorm1d", "PReLU", "AvgPool1d", "Permute", "Linear", "ELU", "SELU",
                     "Softplus", "Reshape", "Reshape", "Flatten", "Output"]


def test_conv_transpose(tmp_path: Path) -> None:
    nodes = [helper.make_node("ConvTranspose", ["x", "w", "b"], ["d"], strides=[2, 2], pads=[1, 1, 1, 1],
                              output_padding=[1, 1]),
             helper.make_node("Relu", ["d"], ["y"])]
    path = _save(_model(nodes, [_vi("x", ["N", 4, 5, 5])], [_vi("y", ["N", 3, 10, 10])],
                        {"w": _w(4, 3, 3, 3), "b": _w(3)}), tmp_path)
    _assert_matches_ort(path)


def test_add_of_a_per_channel_constant_after_conv_becomes_its_bias(tmp_path: Path) -> None:
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="stem"), helper.make_node("Add", ["c", "b"], ["y"])]
    inits = {"w": _w(5, 2, 3, 3), "b": _w(1, 5, 1, 1)}
    path = _save(_model(nodes, [_vi("x", ["N", 2, 6, 6])], [_vi("y", ["N", 5, 4, 4])], inits), tmp_path)
    _assert_matches_ort(path)
    project, _ = import_onnx(path)
    assert project.graph.by_name("stem").params["bias"] is True and len(project.graph) == 3
    # A constant that is not one value per channel has no layer to go into.
    nodes[1] = helper.make_node("Add", ["c", "b"], ["y"], name="shift")
    inits["b"] = _w(1, 5, 4, 4)
    path = _save(_model(nodes, [_vi("x", ["N", 2, 6, 6])], [_vi("y", ["N", 5, 4, 4])], inits), tmp_path)
    assert "Add node 'shift'" in _refused(path)


# ---- refusals -------------------------------------------------------------------------------
def _refused(path: Path | str) -> str:
    with pytest.raises(OnnxImportError) as info:
        import_onnx(path)
    assert isinstance(info.value, NetbuilderError)
    return str(info.value)


def test_unsupported_ops_are_listed_with_counts_and_nothing_is_written(tmp_path: Path) -> None:
    nodes = [helper.make_node("Einsum", ["x", "x"], ["e1"], equation="ij,ij->ij"),
             helper.make_node("Einsum", ["e1", "x"], ["e2"], equation="ij,ij->ij"),
             helper.make_node("TopK", ["e2", "k"], ["y", "idx"]),
             helper.make_node("Relu", ["y"], ["z"])]
    model = _model(nodes, [_vi("x", ["N", 6])], [_vi("z", ["N", 2])], {"k": np.array([2], np.int64)})
    path = _save(model, tmp_path)
    message = _refused(path)
    assert "Einsum (2)" in message and "TopK (1)" in message
    assert "Relu" not in message  # downstream of a refused node, not itself a problem
    assert [p.name for p in tmp_path.iterdir()] == ["m.onnx"]


@pytest.mark.parametrize(("pads", "expected"), [([0, 0, 1, 1], "asymmetric padding"), (None, "4-D convolution")])
def test_layer_that_has_no_faithful_equal_is_named(pads: list | None, expected: str, tmp_path: Path) -> None:
    if pads:  # a Conv pads asymmetrically with a Pad layer before it; a ConvTranspose trims, and cannot
        nodes = [helper.make_node("ConvTranspose", ["x", "w"], ["y"], name="stem", pads=pads)]
        model = _model(nodes, [_vi("x", ["N", 1, 6, 6])], [_vi("y", ["N", 2, 6, 6])], {"w": _w(1, 2, 2, 2)})
    else:
        nodes = [helper.make_node("Conv", ["x", "w"], ["y"], name="stem")]
        model = _model(nodes, [_vi("x", ["N", 1, 4, 4, 4, 4])], [_vi("y", ["N", 2, 3, 3, 3, 3])],
                       {"w": _w(2, 1, 2, 2, 2, 2)})  # 3-D has Conv3d since issue 12; 4-D has none
    message = _refused(_save(model, tmp_path))
    assert "Conv node 'stem'" in message or "ConvTranspose node 'stem'" in message
    assert expected in message


def test_cyclic_graph(tmp_path: Path) -> None:
    nodes = [helper.make_node("Add", ["x", "b"], ["a"], name="first"), helper.make_node("Relu", ["a"], ["b"])]
    message = _refused(_save(_model(nodes, [_vi("x", ["N", 3])], [_vi("b", ["N", 3])]), tmp_path))
    assert "loop" in message and "first" in message


def test_missing_initializer(tmp_path: Path) -> None:
    nodes = [helper.make_node("Gemm", ["x", "weight", "bias"], ["y"], name="fc", transB=1)]
    model = _model(nodes, [_vi("x", ["N", 3])], [_vi("y", ["N", 2])], {"weight": _w(2, 3)})
    message = _refused(_save(model, tmp_path))
    assert "'bias'" in message and "Gemm node 'fc'" in message and "missing initializer" in message


def test_tensor_declaring_a_trillion_values_is_refused_before_allocating(tmp_path: Path) -> None:
    big = TensorProto(name="w", data_type=F, dims=[10**6, 10**6], raw_data=np.zeros(4, np.float32).tobytes())
    nodes = [helper.make_node("MatMul", ["x", "w"], ["y"])]
    model = _model(nodes, [_vi("x", ["N", 10**6])], [_vi("y", ["N", 10**6])])
    model.graph.initializer.append(big)
    message = _refused(_save(model, tmp_path))
    assert "'w'" in message and "1,000,000,000,000 values" in message


def test_input_dimension_of_a_trillion(tmp_path: Path) -> None:
    nodes = [helper.make_node("Relu", ["x"], ["y"])]
    message = _refused(_save(_model(nodes, [_vi("x", ["N", 10**12])], [_vi("y", ["N", 10**12])]), tmp_path))
    assert "'x'" in message and "1,000,000,000,000" in message


def test_float_where_int64_indices_are_needed(tmp_path: Path) -> None:
    nodes = [helper.make_node("Gather", ["table", "ids"], ["y"], name="lookup")]
    model = _model(nodes, [_vi("ids", ["N", 4])], [_vi("y", ["N", 4, 3])], {"table": _w(10, 3)})
    message = _refused(_save(model, tmp_path))
    assert "Gather" in message and "float" in message


@pytest.mark.parametrize("content", [b"", b"\x00\xff garbage bytes \x13" * 50, "truncated"])
def test_garbage_truncated_and_empty_files(content: bytes | str, tmp_path: Path) -> None:
    if content == "truncated":
        content = _cnn().SerializeToString()[:700]
    path = tmp_path / "bad.onnx"
    path.write_bytes(content)
    assert "not an ONNX model" in _refused(path)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    assert "no such file" in _refused(tmp_path / "nope.onnx")
    assert "folder" in _refused(tmp_path)


# ---- layout ---------------------------------------------------------------------------------
def _wide_model(blocks: int) -> onnx.ModelProto:
    """A chain of ``blocks`` diamonds (Relu, then Tanh and Sigmoid side by side, then Add): 4 nodes each."""
    nodes, h = [], "x"
    for k in range(blocks):
        nodes += [helper.make_node("Relu", [h], [f"r{k}"], name=f"block{k}/relu"),
                  helper.make_node("Tanh", [f"r{k}"], [f"t{k}"], name=f"block{k}/tanh"),
                  helper.make_node("Sigmoid", [f"r{k}"], [f"s{k}"], name=f"block{k}/sigmoid"),
                  helper.make_node("Add", [f"t{k}", f"s{k}"], [f"h{k}"], name=f"block{k}/add")]
        h = f"h{k}"
    return _model(nodes, [_vi("x", ["N", 8])], [_vi(h, ["N", 8])])


def test_thousand_node_model_is_laid_out_without_overlaps(tmp_path: Path) -> None:
    path = _save(_wide_model(250), tmp_path)
    project, _ = import_onnx(path)
    graph = project.graph
    assert len(graph) == 1002
    positions = [n.position for n in graph]
    assert len(set(positions)) == len(positions)
    # Left to right by depth, in bands like lines of text: every wire goes rightwards or on to a later
    # band (below), and branches sit one above the other.
    assert all(graph.node(e.src).position[0] < graph.node(e.dst).position[0]
               or graph.node(e.src).position[1] < graph.node(e.dst).position[1] for e in graph.edges)
    ys = sorted({round(n.position[1]) for n in graph})
    assert ys[-1] - ys[0] > 1000  # several bands, not one row 500 columns long
    tanh, sigmoid = graph.by_name("block7_tanh"), graph.by_name("block7_sigmoid")
    assert tanh.position[0] == sigmoid.position[0] and tanh.position[1] != sigmoid.position[1]
    feeds = _feeds(path, 2)
    expected = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, feeds)[0]
    module = build_module(graph).eval()
    torch.testing.assert_close(_outputs(module, feeds)[0], torch.from_numpy(expected), rtol=1e-4, atol=1e-5)


