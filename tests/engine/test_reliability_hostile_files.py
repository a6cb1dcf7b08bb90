"""Hostile files: nothing unpickles, ONNX files cannot reach outside their folder or exhaust memory,
lying safetensors headers are refused, and broken image and CSV data name the file and the row.

Each refusal is a NetbuilderError whose message names the file (and the tensor, the row) and what
to do. The ONNX external-data rules are held in test_onnx_reader.py (``..``, absolute paths,
symbolic links, sizes); the forms added here are the ones it does not try.
"""

from __future__ import annotations

import io
import json
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tokenize
import warnings
import zlib
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

from netbuilder.data.dataset import DataError
from netbuilder.data.images import load_image_folder
from netbuilder.data.tabular import load_csv
from netbuilder.files.weights import WeightsError, load_into, read_weights
from netbuilder.training import checkpoint
from netbuilder.training.checkpoint import CheckpointError
from tests.engine.test_onnx_reader import _refused, _save, _set

ROOT = Path(__file__).resolve().parents[2]

# ---- no load path unpickles -------------------------------------------------------------------------
UNPICKLERS = "pickle|_pickle|cPickle|marshal|shelve|dill|cloudpickle|joblib"
FORBIDDEN = [
    (re.compile(rf"^\s*(?:import\s+(?:{UNPICKLERS})\b|from\s+(?:{UNPICKLERS})\b)", re.M), "imports an unpickler"),
    (re.compile(rf"\b(?:{UNPICKLERS})\.(?:loads?|Unpickler|open)\s*\("), "unpickles"),
    (re.compile(r"\bread_pickle\s*\(|\btorch\.jit\.load\s*\(|\bPackageImporter\s*\("), "unpickles"),
    (re.compile(r"^\s*from\s+(?:torch|numpy)\s+import\s+[^\n]*\bload\b", re.M), "imports a bare load"),
]
# Calls that unpickle unless told not to, and the keyword that tells them.
GUARDED = {"torch.load": "weights_only=True", "torch.serialization.load": "weights_only=True",
           "np.load": "allow_pickle=False", "numpy.load": "allow_pickle=False"}
CALL = re.compile(r"\b(" + "|".join(re.escape(name) for name in GUARDED) + r")\s*\(")


def _without_comments(source: str) -> str:
    """The source with comments blanked: a comment may name pickle; code and strings (templates of
    generated code, too) are what is scanned."""
    lines = source.splitlines(keepends=True)
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            (row, col), (_, end) = token.start, token.end
            lines[row - 1] = lines[row - 1][:col] + " " * (end - col) + lines[row - 1][end:]
    return "".join(lines)


def _arguments(text: str, start: int) -> str:
    """The text between the parenthesis at ``start - 1`` and the one that closes it."""
    depth, k = 1, start
    while k < len(text) and depth:
        depth += {"(": 1, ")": -1}.get(text[k], 0)
        k += 1
    return text[start:k - 1]


def unpickling_problems(source: str, name: str = "<source>") -> list[str]:
    text = _without_comments(source)
    found = []
    for pattern, what in FORBIDDEN:
        found += [f"{name}:{text.count(chr(10), 0, m.start()) + 1}: {what}: {m.group().strip()}"
                  for m in pattern.finditer(text)]
    for m in CALL.finditer(text):
        if GUARDED[m.group(1)] not in re.sub(r"\s", "", _arguments(text, m.end())):
            found.append(f"{name}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(1)} without "
                         f"{GUARDED[m.group(1)]}")
    return found


