"""Project files (.nbproj) as a user meets them: round trips, bad files, fuzzing, saving."""

from __future__ import annotations

import copy
import io
import json
import os
import re
import sys
import tokenize
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import netbuilder.project as project_module
from netbuilder.errors import ProjectError
from netbuilder.graph import name_problem
from netbuilder.layers import CATALOG
from netbuilder.project import (
    DEFAULT_TRAINING,
    FORMAT,
    VERSION,
    Project,
    load_project,
    loads_project,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "resources" / "examples").glob("*.nbproj"))
RAW = {p.stem: p.read_bytes() for p in EXAMPLES}
DOCS = {name: json.loads(raw) for name, raw in RAW.items()}
LINEAR = "linear_regression"  # nodes n1 Input 'x' -> n2 Linear 'linear' -> n3 Output 'y'


def doc_of(name: str = LINEAR) -> dict[str, Any]:
    return copy.deepcopy(DOCS[name])


def error_of(raw: bytes | str | dict[str, Any]) -> ProjectError:
    """The ProjectError loading ``raw`` gives; any other exception fails the test."""
    if isinstance(raw, dict):
        raw = json.dumps(raw)
    with pytest.raises(ProjectError) as info:
        loads_project(raw)
    return info.value


def test_examples_are_found() -> None:
    assert len(EXAMPLES) >= 5 and LINEAR in RAW and "mnist_cnn" in RAW


# ---- round trip --------------------------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_round_trips_through_a_saved_file(path: Path, tmp_path: Path) -> None:
    project = load_project(path)
    assert project.path == path
    original = json.loads(path.read_bytes())
    assert len(project.graph) == len(original["graph"]["nodes"])
    assert len(project.graph.edges) == len(original["graph"]["edges"])

    out = tmp_path / "copy.nbproj"
    assert project.save(out) == out
    assert project.path == out
    saved = json.loads(out.read_bytes().decode("utf-8"))
    assert saved["format"] == FORMAT == "netbuilder-project"
    assert saved["version"] == VERSION == 1
    again = load_project(out)
    assert again.to_dict() == project.to_dict()
    assert again.path == out


@pytest.mark.parametrize("name", sorted(RAW))
def test_example_saves_back_unchanged(name: str) -> None:
    # The examples spell out every value, so opening and saving one rewrites nothing.
    assert loads_project(RAW[name]).to_dict() == DOCS[name]


def test_saved_file_keeps_non_ascii_text_readable(tmp_path: Path) -> None:
    project = loads_project(RAW[LINEAR])
    project.name = "Régression → 线性"
    project.save(tmp_path / "p.nbproj")
    raw = (tmp_path / "p.nbproj").read_bytes()
    assert "Régression → 线性".encode() in raw
    assert load_project(tmp_path / "p.nbproj").name == "Régression → 线性"


def test_missing_parameters_sections_and_settings_take_defaults() -> None:
    doc = doc_of()
    del doc["graph"]["nodes"][1]["params"]["bias"]
    del doc["graph"]["nodes"][2]["params"]
    del doc["training"], doc["data"], doc["layout"], doc["name"], doc["description"]
    project = loads_project(json.dumps(doc))
    linear = project.graph.by_name("linear")
    assert linear.params == {"out_features": 1, "bias": True}
    assert project.training == DEFAULT_TRAINING
    assert project.data == {"dataset": "", "options": {}}
    assert project.name == "Untitled" and project.description == ""
    assert all(n.position == (0.0, 0.0) for n in project.graph)


def test_partial_training_settings_keep_the_rest_default() -> None:
    doc = doc_of()
    doc["training"] = {"epochs": 3}
    training = loads_project(json.dumps(doc)).training
    assert training == {**DEFAULT_TRAINING, "epochs": 3}


def test_whole_number_settings_written_with_a_point_become_whole_numbers() -> None:
    # JSON Schema counts 10.0 as an integer; the trainer must get an int for range(epochs).
    doc = doc_of()
    doc["training"].update(epochs=10.0, batch_size=16.0, seed=3.0)
    training = loads_project(json.dumps(doc)).training
    assert [type(training[k]) for k in ("epochs", "batch_size", "seed")] == [int, int, int]
    assert (training["epochs"], training["batch_size"], training["seed"]) == (10, 16, 3)


def test_utf8_byte_order_mark_is_accepted() -> None:
    project = loads_project(b"\xef\xbb\xbf" + RAW[LINEAR])
    assert project.to_dict() == DOCS[LINEAR]


def test_emoji_written_as_a_surrogate_pair_escape_loads_and_saves(tmp_path: Path) -> None:
    doc = doc_of()
    text = json.dumps(doc).replace('"Linear regression', '"\\ud83d\\ude00 Linear regression')
    project = loads_project(text)
    assert project.name.startswith("\U0001f600")
    project.save(tmp_path / "p.nbproj")
    assert load_project(tmp_path / "p.nbproj").name == project.name


# ---- files that cannot be read ------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.nbproj"
    with pytest.raises(ProjectError) as info:
        load_project(path)
    assert "no such file" in info.value.message
    assert info.value.file == str(path)
    assert str(info.value) == f"{path}: $: no such file; check the path"


def test_a_folder(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="folder"):
        load_project(tmp_path)


def test_a_file_name_with_a_nul_character() -> None:
    with pytest.raises(ProjectError, match="file name"):
        load_project("bad\0name.nbproj")


