"""Bad project files: each gives a ProjectError naming the JSON path and the fix."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

import netbuilder.files.project as project_module
from netbuilder.errors import ProjectError
from netbuilder.files.project import (
    FORMAT,
    VERSION,
    Project,
    load_project,
    loads_project,
)
from tests.engine.project_samples import DOCS, LINEAR, RAW, doc_of, error_of, json_keys, parent_exists

# ---- files that cannot be read ------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.nbproj"
    with pytest.raises(ProjectError) as info:
        load_project(path)
    assert "no such file" in info.value.message
    assert info.value.file == str(path)
    assert str(info.value) == f"{path}: no such file; check the path"


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
    *parents, last = json_keys(path)
    target = doc
    for key in parents:
        target = target[key]
    if value is _DELETE:
        del target[last]
    else:
        target[last] = value


_DELETE = object()


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
    ("$.graph.nodes[1].name", "class", "$.graph.nodes[1].name", "is a Python keyword; choose another"),
    ("$.graph.nodes[1].name", "forward", "$.graph.nodes[1].name", "clashes with the attribute 'forward'"),
    ("$.graph.nodes[1].name", "training", "$.graph.nodes[1].name", "clashes with the attribute 'training'"),
    ("$.graph.nodes[1].name", "_modules", "$.graph.nodes[1].name", "starts with _, where torch keeps"),
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
    assert str(err) == (f"at {path}: " if path != "$" else "") + err.message


def test_every_error_path_in_the_table_points_into_the_document() -> None:
    # A path names keys that exist, up to the last one (which may be the missing one).
    for where, value, path, _ in BAD_VALUES:
        doc = doc_of()
        if where == "$.graph.edges[2]":
            doc["graph"]["edges"].append(value)
        else:
            _set(doc, where, value)
        assert parent_exists(doc, path), path


def test_error_names_the_file_it_came_from(tmp_path: Path) -> None:
    doc = doc_of()
    doc["graph"]["nodes"][1]["params"]["out_features"] = 10**12
    path = tmp_path / "big.nbproj"
    path.write_text(json.dumps(doc))
    with pytest.raises(ProjectError) as info:
        load_project(path)
    assert info.value.file == str(path)
    assert str(info.value).startswith(f"{path}: at $.graph.nodes[1].params.out_features: ")


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