def test_no_load_path_unpickles() -> None:
    problems = []
    for folder in ("netbuilder", "ui"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            problems += unpickling_problems(path.read_text("utf-8"), str(path.relative_to(ROOT)))
    assert problems == []


@pytest.mark.parametrize("source", [
    "import pickle\n", "from dill import loads\n", "x = marshal.loads(b)\n", "db = shelve.open('f')\n",
    "df = pd.read_pickle(p)\n", "m = torch.jit.load(p)\n", "from torch import load\n",
    "state = torch.load(p)\n", "state = torch.load(p, weights_only=False)\n", "a = np.load(p)\n",
    "a = numpy.load(p, allow_pickle=True)\n", 'CODE = """\\n    with np.load(path) as d:\\n"""\n',
    "s = torch.load(\n    p,\n    map_location='cpu',\n)\n",
])
def test_the_scan_finds_each_way_to_unpickle(source: str) -> None:
    assert unpickling_problems(source) != []


@pytest.mark.parametrize("source", [
    "s = torch.load(p, weights_only=True)\n", "a = np.load(p, allow_pickle=False)\n",
    "s = torch.load(\n    p, map_location='cpu',\n    weights_only=True)\n", "# pickle.load(f) is never called\n",
    '"""Never pickle: weights live in safetensors files."""\n', "from safetensors.torch import load_file\n",
])
def test_the_scan_passes_safe_loads(source: str) -> None:
    assert unpickling_problems(source) == []


# ---- ONNX external data outside the model's folder ---------------------------------------------------
def _external_model(folder: Path) -> tuple[Path, onnx.ModelProto]:
    """y = x @ W with W [64, 64] in the external file w.bin beside net.onnx."""
    w = numpy_helper.from_array(np.ones((64, 64), np.float32), "W")
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "W"], ["y"], name="fc")], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 64])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 64])], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    folder.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(folder / "net.onnx"), save_as_external_data=True, location="w.bin", size_threshold=0)
    return folder / "net.onnx", onnx.load(str(folder / "net.onnx"), load_external_data=False)


@pytest.mark.parametrize(("location", "says"), [
    ("../../etc/passwd", "which leaves the model's folder"),
    ("sub/../../w.bin", "which leaves the model's folder"),
    ("..\\..\\etc\\passwd", "which leaves the model's folder"),
    ("/etc/passwd", "an absolute path"),
    ("C:\\Windows\\win.ini", "an absolute path"),
    ("\\\\server\\share\\w.bin", "an absolute path"),
    ("w.bin\0../x", "a name with a NUL character"),
    ("w.bin\0", "a name with a NUL character"),
    ("passwd-link", "is a symbolic link"),
])
def test_external_data_outside_the_models_folder_is_refused(tmp_path: Path, location: str, says: str) -> None:
    path, model = _external_model(tmp_path / "model")
    os.symlink("/etc/passwd", tmp_path / "model" / "passwd-link")
    _set(model.graph.initializer[0], location=location, offset=0)
    message = _refused(_save(model, path))
    assert message.startswith(f"{path}: tensor 'W' is stored in ") and says in message
    assert "root:" not in message  # nothing of the file it points at is shown


# ---- ONNX files declaring huge tensors or a deep graph: a clear error, bounded memory -------------
def _model(nodes: list, inputs: list, outputs: list, inits: list | None = None) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "g", inputs, outputs, inits or [])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def _vi(name: str, shape: list) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def _chain(n: int) -> onnx.ModelProto:
    nodes = [helper.make_node("Relu", [f"t{k}"], [f"t{k + 1}"], name=f"r{k}") for k in range(n)]
    return _model(nodes, [_vi("t0", ["N", 4])], [_vi(f"t{n}", ["N", 4])])


def _huge_initializer() -> onnx.ModelProto:
    w = TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[10**6, 10**6])  # 4 TB declared, no data
    return _model([helper.make_node("MatMul", ["x", "W"], ["y"], name="fc")], [_vi("x", ["N", 10**6])],
                  [_vi("y", ["N", 10**6])], [w])


def _huge_constant() -> onnx.ModelProto:
    value = TensorProto(name="c", data_type=TensorProto.FLOAT, dims=[2**20, 2**20], raw_data=b"\0" * 16)  # 4 TB
    return _model([helper.make_node("Constant", [], ["c"], name="const", value=value),
                   helper.make_node("Add", ["x", "c"], ["y"], name="add")], [_vi("x", ["N", 4])], [_vi("y", ["N", 4])])