def test_empty_and_blank_files(tmp_path: Path) -> None:
    for content in (b"", b"  \n\t\n"):
        (tmp_path / "e.nbproj").write_bytes(content)
        with pytest.raises(ProjectError) as info:
            load_project(tmp_path / "e.nbproj")
        assert info.value.message.startswith("the file is empty")
        assert info.value.path == "$"


def test_file_over_the_size_limit_is_refused(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(project_module, "MAX_FILE_BYTES", 1000)
    (tmp_path / "big.nbproj").write_bytes(RAW[LINEAR])  # 1283 bytes
    with pytest.raises(ProjectError, match="larger than"):
        load_project(tmp_path / "big.nbproj")
    monkeypatch.setattr(project_module, "MAX_FILE_BYTES", len(RAW[LINEAR]))
    assert load_project(tmp_path / "big.nbproj").name.startswith("Linear regression")


def test_file_cut_in_half_says_it_looks_cut_short(tmp_path: Path) -> None:
    raw = RAW["mnist_cnn"]
    (tmp_path / "half.nbproj").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ProjectError) as info:
        load_project(tmp_path / "half.nbproj")
    assert "not valid JSON at line" in info.value.message
    assert "looks cut short" in info.value.message
    assert info.value.path == "$"


@pytest.mark.parametrize("name", sorted(RAW))
def test_every_truncation_of_an_example_looks_cut_short(name: str) -> None:
    raw = RAW[name]
    end = raw.rindex(b"}")  # cutting after the closing brace only drops whitespace
    for cut in range(1, end + 1):
        message = error_of(raw[:cut]).message
        assert "cut short" in message, (cut, raw[max(0, cut - 20):cut], message)


def test_damage_in_the_middle_is_not_called_cut_short() -> None:
    text = RAW[LINEAR].decode()
    damaged = text.replace('"version": 1,', '"version": 1,,', 1)
    message = error_of(damaged).message
    assert "damaged" in message and "cut short" not in message
    assert "line 3" in message


def test_cut_inside_a_multibyte_character() -> None:
    raw = RAW["mnist_cnn"]
    cut = raw.index("×".encode()) + 1
    message = error_of(raw[:cut]).message
    assert "not UTF-8" in message and "cut short" in message


def test_garbled_bytes_name_the_offset() -> None:
    raw = bytearray(RAW[LINEAR])
    raw[100] = 0xFF
    message = error_of(bytes(raw)).message
    assert "not UTF-8" in message and "offset 100" in message


@pytest.mark.parametrize("raw", [
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00}\x94.",  # a pickle: never unpickled
    "\u0000\u0001binary".encode(),
    b"PK\x03\x04 a zip file",
    b"<?xml version='1.0'?><project/>",
], ids=["png", "pickle", "control", "zip", "xml"])
def test_files_that_are_not_json_at_all(raw: bytes) -> None:
    err = error_of(raw)
    assert err.path == "$"
    assert "UTF-8" in err.message or "JSON" in err.message


@pytest.mark.parametrize("text", ["[]", "3", '"netbuilder-project"', "null", "true"])
def test_top_level_must_be_an_object(text: str) -> None:
    err = error_of(text)
    assert err.path == "$" and "JSON object at the top" in err.message


# ---- what the document holds --------------------------------------------------------------


def test_wrong_format_names_the_format_key() -> None:
    for fmt in ("netbuilder-projekt", None, 1):
        doc = doc_of()
        doc["format"] = fmt
        err = error_of(doc)
        assert err.path == "$.format"
        assert "not a netbuilder project" in err.message and FORMAT in err.message
    doc = doc_of()
    del doc["format"]
    assert error_of(doc).path == "$.format"


def test_newer_version_asks_to_update_netbuilder() -> None:
    doc = doc_of()
    doc["version"] = VERSION + 1
    err = error_of(doc)
    assert err.path == "$.version"
    assert "update netbuilder" in err.message and f"version {VERSION + 1}" in err.message


@pytest.mark.parametrize("version", [0, -1, "1", 1.0, 1.5, True, None, [1]])
def test_version_must_be_a_whole_number_from_1(version: Any) -> None:
    doc = doc_of()
    doc["version"] = version
    err = error_of(doc)
    assert err.path == "$.version" and "whole number" in err.message


def test_missing_version() -> None:
    doc = doc_of()
    del doc["version"]
    assert error_of(doc).path == "$.version"


