"""Reading ONNX files people have: weights computed by ConstantOfShape (the model zoo's light files),
bounded folding of value-sized ops, and weights in external data files (torch's dynamo exporter)."""

from __future__ import annotations

import os
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

from netbuilder import build_module
from netbuilder.onnx import reader
from netbuilder.onnx.importer import OnnxImportError, import_onnx

LIGHT = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"
F, I64 = TensorProto.FLOAT, TensorProto.INT64


def _session(path: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _assert_reproduces(path: Path, shape: tuple[int, ...]) -> None:
    project, weights = import_onnx(path)
    module = build_module(project.graph).eval()
    module.load_state_dict(weights)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    session = _session(path)
    expected = session.run(None, {session.get_inputs()[0].name: x})[0]
    with torch.no_grad():
        got = module(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-4)


def _refused(path: Path) -> str:
    with pytest.raises(OnnxImportError) as info:
        import_onnx(path)
    return str(info.value)


def _save(model: onnx.ModelProto, path: Path) -> Path:
    path.write_bytes(model.SerializeToString())
    return path


def _fill_model(const: str, nodes: list, inits: list, reduce: bool = False) -> onnx.ModelProto:
    """x [N, 4] + (the constant ``nodes`` compute into ``const``, summed to one value when ``reduce``), opset 17."""
    if reduce:
        nodes = [*nodes, helper.make_node("ReduceSum", [const], ["total"], name="total", keepdims=0)]
        const = "total"
    graph = helper.make_graph(
        [*nodes, helper.make_node("Add", ["x", const], ["y"], name="add")], "g",
        [helper.make_tensor_value_info("x", F, ["N", 4])],
        [helper.make_tensor_value_info("y", F, ["N", 4])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def _const_of_shape(dims: list[int], name: str = "big", out: str = "c") -> tuple[onnx.NodeProto, onnx.TensorProto]:
    shape = numpy_helper.from_array(np.array(dims, np.int64), f"{name}_shape")
    node = helper.make_node("ConstantOfShape", [shape.name], [out], name=name,
                            value=numpy_helper.from_array(np.array([0.5], np.float32)))
    return node, shape


# ---- computed weights --------------------------------------------------------------------------
def test_the_zoo_light_squeezenet_imports_with_its_computed_weights() -> None:
    """IR 3, opset 9: every weight is a ConstantOfShape of an initializer, and every initializer is
    also listed as a graph input. Both become constants, and the import reproduces ONNX Runtime."""
    path = LIGHT / "light_squeezenet.onnx"
    model = onnx.load(str(path))
    assert model.ir_version == 3 and sum(n.op_type == "ConstantOfShape" for n in model.graph.node) > 20
    project, weights = import_onnx(path)
    assert [n.kind for n in project.graph.nodes.values()].count("Input") == 1  # the weights are not inputs
    assert sum(bool((w == w.reshape(-1)[0]).all()) for w in weights.values()) > 10  # the fills, as weights
    _assert_reproduces(path, (1, 3, 224, 224))


def test_expand_tile_and_range_of_constants_are_folded(tmp_path: Path) -> None:
    base = numpy_helper.from_array(np.arange(2, dtype=np.float32).reshape(1, 2), "base")
    nodes = [helper.make_node("Expand", ["base", "two"], ["e"], name="expand"),   # [1, 2] -> [1, 2] (same)
             helper.make_node("Tile", ["e", "reps"], ["t"], name="tile"),         # -> [1, 4]
             helper.make_node("Range", ["r0", "r4", "r1"], ["r"], name="range"),  # [0, 1, 2, 3]
             helper.make_node("Add", ["t", "r"], ["c"], name="sum")]
    inits = [base, numpy_helper.from_array(np.array([1, 2], np.int64), "two"),
             numpy_helper.from_array(np.array([1, 2], np.int64), "reps"),
             *(numpy_helper.from_array(np.array(v, np.float32), f"r{v}") for v in (0, 4, 1))]
    model = _fill_model("c", nodes, inits)
    prepared, _ = reader.prepare(model, "m.onnx")
    assert [n.op_type for n in prepared.graph.node] == ["Add"]
    folded = {t.name: numpy_helper.to_array(t) for t in prepared.graph.initializer}
    np.testing.assert_array_equal(folded["c"], [[0, 2, 2, 4]])


@pytest.mark.parametrize(("nodes", "inits", "op"), [
    ([_const_of_shape([100_000, 100_000, 100_000])[0]], [_const_of_shape([100_000, 100_000, 100_000])[1]],
     "ConstantOfShape"),
    ([helper.make_node("Expand", ["one", "s"], ["c"], name="big")],
     [numpy_helper.from_array(np.ones((1, 1), np.float32), "one"),
      numpy_helper.from_array(np.array([10**9, 10**9], np.int64), "s")], "Expand"),
    ([helper.make_node("Tile", ["one", "s"], ["c"], name="big")],
     [numpy_helper.from_array(np.ones((1, 4), np.float32), "one"),
      numpy_helper.from_array(np.array([10**12, 1], np.int64), "s")], "Tile"),
    ([helper.make_node("Range", ["a", "b", "d"], ["c"], name="big")],
     [numpy_helper.from_array(np.array(0, np.float32), "a"), numpy_helper.from_array(np.array(1e15, np.float32), "b"),
      numpy_helper.from_array(np.array(1, np.float32), "d")], "Range"),
])
def test_a_hostile_value_sized_constant_is_refused_fast_without_allocating(tmp_path: Path, nodes, inits, op) -> None:
    path = _save(_fill_model("c", nodes, inits, reduce=True), tmp_path / "m.onnx")
    tracemalloc.start()
    start = time.perf_counter()
    try:
        message = _refused(path)
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert f"{op} node 'big'" in message
    assert "values" in message and "Is the file damaged?" in message
    assert seconds < 5 and peak < 64 * 2**20, (seconds, peak)


def test_the_total_folded_is_bounded(tmp_path: Path, monkeypatch) -> None:
    """Each tensor is under the per-tensor bound, but together they pass the model's weight limit."""
    monkeypatch.setattr(reader, "MAX_WEIGHT_BYTES", 1_000_000)
    nodes, inits = [], []
    for k in range(4):
        node, shape = _const_of_shape([100_000, 1], name=f"w{k}", out=f"w{k}")
        nodes.append(node)
        inits.append(shape)
    nodes += [helper.make_node("Sum", [f"w{k}" for k in range(4)], ["c"], name="sum")]
    message = _refused(_save(_fill_model("c", nodes, inits, reduce=True), tmp_path / "m.onnx"))
    assert "ConstantOfShape node 'w2'" in message
    assert "over 976.6 KiB, the most netbuilder imports" in message


def test_a_constant_matmul_too_costly_to_fold_is_refused(tmp_path: Path) -> None:
    a = numpy_helper.from_array(np.zeros((1024, 1024), np.float32), "a")
    nodes = [helper.make_node("MatMul", ["a", "a"], ["m"], name="square")]
    message = _refused(_save(_fill_model("m", nodes, [a], reduce=True), tmp_path / "m.onnx"))
    assert "MatMul node 'square'" in message and "steps" in message


# ---- external data -----------------------------------------------------------------------------
class _Net(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.fc = torch.nn.Linear(8 * 8 * 8, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.relu(self.conv(x)).flatten(1))


@pytest.fixture(scope="module")
def dynamo_export(tmp_path_factory) -> Path:
    """A model exported with torch's recommended exporter, its weights in an external data file."""
    folder = tmp_path_factory.mktemp("dynamo")
    torch.manual_seed(0)
    path = folder / "net.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(_Net().eval(), (torch.randn(2, 3, 8, 8),), str(path), dynamo=True,
                          dynamic_shapes=({0: torch.export.Dim("N")},), verbose=False)  # as a user calls it
    model = onnx.load(str(path), load_external_data=False)
    assert any(t.data_location == TensorProto.EXTERNAL for t in model.graph.initializer)
    return path


def test_a_dynamo_export_with_external_data_imports_and_reproduces(dynamo_export: Path) -> None:
    _assert_reproduces(dynamo_export, (3, 3, 8, 8))


def _hostile_copy(dynamo_export: Path, tmp_path: Path, change) -> tuple[Path, onnx.TensorProto]:
    """The dynamo model in its own folder, its data beside it, with one tensor's entry changed."""
    folder = tmp_path / "model"
    folder.mkdir()
    model = onnx.load(str(dynamo_export), load_external_data=False)
    for t in model.graph.initializer:
        if t.data_location == TensorProto.EXTERNAL:
            location = next(e.value for e in t.external_data if e.key == "location")
            break
    (folder / location).write_bytes((dynamo_export.parent / location).read_bytes())
    tensor = max((t for t in model.graph.initializer if t.data_location == TensorProto.EXTERNAL),
                 key=lambda t: int(np.prod(t.dims)))
    change(tensor, folder, tmp_path)
    return _save(model, folder / "net.onnx"), tensor


def _set(tensor: onnx.TensorProto, **values) -> None:
    entries = {e.key: e.value for e in tensor.external_data}
    entries.update({k: str(v) for k, v in values.items()})
    del tensor.external_data[:]
    for k, v in entries.items():
        tensor.external_data.add(key=k, value=v)


def _outside(tensor, folder: Path, tmp_path: Path) -> None:
    (tmp_path / "secret.bin").write_bytes(b"\0" * 10_000_000)
    _set(tensor, location="../secret.bin", offset=0)


def _absolute(tensor, folder: Path, tmp_path: Path) -> None:
    (tmp_path / "secret.bin").write_bytes(b"\0" * 10_000_000)
    _set(tensor, location=str(tmp_path / "secret.bin"), offset=0)


def _symlink(tensor, folder: Path, tmp_path: Path) -> None:
    (tmp_path / "secret.bin").write_bytes(b"\0" * 10_000_000)
    os.symlink(tmp_path / "secret.bin", folder / "link.bin")
    _set(tensor, location="link.bin", offset=0)


def _symlinked_folder(tensor, folder: Path, tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "w.bin").write_bytes(b"\0" * 10_000_000)
    os.symlink(tmp_path / "elsewhere", folder / "sub")
    _set(tensor, location="sub/w.bin", offset=0)


def _missing(tensor, folder: Path, tmp_path: Path) -> None:
    _set(tensor, location="gone.bin")


def _offset_past_end(tensor, folder: Path, tmp_path: Path) -> None:
    _set(tensor, offset=10**12)


def _length_past_end(tensor, folder: Path, tmp_path: Path) -> None:
    _set(tensor, offset=0, length=10**12)


def _shape_too_large(tensor, folder: Path, tmp_path: Path) -> None:
    tensor.dims[0] = 10**9  # the entry's length stays: the bytes cannot hold the declared shape


@pytest.mark.parametrize(("change", "says"), [
    (_outside, "which leaves the model's folder"),
    (_absolute, "an absolute path"),
    (_symlink, "'link.bin' is a symbolic link"),
    (_symlinked_folder, "'sub' is a symbolic link"),
    (_missing, "'gone.bin', which does not exist in"),
    (_offset_past_end, "at offset 1,000,000,000,000, but that file has"),
    (_length_past_end, "past that file's end"),
    (_shape_too_large, "; the data file does not match the model"),
])
def test_a_hostile_external_location_is_refused_naming_tensor_location_and_fix(dynamo_export, tmp_path, change,
                                                                               says) -> None:
    path, tensor = _hostile_copy(dynamo_export, tmp_path, change)
    tracemalloc.start()
    try:
        message = _refused(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert f"tensor '{tensor.name}' is stored in '" in message
    assert says in message
    assert any(fix in message for fix in ("import again", "export the model again", "export it again"))
    assert peak < 32 * 2**20  # nothing of the 10 MB decoys, nor of the declared sizes, was read


def test_the_external_total_is_bounded_before_reading(dynamo_export: Path, monkeypatch) -> None:
    monkeypatch.setattr(reader, "MAX_WEIGHT_BYTES", 1000)
    assert "GiB of weights" in _refused(dynamo_export)


# ---- large weights, held apart from the message --------------------------------------------------
def _linear_model(n: int, transpose: bool = False) -> onnx.ModelProto:
    """y = x @ W (+ b): W [n, n] is large enough to be held apart; through a Transpose when asked."""
    rng = np.random.default_rng(1)
    w = (rng.standard_normal((n, n)) / np.sqrt(n)).astype(np.float32)
    nodes = [helper.make_node("Transpose", ["W"], ["Wt"], name="wt", perm=[1, 0])] if transpose else []
    nodes += [helper.make_node("MatMul", ["x", "Wt" if transpose else "W"], ["m"], name="fc"),
              helper.make_node("Add", ["m", "b"], ["y"], name="bias")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", F, ["N", n])],
                              [helper.make_tensor_value_info("y", F, ["N", n])],
                              [numpy_helper.from_array(w, "W"), numpy_helper.from_array(rng.standard_normal(n)
                                                                                        .astype(np.float32), "b")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


@pytest.mark.parametrize("transpose", [False, True])
def test_large_stored_weights_import_and_reproduce(tmp_path: Path, transpose: bool) -> None:
    """W (1 MiB) is read straight from the file into its array; folded (Transpose) or used as it is."""
    _assert_reproduces(_save(_linear_model(512, transpose), tmp_path / "m.onnx"), (3, 512))


def test_the_weights_are_in_memory_about_once_while_importing(tmp_path: Path) -> None:
    """A Conv's weight (16 MiB) is read into its array and handed over as the layer's weight, uncopied."""
    w = np.random.default_rng(2).standard_normal((256, 256, 8, 8)).astype(np.float32)
    graph = helper.make_graph([helper.make_node("Conv", ["x", "W"], ["y"], name="conv", kernel_shape=[8, 8])], "g",
                              [helper.make_tensor_value_info("x", F, ["N", 256, 8, 8])],
                              [helper.make_tensor_value_info("y", F, ["N", 256, 1, 1])],
                              [numpy_helper.from_array(w, "W")])
    path = _save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8),
                 tmp_path / "m.onnx")
    del w, graph
    tracemalloc.start()
    try:
        _, got = import_onnx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1.5 * 2**24, f"peak {peak / 2**20:.1f} MiB for 16 MiB of weights"
    assert next(iter(got.values())).shape == (256, 256, 8, 8)


def test_a_large_tensor_declaring_more_than_it_holds_is_refused_before_allocating(tmp_path: Path) -> None:
    model = _linear_model(512)
    model.graph.initializer[0].dims[:] = [10**6, 10**6]  # holds 1 MiB, declares 4 TB
    tracemalloc.start()
    try:
        message = _refused(_save(model, tmp_path / "m.onnx"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "tensor 'W' declares shape [1000000, 1000000] (4,000,000,000,000 bytes) but holds 1,048,576 bytes" in message
    assert peak < 16 * 2**20


def test_a_truncated_file_is_refused_as_not_decodable(tmp_path: Path) -> None:
    data = _linear_model(512).SerializeToString()
    path = tmp_path / "m.onnx"
    path.write_bytes(data[: len(data) // 2])
    assert "not an ONNX model; the file cannot be decoded" in _refused(path)


def test_an_ir3_model_whose_opset_lift_adds_initializers_gets_to_its_ops() -> None:
    """At IR 3 every initializer must be an input; lifting torch's old ZeroPad2d export (opset 6) to 17
    turns Pad's pads into an initializer that is none, which the strict check refused. Now it imports
    (a Pad layer)."""
    path = LIGHT.parent / "pytorch-converted" / "test_ZeroPad2d" / "model.onnx"
    assert onnx.load(str(path)).ir_version == 3
    project, _ = import_onnx(path)
    assert [n.kind for n in project.graph if n.kind not in ("Input", "Output")] == ["Pad"]


def test_an_ir3_model_with_its_weights_listed_as_inputs_imports(tmp_path: Path) -> None:
    w = numpy_helper.from_array(np.arange(12, dtype=np.float32).reshape(4, 3) / 10, "W")
    b = numpy_helper.from_array(np.ones(3, np.float32), "b")
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["x", "W", "b"], ["h"], name="fc"),
         helper.make_node("Unsqueeze", ["h"], ["y"], name="up", axes=[1])], "g",
        [helper.make_tensor_value_info("x", F, ["N", 4]), helper.make_tensor_value_info("W", F, [4, 3]),
         helper.make_tensor_value_info("b", F, [3])],
        [helper.make_tensor_value_info("y", F, ["N", 1, 3])], [w, b])
    path = _save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 9)], ir_version=3),
                 tmp_path / "m.onnx")
    _assert_reproduces(path, (2, 4))


def test_a_weight_with_a_long_dimension_is_not_taken_for_an_input(tmp_path: Path) -> None:
    """Held weights stand as graph inputs in the skeleton; the input size limit is not theirs."""
    n = (1 << 24) + 16  # one more row of 16 than an input may have
    table = numpy_helper.from_array(np.zeros(n, np.float32), "table")
    graph = helper.make_graph([helper.make_node("Gather", ["table", "ids"], ["v"], name="pick", axis=0),
                               helper.make_node("Add", ["x", "v"], ["y"], name="add")], "g",
                              [helper.make_tensor_value_info("x", F, ["N", 4])],
                              [helper.make_tensor_value_info("y", F, ["N", 4])],
                              [table, numpy_helper.from_array(np.arange(4, dtype=np.int64), "ids")])
    # the table was read and the Gather folded: the Add of its [4] values is a per-feature Scale
    project, _ = import_onnx(_save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                                                     ir_version=8), tmp_path / "m.onnx"))
    assert [n.kind for n in project.graph if n.kind not in ("Input", "Output")] == ["Scale"]