def _varint(n: int) -> bytes:
    out = b""
    while True:
        out += bytes([n & 0x7F | (0x80 if n > 0x7F else 0)])
        n >>= 7
        if not n:
            return out


def _field(number: int, payload: bytes) -> bytes:
    """One length-delimited protobuf field."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _nested_subgraphs(path: Path, depth: int) -> None:
    """An If whose then-branch holds an If whose ... ``depth`` deep, written as protobuf bytes by hand
    (protobuf's own builder refuses past 100 levels, as its parser does)."""
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["o"], name="id")], "leaf", [],
                              [_vi("o", [4])]).SerializeToString()
    for _ in range(depth):  # GraphProto.node(1) = NodeProto{op_type(4) "If", attribute(5) {name(1), g(6), type(20)}}
        attribute = _field(1, b"then_branch") + _field(6, graph) + _varint(20 << 3) + _varint(onnx.AttributeProto.GRAPH)
        graph = _field(1, _field(1, b"cond") + _field(2, b"o") + _field(4, b"If") + _field(5, attribute))
    opset = _field(8, _varint(2 << 3) + _varint(17))
    path.write_bytes(_varint(1 << 3) + _varint(8) + opset + _field(7, graph))


def _lying_length(path: Path) -> None:
    """A graph field whose length prefix claims 1 TB in a file of a few hundred bytes."""
    raw = _chain(3).SerializeToString()
    path.write_bytes(raw[:2] + b"\x3a" + b"\x80\x80\x80\x80\x80\x20" + raw[2:])  # field 7 (graph), length 2**40


HUGE = {
    "100,000 chained nodes": (lambda p: _save(_chain(100_000), p), "the graph has 100,000 nodes"),
    "a 4 TB initializer": (lambda p: _save(_huge_initializer(), p), "tensor 'W' declares shape [1000000, 1000000]"),
    "a 4 TB Constant": (lambda p: _save(_huge_constant(), p), "tensor 'c' declares shape [1048576, 1048576]"),
    "If nested 1,000 deep": (lambda p: _nested_subgraphs(p, 1000), "not an ONNX model; the file cannot be decoded"),
    "a length prefix of 1 TB": (_lying_length, "not an ONNX model; the file cannot be decoded"),
}
PEAK_MIB = 200  # the most any of them may add to the importing process's peak memory


@pytest.mark.skipif(not hasattr(os, "wait4"), reason="each file is imported in a forked child; POSIX only")
def test_huge_tensors_and_deep_graphs_are_refused_with_bounded_memory(tmp_path: Path) -> None:
    files = {}
    for k, (name, (write, _)) in enumerate(HUGE.items()):
        files[name] = tmp_path / f"hostile{k}.onnx"
        write(files[name])
    # The control: a model with 64 MiB of weights, which the measurement must see.
    w = numpy_helper.from_array(np.ones((4096, 4096), np.float32), "W")
    files["control"] = _save(_model([helper.make_node("MatMul", ["x", "W"], ["y"], name="fc")],
                                     [_vi("x", ["N", 4096])], [_vi("y", ["N", 4096])], [w]), tmp_path / "control.onnx")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-m", "tests.engine.peak_rss_child", *map(str, files.values())],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    results = dict(zip(files, map(json.loads, done.stdout.splitlines()), strict=True))
    control = results.pop("control")
    assert control["message"] is None and control["growth_mib"] >= 64, control  # 64 MiB read: it shows
    for name, result in results.items():
        assert "uncaught" not in result, (name, result)
        assert result["message"] and result["message"].startswith(f"{files[name]}: "), (name, result)
        assert HUGE[name][1] in result["message"], (name, result["message"])
        assert result["growth_mib"] < PEAK_MIB, (name, result)
        assert result["seconds"] < 20, (name, result)


# ---- safetensors headers that lie ----------------------------------------------------------------------
def _safetensors(header: object, data: bytes = b"\0" * 16, length: int | None = None) -> bytes:
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text) if length is None else length) + text + data