def _set(doc: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = _keys(path)
    target = doc
    for key in parents:
        target = target[key]
    if value is _DELETE:
        del target[last]
    else:
        target[last] = value


_DELETE = object()


def _keys(path: str) -> list[str | int]:
    """``$.a.b[2]['c d']`` -> ['a', 'b', 2, 'c d']."""
    parts = re.findall(r"\.([A-Za-z][A-Za-z0-9_]*)|\[(\d+)\]|\['((?:[^'\\]|\\.)*)'\]", path)
    assert "$" + "".join(_spell(p) for p in parts) == path, path
    return [a or (int(b) if b else c.replace("\\'", "'").replace("\\\\", "\\")) for a, b, c in parts]


def _spell(part: tuple[str, str, str]) -> str:
    a, b, c = part
    return f".{a}" if a else f"[{b}]" if b else f"['{c}']"


# (where to change, new value, JSON path of the error, what the message must say)
BAD_VALUES = [
    ("$.graph", [], "$.graph", "must be an object, not a list"),
    ("$.graph.nodes", {}, "$.graph.nodes", "must be a list, not an object"),
    ("$.graph.edges", "none", "$.graph.edges", 'must be a list, not the text "none"'),
    ("$.graph.nodes[1]", "Linear", "$.graph.nodes[1]", "must be an object, not the text"),
    ("$.graph.nodes[1].kind", 7, "$.graph.nodes[1].kind", "must be text, not 7"),
    ("$.graph.nodes[1].id", "", "$.graph.nodes[1].id", "must not be empty"),
    ("$.graph.nodes[1].params", [1], "$.graph.nodes[1].params", "must be an object, not a list"),
    ("$.graph.edges[0].src", None, "$.graph.edges[0].src", "must be text, not null"),
    ("$.name", 5, "$.name", "must be text"),
    ("$.name", "n" * 201, "$.name", "too long (201 characters; at most 200)"),
    ("$.layout.positions.n1", [0.0], "$.layout.positions.n1", "at least 2 entries, not 1"),
    ("$.layout.positions.n1", [0.0, 1e12], "$.layout.positions.n1[1]",
     "must be at most 1000000000, not 1000000000000"),
    ("$.layout.positions.n1", [0.0, "top"], "$.layout.positions.n1[1]", "must be a number"),
    ("$.training.epochs", "10", "$.training.epochs", 'must be a whole number, not the text "10"'),
    ("$.training.epochs", 0, "$.training.epochs", "at least 1, not 0"),
    ("$.training.batch_size", 2.5, "$.training.batch_size", "must be a whole number, not 2.5"),
    ("$.training.learning_rate", 0, "$.training.learning_rate", "more than 0, not 0"),
    ("$.training.learning_rate", True, "$.training.learning_rate", "must be a number, not true"),
    ("$.training.loss", "rmse", "$.training.loss", 'one of "mse"'),
    ("$.training.device", "tpu", "$.training.device", 'not "tpu"'),
    ("$.data.options", [], "$.data.options", "must be an object"),
    ("$.graph.nodes[0].name", _DELETE, "$.graph.nodes[0]", 'required entry "name" is missing'),
    ("$.graph.edges[1].dst_port", _DELETE, "$.graph.edges[1]", '"dst_port" is missing'),
    ("$.graph", _DELETE, "$", 'required entry "graph" is missing'),
    ("$.graph.edges", _DELETE, "$.graph", 'required entry "edges" is missing'),
    # unexpected entries point at the entry itself
    ("$.extras", 1, "$.extras", 'unexpected entry "extras"; remove it'),
    ("$['my notes']", "x", "$['my notes']", 'unexpected entry "my notes"'),
    ("$.graph.nodes[0].colour", "red", "$.graph.nodes[0].colour", "allowed here: id, kind"),
    ("$.training.lr", 0.1, "$.training.lr", 'unexpected entry "lr"'),
    # layers and their parameters
    ("$.graph.nodes[1].kind", "Linaer", "$.graph.nodes[1].kind", "unknown layer kind 'Linaer'"),
    ("$.graph.nodes[1].params.out_feature", 3, "$.graph.nodes[1].params.out_feature",
     "no parameter 'out_feature' (its parameters: out_features, bias)"),
    ("$.graph.nodes[1].params['out features']", 3, "$.graph.nodes[1].params['out features']",
     "no parameter"),
    ("$.graph.nodes[1].params.out_features", "64", "$.graph.nodes[1].params.out_features",
     "out_features must be a whole number, not the text '64'"),
    ("$.graph.nodes[1].params.out_features", 1.5, "$.graph.nodes[1].params.out_features",
     "must be a whole number"),
    ("$.graph.nodes[1].params.bias", 1, "$.graph.nodes[1].params.bias", "must be true or false"),
    ("$.graph.nodes[1].params.out_features", 10**12, "$.graph.nodes[1].params.out_features",
     "must be at most 16777216, not 1000000000000"),
    ("$.graph.nodes[1].params.out_features", -5, "$.graph.nodes[1].params.out_features",
     "must be at least 1, not -5"),
    ("$.graph.nodes[1].params.out_features", 0, "$.graph.nodes[1].params.out_features",
     "at least 1"),
    ("$.graph.nodes[0].params.shape", [0], "$.graph.nodes[0].params.shape", "at least 1, not 0"),
    ("$.graph.nodes[0].params.shape", [1] * 9, "$.graph.nodes[0].params.shape", "1 to 6 entries"),
    ("$.graph.nodes[0].params.dtype", "float16", "$.graph.nodes[0].params.dtype", "one of"),
    ("$.graph.nodes[2].params.bias", True, "$.graph.nodes[2].params.bias",
     "(its parameters: none)"),
    # ids and names
    ("$.graph.nodes[2].id", "n1", "$.graph.nodes[2].id", "'n1' is used by two nodes"),
    ("$.graph.nodes[2].name", "x", "$.graph.nodes[2].name", "two nodes are named 'x'"),
    ("$.graph.nodes[1].name", "1abc", "$.graph.nodes[1].name", "must start with a letter"),
    ("$.graph.nodes[1].name", "my layer", "$.graph.nodes[1].name", "must start with a letter"),
    ("$.graph.nodes[1].name", "class", "$.graph.nodes[1].name", "reserved"),
    ("$.graph.nodes[1].name", "forward", "$.graph.nodes[1].name", "reserved"),
    ("$.graph.nodes[1].name", "", "$.graph.nodes[1].name", "must not be empty"),
    # wires
    ("$.graph.edges[0].src", "ghost", "$.graph.edges[0].src", "points at 'ghost', which is no"),
    ("$.graph.edges[1].dst", "n9", "$.graph.edges[1].dst", "'n9'"),
    ("$.graph.edges[0].src_port", "output", "$.graph.edges[0].src_port",
     "Input 'x' has no output port 'output' (outputs: out)"),
    ("$.graph.edges[0].dst_port", "input", "$.graph.edges[0].dst_port",
     "Linear 'linear' has no input port 'input' (inputs: in)"),
    ("$.graph.edges[2]", {"src": "n1", "src_port": "out", "dst": "n3", "dst_port": "in"},
     "$.graph.edges[2]", "input 'in' of 'y' already has a wire from 'linear'"),
]


@pytest.mark.parametrize(("where", "value", "path", "says"), BAD_VALUES,
                         ids=[f"{w}={str(v)[:12]}" for w, v, _, _ in BAD_VALUES])
def test_bad_value_is_reported_at_its_json_path(where, value, path, says) -> None:
    doc = doc_of()
    if where == "$.graph.edges[2]":
        doc["graph"]["edges"].append(value)
    else:
        _set(doc, where, value)
    err = error_of(doc)
    assert err.path == path, err
    assert says in err.message, err
    assert str(err) == f"{path}: {err.message}"


def test_every_error_path_in_the_table_points_into_the_document() -> None:
    # A path names keys that exist, up to the last one (which may be the missing one).
    for where, value, path, _ in BAD_VALUES:
        doc = doc_of()
        if where == "$.graph.edges[2]":
            doc["graph"]["edges"].append(value)
        else:
            _set(doc, where, value)
        assert _parent_exists(doc, path), path


def _parent_exists(doc: Any, path: str) -> bool:
    target = doc
    for key in _keys(path)[:-1]:
        try:
            target = target[key]
        except (KeyError, IndexError, TypeError):
            return False
    return True


def test_error_names_the_file_it_came_from(tmp_path: Path) -> None:
    doc = doc_of()
    doc["graph"]["nodes"][1]["params"]["out_features"] = 10**12
    path = tmp_path / "big.nbproj"
    path.write_text(json.dumps(doc))
    with pytest.raises(ProjectError) as info:
        load_project(path)
    assert info.value.file == str(path)
    assert str(info.value).startswith(f"{path}: $.graph.nodes[1].params.out_features: ")


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_written_in_the_json_are_refused(literal: str) -> None:
    text = RAW["lstm_sequence"].decode().replace('"dropout": 0.0', f'"dropout": {literal}')
    assert literal in text
    err = error_of(text)
    assert f"{literal} is not a number JSON allows" in err.message


def test_number_too_large_for_a_float_is_refused() -> None:
    # 1e400 parses to inf in Python; a project holding it could never be saved again.
    text = RAW[LINEAR].decode().replace('"options": {}', '"options": {"scale": 1e400}')
    assert "too large" in error_of(text).message


def test_whole_numbers_with_hundreds_of_digits_are_refused_plainly() -> None:
    for digits in (400, 5000):  # 5000 is past Python's own int-from-text limit
        text = RAW["lstm_sequence"].decode().replace('"dropout": 0.0', f'"dropout": {"9" * digits}')
        message = error_of(text).message
        assert f"{digits} digits" in message and "sys.set_int_max_str_digits" not in message


def test_a_lone_surrogate_escape_is_refused_where_it_is() -> None:
    text = json.dumps(doc_of()).replace('"seed-linear"', '"seed\\udc80linear"')
    err = error_of(text)
    assert err.path == "$.data.dataset" and "surrogate" in err.message
    key = json.dumps(doc_of()).replace('"options": {}', '"options": {"\\ud800": 1}')
    assert error_of(key).path == "$.data.options['\ud800']"


def _cycle_doc(extra_edges: list[tuple[str, str]]) -> dict[str, Any]:
    """Input x; Linear a, b; Output y; wires named by (src name, dst name)."""
    doc = doc_of()
    doc["graph"]["nodes"] = [
        {"id": "i", "kind": "Input", "name": "x", "params": {"shape": [3]}},
        {"id": "a", "kind": "Linear", "name": "a"},
        {"id": "b", "kind": "Linear", "name": "b"},
        {"id": "y", "kind": "Output", "name": "y"},
    ]
    doc["graph"]["edges"] = [{"src": s, "src_port": "out", "dst": d, "dst_port": "in"}
                             for s, d in extra_edges]
    doc["layout"] = {}
    return doc


def test_two_node_loop_is_named() -> None:
    err = error_of(_cycle_doc([("a", "b"), ("b", "a")]))
    assert err.message.startswith("the wires make a loop (")
    assert "a → b → a" in err.message or "b → a → b" in err.message
    assert err.path in ("$.graph.edges[0]", "$.graph.edges[1]")


def test_loop_with_a_branch_leaving_it_is_named() -> None:
    # The node after the loop is stuck too; the message names only the loop.
    err = error_of(_cycle_doc([("a", "b"), ("b", "a"), ("b", "y")]))
    assert "a → b → a" in err.message or "b → a → b" in err.message
    assert "y" not in err.message.split("(")[1].split(")")[0]


def test_wire_from_a_node_into_itself_is_a_loop() -> None:
    doc = doc_of()
    doc["graph"]["edges"].append({"src": "n2", "src_port": "out", "dst": "n2", "dst_port": "in"})
    err = error_of(doc)
    assert err.path == "$.graph.edges[2]" and "(linear → linear)" in err.message


def test_loop_through_a_merge_is_named_and_its_edge_is_on_it() -> None:
    doc = _cycle_doc([])
    doc["graph"]["nodes"].append({"id": "m", "kind": "Add", "name": "m"})
    doc["graph"]["edges"] = [
        {"src": "i", "src_port": "out", "dst": "m", "dst_port": "in1"},
        {"src": "m", "src_port": "out", "dst": "a", "dst_port": "in"},
        {"src": "a", "src_port": "out", "dst": "b", "dst_port": "in"},
        {"src": "b", "src_port": "out", "dst": "m", "dst_port": "in2"},
        {"src": "b", "src_port": "out", "dst": "y", "dst_port": "in"},
    ]
    err = error_of(doc)
    loop = err.message.split("(")[1].split(")")[0].split(" → ")
    assert sorted(set(loop)) == ["a", "b", "m"] and loop[0] == loop[-1] and len(loop) == 4
    # the reported wire is the loop's first step, e.g. edges[2] for 'a → b → m → a'
    edge = doc["graph"]["edges"][int(re.fullmatch(r"\$\.graph\.edges\[(\d)\]", err.path)[1])]
    assert (edge["src"], edge["dst"]) == (loop[0], loop[1])  # here ids equal names
    doc["graph"]["edges"].pop(3)  # break the loop: it loads
    assert len(loads_project(json.dumps(doc)).graph.edges) == 4


def test_deeply_nested_json_is_a_project_error_not_a_recursion_error() -> None:
    for text in ("[" * 100_000, "[" * 100_000 + "]" * 100_000, '{"a":' * 100_000):
        err = error_of(text)
        assert "nested too deeply" in err.message or "cut short" in err.message
    deep = "[" * 100_000 + "]" * 100_000
    assert "nested too deeply" in error_of(deep).message
    text = RAW[LINEAR].decode().replace('"options": {}', '"options": {"a": ' + deep + "}")
    assert "nested too deeply" in error_of(text).message


def test_nesting_deep_enough_to_break_saving_is_refused_on_loading() -> None:
    # 500 levels parse fine but copying or writing them back would overflow the stack.
    text = RAW[LINEAR].decode().replace('"options": {}', '"options": {"a": ' + "[" * 500
                                        + "]" * 500 + "}")
    err = error_of(text)
    assert err.path.startswith("$.data.options.a[0][0]") and "nested more than" in err.message


def test_from_dict_checks_like_loading() -> None:
    doc = doc_of()
    doc["graph"]["nodes"][1]["kind"] = "Nope"
    with pytest.raises(ProjectError) as info:
        Project.from_dict(doc)
    assert info.value.path == "$.graph.nodes[1].kind"
    assert Project.from_dict(doc_of()).to_dict() == DOCS[LINEAR]


# ---- the invariants a loaded project keeps ------------------------------------------------


def assert_sound(project: Project) -> None:
    """What the rest of netbuilder relies on after loading: a valid, saveable DAG."""
    graph = project.graph
    names = [n.name for n in graph]
    assert len(set(names)) == len(names)
    for node in graph:
        assert name_problem(node.name) is None
        spec = CATALOG[node.kind]
        assert set(node.params) == {p.name for p in spec.params}
        assert all(p.check(node.params[p.name]) is None for p in spec.params)
    taken = set()
    for e in graph.edges:
        assert e.src in graph.nodes and e.dst in graph.nodes
        assert e.src_port in graph.node(e.src).output_ports()
        assert e.dst_port in [p.name for p in graph.node(e.dst).input_ports()]
        assert (e.dst, e.dst_port) not in taken
        taken.add((e.dst, e.dst_port))
    assert len(graph.topological_order()) == len(graph)  # no loop: every node gets ordered
    again = loads_project(project.to_json().encode("utf-8"))  # and it saves and reopens
    assert again.to_dict() == project.to_dict()


JSON_SCALARS = (st.none() | st.booleans() | st.integers(-(2**70), 2**70)
                | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=10))
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                 max_size=3),
    max_leaves=6,
)
HUGE = [10**12, -(10**12), 2**31, 2**63, 10**299, -(10**299), 1e308, -1e308, 5e-324, 0, -1,
        0.5, 1e9, 1e9 + 1, 16777217, float("nan"), float("inf"), float("-inf")]


