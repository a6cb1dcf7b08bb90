"""Fuzzing project files: thousands of mutated files load soundly or raise ProjectError, each within a second.

Derandomized, so every run tries the same 2,600 files; test_reliability_loader_fuzz.py adds 10,000
hostile ones of named kinds.
"""

from __future__ import annotations

import copy
import json
import re
import time
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from netbuilder.errors import ProjectError
from netbuilder.files.project import (
    Project,
    loads_project,
)
from netbuilder.layers import CATALOG
from netbuilder.model.graph import name_problem
from tests.engine.project_samples import DOCS, RAW, doc_of, parent_exists

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
    start = time.perf_counter()
    try:
        project = loads_project(raw)
    except ProjectError as exc:  # anything else propagates and fails the test
        assert time.perf_counter() - start < 1.0, "one file took over a second to refuse"
        assert exc.message and exc.path.startswith("$")
        top = re.match(r"[^\[(]*", exc.path)[0][:24]
        event(f"refused at {top}")  # pytest --hypothesis-show-statistics shows the spread
        return exc
    assert time.perf_counter() - start < 1.0, "one file took over a second to load"
    event("loaded")
    return project


@settings(max_examples=1600, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated_documents())
def test_fuzz_mutated_documents_load_soundly_or_raise_project_error(case) -> None:
    doc, raw = case
    result = _load_or_error(raw)
    if isinstance(result, Project):
        assert_sound(result)
    else:
        assert parent_exists(doc, result.path), (result.path, result.message)


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


@settings(max_examples=1000, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(damaged_bytes())
def test_fuzz_damaged_bytes_load_soundly_or_raise_project_error(raw: bytes) -> None:
    result = _load_or_error(raw)
    if isinstance(result, Project):
        assert_sound(result)


def test_a_large_valid_project_loads_quickly() -> None:
    # 3000 layers in a chain: loading must stay linear, not hang.
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