W = {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}
META = {"__metadata__": {"netbuilder": "{}"}}
LYING = {
    "offsets past the end": _safetensors({**META, "weight": {**W, "data_offsets": [0, 2**40]}}),
    "a shape larger than its bytes": _safetensors({**META, "weight": {**W, "shape": [1000, 1000]}}),
    "a dtype wider than its bytes": _safetensors({**META, "weight": {**W, "dtype": "F64"}}),
    "an unknown dtype": _safetensors({**META, "weight": {**W, "dtype": "Q7"}}),
    "overlapping tensors": _safetensors({**META, "weight": W, "bias": {**W, "data_offsets": [8, 24]}}, b"\0" * 24),
    "a hole before a tensor": _safetensors({**META, "weight": {**W, "data_offsets": [8, 24]}}, b"\0" * 24),
    "a shape that overflows": _safetensors({**META, "weight": {**W, "shape": [2**62, 2**62]}}),
    "a negative dimension": _safetensors({**META, "weight": {**W, "shape": [-1, 4]}}),
    "a header length of 2**62": _safetensors({**META, "weight": W}, length=2**62),
    "a header length past the file": _safetensors({**META, "weight": W}, length=10_000),
    "a header that is no JSON": struct.pack("<Q", 5) + b"{oops" + b"\0" * 16,
    "a header that is a list": _safetensors([1, 2]),
    "metadata that is not text": _safetensors({"__metadata__": {"netbuilder": 5}, "weight": W}),
    "seven bytes": b"\x01" * 7,
}


@pytest.mark.parametrize("name", LYING)
def test_a_lying_safetensors_header_is_refused_naming_the_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / "w.safetensors"
    path.write_bytes(LYING[name])
    refused = rf"^{re.escape(str(path))}: not a safetensors file, or a damaged one \("
    for read in (read_weights, lambda p: load_into(torch.nn.Linear(2, 2), p)):
        with pytest.raises(WeightsError, match=refused):
            read(path)
    with pytest.raises(CheckpointError, match=rf"^{re.escape(str(path))}: .*write it again"):
        checkpoint.load_weights(path, torch.nn.Linear(2, 2))


def _trainer():
    from netbuilder.data.seed_data import seed_linear
    from netbuilder.files.training_settings import TrainingSettings
    from netbuilder.training.trainer import Trainer

    return Trainer(torch.nn.Linear(2, 2), seed_linear(), TrainingSettings(loss="mse", device="cpu"))


@pytest.mark.parametrize(("netbuilder_meta", "says"), [
    ('[1, 2]', "not a netbuilder checkpoint"),  # another tool's metadata under our name
    (json.dumps({"format": "netbuilder-checkpoint"}), "has no valid 'epoch'"),
    (json.dumps({"format": "netbuilder-checkpoint", "epoch": 1, "step": 2, "best_value": None, "extra": {},
                 "optimizer_groups": "adam", "optimizer_plain": {}, "scheduler": {}}), "no valid 'optimizer_groups'"),
    (json.dumps({"format": "netbuilder-checkpoint", "epoch": 1, "step": 2, "best_value": None, "extra": {},
                 "optimizer_groups": [{"lr": 1}], "optimizer_plain": {"x": {}}, "scheduler": {}}),
     "optimizer or schedule state cannot be restored"),
])
def test_a_checkpoint_with_damaged_metadata_is_refused_naming_the_file(tmp_path: Path, netbuilder_meta: str,
                                                                      says: str) -> None:
    path = tmp_path / "last.safetensors"
    layer = torch.nn.Linear(2, 2)
    header = {"__metadata__": {"netbuilder": netbuilder_meta},
              "model.bias": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
              "model.weight": {"dtype": "F32", "shape": [2, 2], "data_offsets": [8, 24]}}
    data = layer.bias.detach().numpy().tobytes() + layer.weight.detach().numpy().tobytes()
    path.write_bytes(_safetensors(header, data))
    with pytest.raises(CheckpointError) as info:
        checkpoint.resume(path, _trainer())
    assert str(info.value).startswith(f"{path}: ") and says in str(info.value)