RETYPED = {"NoneType": st.none(), "bool": st.booleans(), "number": st.integers(-(2**70), 2**70)
           | st.floats(allow_nan=False), "str": st.text(max_size=10),
           "list": st.lists(JSON_VALUES, max_size=3),
           "dict": st.dictionaries(st.text(max_size=6), JSON_VALUES, max_size=3)}


def _json_kind(value: Any) -> str:
    return "number" if isinstance(value, (int, float)) and not isinstance(value, bool) else \
        type(value).__name__


def _plausible(p: Any) -> st.SearchStrategy[Any]:
    """Values near what ``p`` accepts, in range or just outside it."""
    lo = int(p.minimum) if p.minimum is not None else -2
    hi = min(int(p.maximum), lo + 12) if p.maximum is not None else lo + 12
    ints = st.integers(lo - 1, hi + 1)
    return {"int": ints, "optional_int": st.none() | ints, "bool": st.booleans(),
            "float": st.floats(lo - 0.5, hi + 0.5), "choice": st.sampled_from(p.choices or [0]),
            "int2": ints | st.lists(ints, min_size=1, max_size=3),
            "ints": st.lists(ints, min_size=p.min_len, max_size=p.max_len + 1),
            }.get(p.kind, JSON_VALUES)


def _locations(doc: Any) -> list[tuple[Any, Any]]:
    """Every (container, key) in ``doc``, deepest first (Hypothesis favours the first ones)."""
    out, stack = [], [(doc, 0)]
    while stack:
        value, depth = stack.pop()
        items = value.items() if isinstance(value, dict) else \
            enumerate(value) if isinstance(value, list) else ()
        for key, item in items:
            out.append((value, key, depth))
            stack.append((item, depth + 1))
    out.sort(key=lambda place: -place[2])
    return [(container, key) for container, key, _ in out]


