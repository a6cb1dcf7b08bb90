"""The summary's figures: hand-computed for small layers, and held against torch itself (parameter
counts and ``requires_grad`` from the compiled module, multiply-adds from torch's own FLOP counter,
model size from the weights file the project writes)."""

from __future__ import annotations

import csv
import io
import json
import struct

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from netbuilder import Edge, Graph, build_module, load_project, summarize
from netbuilder.analysis.costs import NO_MULTIPLY_ADDS, format_bytes
from netbuilder.analysis.summary import COLUMNS, CSV_COLUMNS
from netbuilder.cli import main
from netbuilder.examples import example_path
from netbuilder.files.weights import save_weights
from netbuilder.layers import CATALOG


def chain(in_shape: list[int], *layers: tuple[str, dict], dtype: str = "float32") -> Graph:
    """Input -> layers... -> Output, the layers named l0, l1, ..."""
    g = Graph()
    prev = g.add_node(g.make_node("Input", "x", {"shape": in_shape, "dtype": dtype}))
    for k, (kind, params) in enumerate(layers):
        node = g.add_node(g.make_node(kind, f"l{k}", params))
        g.connect(Edge(prev.id, "out", node.id, node.input_ports()[0].name))
        prev = node
    out = g.add_node(g.make_node("Output", "y"))
    g.connect(Edge(prev.id, "out", out.id, "in"))
    return g


def row(summary, name: str):
    return next(r for r in summary.rows if r.name == name)


# ---- hand-computed --------------------------------------------------------------------------
def test_a_linear_layer_by_hand() -> None:
    s = summarize(chain([10], ("Linear", {"out_features": 7})))
    fc = row(s, "l0")
    assert (fc.output, fc.params, fc.trainable, fc.frozen) == ("[N, 7]", 77, 77, 0)
    assert fc.macs == 10 * 7  # one multiply-add per weight; the bias is not counted
    assert fc.activation_bytes == 7 * 4
    assert (fc.size_fp32, fc.size_fp16) == (77 * 4, 77 * 2)
    assert (s.activation_bytes, s.input_bytes) == (7 * 4, 10 * 4)


def test_a_conv_and_batchnorm_by_hand() -> None:
    s = summarize(chain([3, 8, 8], ("Conv2d", {"out_channels": 4, "kernel_size": 3}), ("BatchNorm2d", {})))
    conv, bn = row(s, "l0"), row(s, "l1")
    assert (conv.output, conv.params) == ("[N, 4, 6, 6]", 4 * 3 * 3 * 3 + 4)
    assert conv.macs == (4 * 6 * 6) * (3 * 3 * 3)  # each output value: in_channels × kernel
    assert conv.activation_bytes == 4 * 6 * 6 * 4
    # BatchNorm: a scale and a shift per channel; running mean and variance (floats) and a step count (int64).
    assert (bn.params, bn.macs) == (8, 2 * 4 * 6 * 6)
    assert (bn.size_fp32, bn.size_fp16) == (16 * 4 + 8, 16 * 2 + 8)
    assert s.total_macs == conv.macs + bn.macs


def test_pooling_counts_no_multiply_adds_for_max_and_one_add_per_window_value_for_average() -> None:
    s = summarize(chain([2, 8, 8], ("MaxPool2d", {"kernel_size": 2}), ("AvgPool2d", {"kernel_size": 2})))
    assert row(s, "l0").macs == 0
    assert row(s, "l1").macs == (2 * 2 * 2) * (2 * 2)


def test_an_int64_input_takes_eight_bytes_a_value() -> None:
    s = summarize(chain([5], ("Embedding", {"num_embeddings": 100, "embedding_dim": 3}), dtype="int64"))
    assert row(s, "x").activation_bytes == 5 * 8
    emb = row(s, "l0")
    assert (emb.params, emb.macs, emb.activation_bytes) == (300, 0, 5 * 3 * 4)


def test_the_digits_cnn_totals() -> None:
    s = summarize(load_project(example_path("mnist_cnn")).graph)
    assert (s.total_params, s.trainable_params, s.frozen_params) == (93_322, 93_322, 0)
    assert s.total_macs == 26 * 26 * 32 * 9 + 11 * 11 * 64 * 32 * 9 + 3 * 3 * 64 * 64 * 9 + 576 * 64 + 64 * 10
    outputs = [32 * 26 * 26] * 2 + [32 * 13 * 13] + [64 * 11 * 11] * 2 + [64 * 5 * 5] + [576] * 3 + [64] * 2 + [10]
    assert s.activation_bytes == 4 * sum(outputs) and s.input_bytes == 4 * 28 * 28
    assert s.size_fp32 == 4 * 93_322 and s.size_fp16 == 2 * 93_322
    assert "Model size: 0.36 MiB at fp32, 0.18 MiB at fp16" in s.totals()


def test_every_catalog_kind_has_a_multiply_add_rule_or_a_stated_zero() -> None:
    for kind, spec in CATALOG.items():
        assert (spec.macs is None) == (kind in NO_MULTIPLY_ADDS), kind
    assert set(NO_MULTIPLY_ADDS) <= set(CATALOG)