def test_a_graph_past_the_node_limit_is_refused_up_front_naming_the_count_and_the_fix(tmp_path: Path) -> None:
    # Importing costs about 1.2 s and 12 MB per thousand nodes: a hostile file of a million nodes would take
    # minutes and gigabytes before saying no. Past the limit, the refusal comes before any tool reads the graph.
    count = reader.MAX_NODES + 1
    nodes = [helper.make_node("Relu", [f"v{k}"], [f"v{k + 1}"], name=f"r{k}") for k in range(count)]
    graph = helper.make_graph(nodes, "long", [helper.make_tensor_value_info("v0", F, [1, 4])],
                              [helper.make_tensor_value_info(f"v{count}", F, [1, 4])])
    path = _save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), tmp_path / "long.onnx")
    start = time.perf_counter()
    message = _refused(path)
    assert time.perf_counter() - start < 5
    assert f"the graph has {count:,} nodes; netbuilder imports graphs of up to {reader.MAX_NODES:,} nodes" in message
    assert "export a smaller part of the model" in message
    page = (Path(__file__).resolve().parents[2] / "docs" / "onnx-import.md").read_text(encoding="utf-8")
    assert page.count(f"{reader.MAX_NODES:,} nodes") >= 2, "docs/onnx-import.md states another node limit"