def _strings(doc: Any) -> list[str]:
    places = _locations(doc)
    return [c[k] for c, k in places if isinstance(c[k], str)] + \
        [k for c, k in places if isinstance(k, str)]


# Mild mutations often leave a loadable project (checked against the invariants); rough ones
# usually break it (checked for a ProjectError). Repeats weight the draw.
MUTATIONS = ["param", "param", "drop", "node", "node", "edge", "edge", "unwire", "flip_edge",
             "delete", "retype", "huge", "string", "swap"]
OPTIONAL = {"name", "description", "layout", "training", "data", "params", "positions", "loss",
            "optimizer", "epochs", "seed", "dataset", "options"}


def _mutate(draw: Any, doc: dict[str, Any]) -> None:
    how = draw(st.sampled_from(MUTATIONS))
    graph = doc.get("graph")
    nodes, edges = (graph.get("nodes"), graph.get("edges")) if isinstance(graph, dict) else ([], [])
    nodes = [n for n in nodes if isinstance(n, dict)] if isinstance(nodes, list) else []
    edges = edges if isinstance(edges, list) else []
    ids = [n.get("id") for n in nodes] or ["n1"]
    if how == "param":
        node = draw(st.sampled_from(nodes)) if nodes else {}
        spec = CATALOG.get(node.get("kind")) if isinstance(node.get("kind"), str) else None
        if spec and spec.params and isinstance(node.setdefault("params", {}), dict):
            p = draw(st.sampled_from(spec.params))
            node["params"][p.name] = draw(_plausible(p) | _plausible(p) | JSON_VALUES)
    elif how == "drop":
        optional = [(c, k) for c, k in _locations(doc) if k in OPTIONAL and isinstance(c, dict)]
        if optional:
            container, key = draw(st.sampled_from(optional))
            del container[key]
    elif how == "node" and nodes:
        twin = copy.deepcopy(draw(st.sampled_from(nodes)))
        if draw(st.booleans()):  # a clean copy, or one whose id and name clash
            twin["id"], twin["name"] = f"d{len(nodes)}", f"dup{len(nodes)}"
        doc["graph"]["nodes"].insert(draw(st.integers(0, len(nodes))), twin)
    elif how == "edge" and isinstance(graph, dict) and isinstance(graph.get("edges"), list):
        port = st.sampled_from(["out", "in", "in", "in1", "in2", "x"])
        graph["edges"].append({"src": draw(st.sampled_from(ids)), "src_port": "out",
                               "dst": draw(st.sampled_from(ids)), "dst_port": draw(port)})
    elif how == "unwire" and edges:
        edges.pop(draw(st.integers(0, len(edges) - 1)))
    elif how == "flip_edge" and edges and isinstance(edge := draw(st.sampled_from(edges)), dict):
        edge["src"], edge["dst"] = edge.get("dst"), edge.get("src")
    elif how in ("delete", "retype", "huge", "string", "swap") and (where := _locations(doc)):
        container, key = draw(st.sampled_from(where))
        if how == "delete":
            del container[key]
        elif how == "retype":
            kinds = [k for k in RETYPED if k != _json_kind(container[key])]
            container[key] = draw(RETYPED[draw(st.sampled_from(kinds))])
        elif how == "huge":
            container[key] = draw(st.sampled_from(HUGE))
        elif how == "string":
            container[key] = draw(st.sampled_from(_strings(doc)) | st.text(max_size=8)
                                  | st.sampled_from(["", "class", "1abc", "Linear", "n1", "in"]))
        else:
            other, other_key = draw(st.sampled_from(where))
            container[key] = copy.deepcopy(other[other_key])