# ---- against torch's FLOP counter -----------------------------------------------------------
def torch_macs(module: torch.nn.Module, *inputs: torch.Tensor, **kwargs) -> int:
    """Multiply-adds by torch's own counter (it counts 2 FLOPs per multiply-add). Training mode and no
    oneDNN, so LSTM and attention run the plain matrix products the counter sees."""
    module.train()
    was = torch.backends.mkldnn.enabled
    torch.backends.mkldnn.enabled = False  # (not mkldnn.flags(): it warns about TF32 on Intel GPUs)
    try:
        with FlopCounterMode(display=False) as counter:
            module(*inputs, **kwargs)
    finally:
        torch.backends.mkldnn.enabled = was
    return counter.get_total_flops() // 2


MATMUL_CASES = [
    ("Linear", [20], {"out_features": 7}),
    ("Linear", [5, 20], {"out_features": 7}),
    ("Conv1d", [3, 50], {"out_channels": 8, "kernel_size": 5, "stride": 2, "padding": 1}),
    ("Conv2d", [3, 32, 30], {"out_channels": 4, "kernel_size": [3, 5], "stride": [2, 1], "dilation": 2}),
    ("Conv2d", [4, 9, 9], {"out_channels": 6, "kernel_size": 3, "groups": 2, "padding": 1}),
    ("ConvTranspose2d", [4, 7, 7], {"out_channels": 2, "kernel_size": 3, "stride": 2, "padding": 1,
                                    "output_padding": 1}),
    ("RNN", [7, 5], {"hidden_size": 6}),
    ("LSTM", [7, 5], {"hidden_size": 6, "num_layers": 2, "bidirectional": True, "output": "sequence"}),
    ("GRU", [7, 5], {"hidden_size": 6, "num_layers": 3}),
    ("TransformerEncoderLayer", [5, 8], {"nhead": 2, "dim_feedforward": 16}),
]


@pytest.mark.parametrize(("kind", "shape", "params"), MATMUL_CASES, ids=[f"{c[0]}{c[1]}" for c in MATMUL_CASES])
def test_multiply_adds_equal_torchs_flop_counter(kind: str, shape: list[int], params: dict) -> None:
    graph = chain(shape, (kind, params))
    s = summarize(graph)
    module = build_module(graph)
    assert row(s, "l0").macs == s.total_macs == torch_macs(module, torch.randn(1, *shape))
    assert s.total_params == sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("kv", [None, ([9, 3], [9, 4])], ids=["self", "cross"])
def test_attention_multiply_adds_equal_torchs_flop_counter(kv) -> None:
    g = Graph()
    q = g.add_node(g.make_node("Input", "q", {"shape": [5, 8]}))
    attn = g.add_node(g.make_node("MultiheadAttention", "attn", {"num_heads": 2}))
    g.connect(Edge(q.id, "out", attn.id, "query"))
    tensors = [torch.randn(1, 5, 8)]
    if kv:
        for name, shape in zip(("key", "value"), kv, strict=True):
            node = g.add_node(g.make_node("Input", name, {"shape": shape}))
            g.connect(Edge(node.id, "out", attn.id, name))
            tensors.append(torch.randn(1, *shape))
    out = g.add_node(g.make_node("Output", "y"))
    g.connect(Edge(attn.id, "out", out.id, "in"))
    s = summarize(g)
    layer = build_module(g).get_submodule("attn")
    q_, k_, v_ = (tensors * 3)[:3] if not kv else tensors
    # need_weights computes the attention with plain matrix products, which the counter sees.
    assert row(s, "attn").macs == torch_macs(layer, q_, k_, v_, need_weights=True)


# ---- parameters from the compiled module ----------------------------------------------------
def test_frozen_layers_of_a_compiled_module_show_as_frozen() -> None:
    graph = load_project(example_path("mnist_cnn")).graph
    module = build_module(graph)
    for name in ("conv1", "conv2"):  # as a fine-tuning script freezes the early layers
        module.get_submodule(name).requires_grad_(False)
    s = summarize(graph, module=module)
    conv1 = row(s, "conv1")
    assert (conv1.params, conv1.trainable, conv1.frozen) == (320, 0, 320)
    assert s.frozen_params == 320 + 18_496 == sum(p.numel() for p in module.parameters() if not p.requires_grad)
    assert s.trainable_params == sum(p.numel() for p in module.parameters() if p.requires_grad)
    assert "Total parameters: 93,322 (trainable 74,506, frozen 18,816)" in s.totals()
    assert row(summarize(graph), "conv1").frozen == 0  # the project alone: freshly built, all trainable


def _safetensors_data_bytes(path) -> int:
    raw = path.read_bytes()
    (header_len,) = struct.unpack("<Q", raw[:8])
    return len(raw) - 8 - header_len