# ---- image folders and CSV tables with broken files ------------------------------------------------
def _png(size: tuple[int, int] = (8, 8)) -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(out, "PNG")
    return out.getvalue()


def _declaring(width: int, height: int) -> bytes:
    """A valid 1×1 PNG whose header (its CRC fixed) declares ``width`` × ``height`` pixels."""
    raw = bytearray(_png((1, 1)))
    raw[16:24] = struct.pack(">II", width, height)
    raw[29:33] = struct.pack(">I", zlib.crc32(bytes(raw[12:29])))
    return bytes(raw)


BROKEN_IMAGES = {
    "a truncated PNG": (lambda: _png()[:60], "image file is truncated"),
    "a text file named .png": (lambda: b"id,label\n1,cat\n", "cannot identify image file"),
    "an empty .png": (lambda: b"", "cannot identify image file"),
    "a PNG declaring 10 billion pixels": (lambda: _declaring(100_000, 100_000), "the image is too large to read"),
    # PIL only warns below twice its limit, and would decode 300 MB from these 70 bytes
    "a PNG declaring 100 million pixels": (lambda: _declaring(10_000, 10_000), "10000 × 10000 pixels, more than"),
}


def _image_folder(root: Path, bad: bytes) -> Path:
    shutil.rmtree(root, ignore_errors=True)
    for name in ("cats", "dogs"):
        (root / name).mkdir(parents=True)
        (root / name / "a.png").write_bytes(_png())
    (root / "dogs" / "broken.png").write_bytes(bad)
    return root / "dogs" / "broken.png"


@pytest.mark.parametrize("name", BROKEN_IMAGES)
def test_a_broken_image_is_named(tmp_path: Path, name: str) -> None:
    make, says = BROKEN_IMAGES[name]
    bad = _image_folder(tmp_path / "images", make())
    with pytest.raises(DataError) as info, warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        load_image_folder(tmp_path / "images", (3, 8, 8))
    assert str(info.value).startswith(f"{bad}: ") and says in str(info.value)
    assert "remove" in str(info.value)


def test_damaged_pngs_load_or_are_named(tmp_path: Path) -> None:
    """300 PNGs with flipped bytes or cut short (seeded): each loads, or is a DataError naming it."""
    good, rng, refused = _png(), random.Random(13), 0
    for _ in range(300):
        raw = bytearray(good)
        for _ in range(rng.randrange(1, 4)):
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        bad = _image_folder(tmp_path / "images", bytes(raw[:rng.randrange(len(raw))] if rng.random() < 0.3 else raw))
        try:
            load_image_folder(tmp_path / "images", (3, 8, 8))
        except DataError as exc:
            assert str(exc).startswith(f"{bad}: "), str(exc)
            refused += 1
    assert refused > 200  # most damage is found, and said so


@pytest.mark.parametrize(("text", "says"), [
    ("a,b,c\n1,2,3\n\n\n4,5\n", "row 5 has 2 values but the header has 3 columns"),  # blank lines count
    ("a,b,c\n1,2,3\n4\n", "row 3 has 1 value but the header has 3 columns"),
    ("x,y\n1,2\n\nabc,3\n", "row 4, column 'x' holds 'abc', which is not a number"),
    ('x,y\n"1\n",2\n3,4,5\n', "row 4 has 3 values"),  # a quoted line break stays in its field
    ("x,y\r\n1,2\r\n1e999,3\r\n", "row 3, column 'x' is 1e999; use finite numbers"),
])
def test_a_broken_csv_row_is_named_by_the_line_it_is_on(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "table.csv"
    path.write_bytes(text.encode())
    with pytest.raises(DataError) as info:
        load_csv(path)
    assert str(info.value).startswith(f"{path}: ") and says in str(info.value)