@st.composite
def mutated_documents(draw: Any) -> tuple[dict[str, Any], bytes]:
    doc = doc_of(draw(st.sampled_from(sorted(DOCS))))
    for _ in range(draw(st.integers(1, 3))):
        _mutate(draw, doc)
    return doc, json.dumps(doc, allow_nan=True).encode("utf-8")


def _load_or_error(raw: bytes) -> Project | ProjectError:
    try:
        project = loads_project(raw)
    except ProjectError as exc:  # anything else propagates and fails the test
        assert exc.message and exc.path.startswith("$")
        top = re.match(r"[^\[(]*", exc.path)[0][:24]
        event(f"refused at {top}")  # pytest --hypothesis-show-statistics shows the spread
        return exc
    event("loaded")
    return project


@settings(max_examples=1600, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated_documents())
def test_fuzz_mutated_documents_load_soundly_or_raise_project_error(case) -> None:
    doc, raw = case
    result = _load_or_error(raw)
    if isinstance(result, Project):
        assert_sound(result)
    else:
        assert _parent_exists(doc, result.path), (result.path, result.message)


@st.composite
def damaged_bytes(draw: Any) -> bytes:
    raw = bytearray(RAW[draw(st.sampled_from(sorted(RAW)))])
    for _ in range(draw(st.integers(1, 3))):
        how = draw(st.sampled_from(["truncate", "flip", "insert", "delete", "repeat"]))
        at = draw(st.integers(0, len(raw)))
        if how == "truncate":
            del raw[at:]
        elif how == "flip" and at < len(raw):
            raw[at] = draw(st.integers(0, 255))
        elif how == "insert":
            raw[at:at] = draw(st.binary(min_size=1, max_size=4)
                              | st.sampled_from([b"[", b"{", b"]", b'"', b",", b"NaN", b"1e999",
                                                 b"\\ud800", b"\xc3", b"\x00"]))
        elif how == "delete":
            del raw[at:at + draw(st.integers(1, 40))]
        elif how == "repeat":
            raw[at:at] = raw[at:at + draw(st.integers(1, 200))]
    return bytes(raw)