def test_model_size_is_what_the_weights_file_holds(tmp_path) -> None:
    graph = chain([3, 8, 8], ("Conv2d", {"out_channels": 4, "kernel_size": 3}), ("BatchNorm2d", {}),
                  ("Flatten", {}), ("Linear", {"out_features": 5}))
    s = summarize(graph)
    module = build_module(graph)
    assert s.size_fp32 == _safetensors_data_bytes(save_weights(module, tmp_path / "fp32.safetensors"))
    assert s.size_fp16 == _safetensors_data_bytes(save_weights(module.half(), tmp_path / "fp16.safetensors"))


# ---- dead rows, edits, and the copies ---------------------------------------------------------
def _with_dead_branch():
    graph = chain([10], ("Linear", {"out_features": 7}))
    dead = graph.add_node(graph.make_node("Linear", "dead", {"out_features": 1000}))
    graph.connect(Edge(graph.by_name("x").id, "out", dead.id, "in"))
    return graph


def test_dead_rows_are_left_out_of_every_total() -> None:
    s = summarize(_with_dead_branch())
    dead = row(s, "dead")
    assert not dead.compiled and dead.macs == 10_000 and dead.activation_bytes == 4000
    assert (s.total_params, s.total_macs, s.activation_bytes, s.size_fp32) == (77, 70, 28, 308)


def test_a_changed_parameter_or_input_shape_changes_the_row() -> None:
    graph = chain([10], ("Linear", {"out_features": 7}))
    assert row(summarize(graph), "l0").params == 77
    graph.set_params(graph.by_name("l0").id, {"out_features": 3})
    assert row(summarize(graph), "l0").params == 33
    graph.set_params(graph.by_name("x").id, {"shape": [4]})
    assert row(summarize(graph), "l0").params == 15


def test_csv_has_plain_numbers_and_says_which_rows_are_counted() -> None:
    s = summarize(_with_dead_branch())
    rows = list(csv.DictReader(io.StringIO(s.to_csv())))
    assert tuple(rows[0]) == CSV_COLUMNS
    by_name = {r["layer"]: r for r in rows}
    assert by_name["l0"] == {"layer": "l0", "kind": "Linear", "output_shape": "[N, 7]", "parameters": "77",
                             "trainable": "77", "frozen": "0", "multiply_adds": "70", "activation_bytes": "28",
                             "counted": "yes"}
    assert by_name["dead"]["counted"] == "no"
    assert sum(int(r["parameters"]) for r in rows if r["counted"] == "yes") == s.total_params


def test_markdown_is_a_table_with_the_totals_and_dead_rows_marked() -> None:
    s = summarize(_with_dead_branch())
    text = s.to_markdown("Tiny")
    lines = text.splitlines()
    header = lines.index("| " + " | ".join(COLUMNS) + " |")
    assert lines[header + 1].count("---") == len(COLUMNS)
    assert "| l0 | Linear | [N, 7] | 77 | 77 | 0 | 70 | 28 B |" in lines
    assert "| dead (dead: not counted) | Linear | [N, 1000] | 11,000 | 11,000 | 0 | 10,000 | 3.91 KiB |" in lines
    assert "- Total parameters: 77 (trainable 77)" in lines
    assert "- Not counted: 11,000 parameters in 1 layer(s) that reach no Output" in lines


def test_summary_command_shows_activations_and_sizes_and_prints_markdown_and_csv(capsys) -> None:
    assert main(["summary", "mnist_cnn"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[1].split() == ["name", "kind", "output", "params", "MACs", "activations"]
    conv1 = next(line for line in out.splitlines() if line.startswith("conv1"))
    assert conv1.endswith(format_bytes(32 * 26 * 26 * 4)) and "84.5 KiB" in conv1
    assert "Model size: 0.36 MiB at fp32, 0.18 MiB at fp16" in out
    s = summarize(load_project(example_path("mnist_cnn")).graph)
    assert main(["summary", "--format", "markdown", "mnist_cnn"]) == 0
    assert capsys.readouterr().out == s.to_markdown("Digits CNN")
    assert main(["summary", "--format", "csv", "mnist_cnn"]) == 0
    assert capsys.readouterr().out == s.to_csv()
    assert main(["summary", "--json", "mnist_cnn"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["size_fp32_bytes"], doc["frozen_params"]) == (4 * 93_322, 0)
    assert next(n for n in doc["nodes"] if n["name"] == "conv1")["activation_bytes"] == 32 * 26 * 26 * 4


def test_local_response_norm_counts_its_windowed_sum_of_squares() -> None:
    s = summarize(chain([4, 3, 3], ("LocalResponseNorm", {"size": 5})))
    assert row(s, "l0").macs == 5 * (4 * 3 * 3)


def test_layers_that_reach_no_output_come_last_the_rest_in_graph_order() -> None:
    # Seen on Xvfb: a stray Linear with nothing wired in was listed second, between the Input and conv1.
    project = load_project(example_path("mnist_cnn"))
    graph = project.graph
    order = [graph.node(n).name for n in graph.topological_order()]
    graph.add_node(graph.make_node("Linear", "stray", {"out_features": 3}), 0)  # first in the file
    rows = summarize(graph).rows
    names = [r.name for r in rows]
    assert names[:-1] == order and names[-1] == "stray"
    assert [r.compiled for r in rows] == [True] * len(order) + [False]