@settings(max_examples=1000, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(damaged_bytes())
def test_fuzz_damaged_bytes_load_soundly_or_raise_project_error(raw: bytes) -> None:
    result = _load_or_error(raw)
    if isinstance(result, Project):
        assert_sound(result)


def test_a_large_valid_project_loads_quickly() -> None:
    # 3000 layers in a chain: loading must stay linear, not hang.
    import time

    doc = doc_of()
    nodes = [doc["graph"]["nodes"][0]]
    edges = []
    for k in range(3000):
        nodes.append({"id": f"L{k}", "kind": "ReLU", "name": f"relu{k}"})
        edges.append({"src": nodes[-2]["id"], "src_port": "out", "dst": f"L{k}",
                      "dst_port": "in"})
    doc["graph"] = {"nodes": nodes, "edges": edges}
    doc["layout"] = {}
    start = time.perf_counter()
    project = loads_project(json.dumps(doc))
    assert len(project.graph) == 3001
    assert time.perf_counter() - start < 10


# ---- migrations ---------------------------------------------------------------------------
# Version 1 is the first real format, so the shipped MIGRATIONS is empty. These tests install
# test-only steps to exercise the mechanism the next format change will use.


def test_older_version_is_migrated_step_by_step(monkeypatch) -> None:
    ran: list[int] = []

    def one_to_two(doc: dict[str, Any]) -> dict[str, Any]:
        ran.append(doc["version"])
        doc["name"] += " (v2)"
        return doc

    def two_to_three(doc: dict[str, Any]) -> dict[str, Any]:
        ran.append(doc["version"])
        # a pretend rename: version 2 called the Linear layer's width "units"
        for node in doc["graph"]["nodes"]:
            if "units" in node.get("params", {}):
                node["params"]["out_features"] = node["params"].pop("units")
        return doc

    monkeypatch.setattr(project_module, "VERSION", 3)
    monkeypatch.setattr(project_module, "MIGRATIONS", {1: one_to_two, 2: two_to_three})
    original = doc_of()
    project = Project.from_dict(original)
    assert ran == [1, 2]
    assert project.name == "Linear regression (seed 4.1) (v2)"
    assert project.to_dict()["version"] == 3
    assert original == DOCS[LINEAR]  # the caller's document is left alone

    ran.clear()
    v2 = doc_of()
    v2["version"] = 2
    v2["graph"]["nodes"][1]["params"] = {"units": 7, "bias": False}
    project = loads_project(json.dumps(v2))
    assert ran == [2]
    assert project.graph.by_name("linear").params == {"out_features": 7, "bias": False}

    v4 = doc_of()
    v4["version"] = 4
    assert "update netbuilder" in error_of(v4).message


def test_a_migration_failing_on_a_damaged_old_file_is_a_project_error(monkeypatch) -> None:
    monkeypatch.setattr(project_module, "VERSION", 2)
    monkeypatch.setattr(project_module, "MIGRATIONS",
                        {1: lambda doc: {**doc, "nodes": doc["graph"]["nodes"]}})
    doc = doc_of()
    del doc["graph"]
    err = error_of(doc)
    assert "cannot upgrade this file from format version 1 to 2" in err.message


def test_shipped_format_is_version_1_with_no_migrations() -> None:
    assert VERSION == 1 and project_module.MIGRATIONS == {}


# ---- saving ---------------------------------------------------------------------------------


def _saved(tmp_path: Path) -> tuple[Project, Path, bytes]:
    project = loads_project(RAW[LINEAR])
    path = tmp_path / "p.nbproj"
    project.save(path)
    return project, path, path.read_bytes()


def test_saving_over_an_existing_file_replaces_it(tmp_path: Path) -> None:
    project, path, _ = _saved(tmp_path)
    project.name = "second"
    project.graph.set_params(project.graph.by_name("linear").id, {"out_features": 5})
    project.save()  # to project.path
    again = load_project(path)
    assert again.name == "second"
    assert again.graph.by_name("linear").params["out_features"] == 5
    assert os.listdir(tmp_path) == ["p.nbproj"]


def test_save_without_a_path_asks_for_one() -> None:
    project = loads_project(RAW[LINEAR])
    assert project.path is None
    with pytest.raises(ProjectError, match="choose where to save"):
        project.save()


@pytest.mark.parametrize("crash", ["replace", "fsync", "write"])
def test_crash_mid_save_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch, crash):
    project, path, before = _saved(tmp_path)
    project.name = "never written"

    def fail(*args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    if crash == "write":  # half the bytes reach the temp file, then the disk fills up
        real_fdopen = os.fdopen

        class HalfWriter(io.RawIOBase):
            def __init__(self, f: Any) -> None:
                self.f = f

            def write(self, data: Any) -> int:
                self.f.write(bytes(data[: len(data) // 2]))
                self.f.flush()
                fail()
                return 0

            def __getattr__(self, name: str) -> Any:
                return getattr(self.f, name)

            def __enter__(self) -> HalfWriter:
                return self

            def __exit__(self, *exc: Any) -> None:
                self.f.close()

        monkeypatch.setattr(project_module.os, "fdopen", lambda *a: HalfWriter(real_fdopen(*a)))
    else:
        monkeypatch.setattr(project_module.os, crash, fail)
    with pytest.raises(ProjectError) as info:
        project.save()
    monkeypatch.undo()
    assert "No space left on device" in info.value.message
    assert path.read_bytes() == before
    assert load_project(path).name == "Linear regression (seed 4.1)"
    assert os.listdir(tmp_path) == ["p.nbproj"]
    assert project.path == path


def test_interrupted_save_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch) -> None:
    project, path, before = _saved(tmp_path)
    project.name = "never written"

    def interrupt(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(project_module.os, "fsync", interrupt)
    with pytest.raises(KeyboardInterrupt):
        project.save()
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["p.nbproj"]


def test_save_into_a_missing_folder_is_a_project_error(tmp_path: Path) -> None:
    project = loads_project(RAW[LINEAR])
    target = tmp_path / "no" / "such" / "p.nbproj"
    with pytest.raises(ProjectError, match="cannot save") as info:
        project.save(target)
    assert info.value.file == str(target)
    assert project.path is None
    assert not (tmp_path / "no").exists()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_saving_keeps_the_file_permissions(tmp_path: Path) -> None:
    project, path, _ = _saved(tmp_path)
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # a new file: the usual permissions
    path.chmod(0o640)
    project.save()
    assert path.stat().st_mode & 0o777 == 0o640


@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links need privileges")
def test_saving_through_a_symbolic_link_updates_its_target(tmp_path: Path) -> None:
    project, real, _ = _saved(tmp_path)
    link = tmp_path / "link.nbproj"
    link.symlink_to(real)
    project = load_project(link)
    project.name = "via link"
    project.save()
    assert link.is_symlink()
    assert load_project(real).name == "via link"
    assert sorted(os.listdir(tmp_path)) == ["link.nbproj", "p.nbproj"]


# ---- no pickle ------------------------------------------------------------------------------

PICKLE_NAMES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "joblib", "shelve",
                "marshal"}


def pickle_uses(source: str) -> list[str]:
    """Code (not comments or docstrings) that could unpickle: modules, torch.load, torch.save."""
    found, code = [], []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.NAME and tok.string in PICKLE_NAMES:
            found.append(tok.string)
        if tok.type not in (tokenize.COMMENT, tokenize.STRING):
            code.append(tok.string)
    text = " ".join(code)
    for call in re.finditer(r"torch \. (load|save) \((.*?)\)", text):
        if call.group(1) == "save" or not re.search(r"weights_only = True", call.group(2)):
            found.append(f"torch.{call.group(1)}({call.group(2)})")
    found += re.findall(r"allow_pickle = True", text)
    return found


def test_the_pickle_check_catches_what_it_should() -> None:
    assert pickle_uses("import pickle\n") == ["pickle"]
    assert pickle_uses("from dill import loads\n") == ["dill"]
    assert pickle_uses("m = torch.load(path)\n")
    assert pickle_uses("torch.save(model, path)\n")
    assert pickle_uses("np.load(f, allow_pickle=True)\n")
    assert pickle_uses("m = torch.load(path, weights_only=True)\n") == []
    assert pickle_uses('"""Loading never unpickles; no pickle here."""\n# pickle\n') == []


def test_no_pickle_anywhere_in_netbuilder() -> None:
    sources = sorted((ROOT / "netbuilder").rglob("*.py"))
    assert len(sources) > 10
    found = {str(p.relative_to(ROOT)): uses for p in sources
             if (uses := pickle_uses(p.read_text("utf-8")))}
    assert found == {}


# ---- the documentation --------------------------------------------------------------------


def test_file_format_doc_lists_every_key_and_training_default() -> None:
    doc = (ROOT / "docs" / "file-format.md").read_text("utf-8")
    rows = {line.split("`")[1]: line for line in doc.splitlines() if line.startswith("| `")}
    schema = json.loads((ROOT / "netbuilder" / "schema" / "project.schema.json").read_text())
    for key in schema["properties"]:
        assert key in rows, key
    for key, default in DEFAULT_TRAINING.items():
        assert f"`{json.dumps(default)}`" in rows[key], rows[key]
        for allowed in schema["properties"]["training"]["properties"][key].get("enum", []):
            assert f'`"{allowed}"`' in rows[key], (key, allowed)
