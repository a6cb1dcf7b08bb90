"""Project loader fuzz, the reliability suite's count: 10,000 hostile project files, each timed.

Every case is one of the hostile kinds below, made from a shipped example by a seeded
``random.Random`` (the same files on every run). Each must load soundly or raise a ProjectError,
within a second; where the damage is in one place, the error names that place's JSON path (the
place itself, a value holding it, or a value inside it). The Hypothesis fuzz in
test_project_file_fuzz.py adds its 2,600 looser mutations on top.
"""

from __future__ import annotations

import copy
import json
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from netbuilder.errors import ProjectError
from netbuilder.files.project import MAX_DEPTH, Project, loads_project
from netbuilder.files.project_json import child
from netbuilder.layers import CATALOG
from tests.engine.project_samples import DOCS, RAW, json_keys
from tests.engine.test_project_file_fuzz import assert_sound

SLOWEST_ALLOWED_S = 1.0


@dataclass
class Case:
    """One hostile file; ``where`` is the JSON path of the damage when it lies in one place."""

    raw: bytes
    where: str | None = None
    says: str = ""  # a phrase the message must hold, when the kind of damage fixes one
    loop: bool = False  # a wire closing a loop was added: the error names a wire


def _dump(doc: Any) -> bytes:
    return json.dumps(doc, indent=1, ensure_ascii=False, allow_nan=True).encode("utf-8")


def _places(doc: Any, path: str = "$") -> Iterator[tuple[Any, Any, str]]:
    """Every (container, key, JSON path) in ``doc``."""
    items = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else ()
    for key, item in items:
        where = child(path, key)
        yield doc, key, where
        yield from _places(item, where)


def _example(rng: random.Random) -> dict[str, Any]:
    return copy.deepcopy(DOCS[rng.choice(sorted(DOCS))])


def _put_text(doc: dict[str, Any], rng: random.Random, text: str) -> Case:
    """``doc`` with the value at one random place written as raw JSON ``text``."""
    container, key, where = rng.choice(list(_places(doc)))
    marker = "\x00MARK\x00"
    container[key] = marker
    return Case(_dump(doc).replace(json.dumps(marker).encode(), text.encode()), where)


def truncated(rng: random.Random) -> Case:
    raw = RAW[rng.choice(sorted(RAW))]
    cut = rng.randrange(0, len(raw.rstrip()))
    return Case(raw[:cut], None, "cut short" if raw[:cut].strip() else "empty")


GARBAGE = [b"\x00", b"\xff\xfe", b"\xc3", b"\x80", b"{", b"}", b"[", b"]", b'"', b",", b":", b"\\",
           b"\\u", b"NaN", b"nul", b"\xef\xbb\xbf", b"\r\n", b"\t"]


def garbage_bytes(rng: random.Random) -> Case:
    raw = bytearray(RAW[rng.choice(sorted(RAW))])
    if rng.random() < 0.1:  # a file that is not JSON at all
        return Case(rng.randbytes(rng.randrange(1, 400)))
    for _ in range(rng.randrange(1, 4)):
        at = rng.randrange(len(raw))
        junk = rng.choice(GARBAGE) if rng.random() < 0.5 else rng.randbytes(rng.randrange(1, 9))
        if rng.random() < 0.5:
            raw[at:at + len(junk)] = junk  # overwritten
        else:
            raw[at:at] = junk  # inserted
    return Case(bytes(raw))


RETYPE: dict[str, Callable[[random.Random], Any]] = {
    "null": lambda r: None, "bool": lambda r: r.random() < 0.5, "int": lambda r: r.randint(-5, 5),
    "float": lambda r: r.uniform(-3, 3), "str": lambda r: r.choice(["", "x", "1", "true", "null", "[]"]),
    "list": lambda r: r.choice([[], [1], ["a", None], [[]]]), "dict": lambda r: r.choice([{}, {"a": 1}, {"": []}]),
}


def _kind_of(value: Any) -> str:
    return {bool: "bool", int: "int", float: "float", str: "str", list: "list", dict: "dict"}.get(type(value), "null")


def wrong_type(rng: random.Random) -> Case:
    doc = _example(rng)
    container, key, where = rng.choice(list(_places(doc)))
    kinds = [k for k in RETYPE if k != _kind_of(container[key])]
    container[key] = RETYPE[rng.choice(kinds)](rng)
    return Case(_dump(doc), where)


HUGE_TEXT = ["9" * 301, "-" + "9" * 400, "9" * 5000, "1e999", "-1e999", "1e400", "NaN", "Infinity", "-Infinity"]
HUGE_VALUES = [10**12, -(10**12), 2**31, 2**63, 2**64 + 1, 10**299, 1e308, -1e308, 5e-324, 1e9, 16777217]


def huge_number(rng: random.Random) -> Case:
    doc = _example(rng)
    if rng.random() < 0.5:  # numbers no float holds: written as text, since json.dumps cannot
        case = _put_text(doc, rng, rng.choice(HUGE_TEXT))
        return Case(case.raw, case.where, "")
    container, key, where = rng.choice(list(_places(doc)))
    container[key] = rng.choice(HUGE_VALUES)
    return Case(_dump(doc), where)


def deep_nesting(rng: random.Random) -> Case:
    doc = _example(rng)
    depth = rng.choice([MAX_DEPTH - 10, MAX_DEPTH, MAX_DEPTH + 1, 500, 5_000, 100_000])
    opener, closer = rng.choice([("[", "]"), ('{"a":', "}"), ('[{"k":', "}]")])
    inner = opener * depth + "1" + closer * depth
    return _put_text(doc, rng, inner)


UNKNOWN_KINDS = ["Linearr", "linear", "", " Linear", "Conv9d", "__import__", "os.system", "eval", "Input\x00",
                 "K" * 100, "Лiнійний", "../Linear", "Linear;rm -rf /", "None", "{}"]


def unknown_kind(rng: random.Random) -> Case:
    doc = _example(rng)
    k = rng.randrange(len(doc["graph"]["nodes"]))
    kind = rng.choice(UNKNOWN_KINDS)
    assert kind not in CATALOG
    doc["graph"]["nodes"][k]["kind"] = kind
    return Case(_dump(doc), f"$.graph.nodes[{k}].kind")


def _downstream(doc: dict[str, Any], start: str) -> set[str]:
    succ: dict[str, list[str]] = {}
    for e in doc["graph"]["edges"]:
        succ.setdefault(e["src"], []).append(e["dst"])
    seen, todo = set(), [start]
    while todo:
        for m in succ.get(todo.pop(), ()):
            if m not in seen:
                seen.add(m)
                todo.append(m)
    return seen


def cycle(rng: random.Random) -> Case:
    """A wire from a node back to one upstream of it (or to itself): the named wire is on the loop."""
    doc = _example(rng)
    ids = [n["id"] for n in doc["graph"]["nodes"]]
    up = rng.choice(ids)
    down = rng.choice(sorted(_downstream(doc, up)) or [up])
    edges = doc["graph"]["edges"]
    edges.insert(rng.randrange(len(edges) + 1),
                 {"src": down, "src_port": "out", "dst": up, "dst_port": rng.choice(["in", "in1", "h0"])})
    return Case(_dump(doc), None, "make a loop", loop=True)


def duplicate_id(rng: random.Random) -> Case:
    doc = _example(rng)
    nodes = doc["graph"]["nodes"]
    if rng.random() < 0.7:  # a second node with an id already taken, at any place in the list
        j, k = sorted(rng.sample(range(len(nodes)), 2))
        nodes[k]["id"] = nodes[j]["id"]
        return Case(_dump(doc), f"$.graph.nodes[{k}].id", "ids must be unique")
    twin = copy.deepcopy(rng.choice(nodes))  # a copy of a node, its name changed or not
    k = rng.randrange(len(nodes) + 1)
    nodes.insert(k, twin)
    first = min(i for i, n in enumerate(nodes) if n["id"] == twin["id"])
    second = max(i for i, n in enumerate(nodes) if n["id"] == twin["id"])
    assert first != second
    return Case(_dump(doc), f"$.graph.nodes[{second}].id", "ids must be unique")


def whole_file(rng: random.Random) -> Case:
    """Hostile as a whole: not an object, wrong format or version, absurd sizes."""
    doc = _example(rng)
    choice = rng.randrange(6)
    if choice == 0:
        return Case(json.dumps(rng.choice([[], "x", 1, None, True, [doc]])).encode(), None, "JSON object")
    if choice == 1:
        doc["format"] = rng.choice(["netbuilder-projekt", "", None, 1, ["netbuilder-project"]])
        return Case(_dump(doc), "$.format", "not a netbuilder project")
    if choice == 2:
        doc["version"] = rng.choice([0, -1, 2, 10**6, "1", 1.5, None, True])
        return Case(_dump(doc), "$.version")
    if choice == 3:
        doc["description"] = "d" * rng.choice([20_001, 1_000_000])
        return Case(_dump(doc), "$.description", "too long")
    if choice == 4:
        doc["graph"]["nodes"][0]["params"] = {f"p{k}": k for k in range(rng.choice([65, 1000]))}
        return Case(_dump(doc), "$.graph.nodes[0].params")
    doc[rng.choice(["extra", "Graph", "__proto__", ""])] = 1
    return Case(_dump(doc), "$", "unexpected entry")


# kind of hostile file -> how many; 10,000 in all (test_the_fuzz_counts_ten_thousand_cases).
KINDS: dict[str, tuple[Callable[[random.Random], Case], int]] = {
    "truncated": (truncated, 1200),
    "garbage bytes": (garbage_bytes, 1800),
    "wrong type": (wrong_type, 2000),
    "huge number": (huge_number, 1300),
    "deep nesting": (deep_nesting, 700),
    "unknown kind": (unknown_kind, 700),
    "cycle": (cycle, 900),
    "duplicate id": (duplicate_id, 800),
    "whole file": (whole_file, 600),
}


def _related(path: str, where: str) -> bool:
    """Whether ``path`` names the place ``where``: it, a value holding it (not the whole file), or inside it."""
    if where == "$":
        return True
    a, b = json_keys(path), json_keys(where)
    return (a[:len(b)] == b) or (bool(a) and b[:len(a)] == a)


def _load_timed(raw: bytes) -> tuple[Project | ProjectError | Exception, float]:
    start = time.perf_counter()
    try:
        result: Project | ProjectError | Exception = loads_project(raw)
    except Exception as exc:  # anything but a ProjectError is reported by _check
        result = exc
    return result, time.perf_counter() - start


def _check(case: Case, result: Project | ProjectError | Exception, elapsed: float) -> str | None:
    """None when the loader behaved; else what went wrong."""
    if not isinstance(result, (Project, ProjectError)):
        return f"{type(result).__name__}: {result}"[:300]
    if elapsed > SLOWEST_ALLOWED_S:
        return f"took {elapsed:.2f} s"
    if isinstance(result, Project):
        assert_sound(result)
        return None
    if not result.message or not result.path.startswith("$"):
        return f"an error without a message or path: {result!r}"
    if case.says and case.says not in result.message:
        return f"message {result.message!r} lacks {case.says!r}"
    if case.loop and not result.path.startswith("$.graph.edges["):
        return f"a loop named at {result.path}"
    if case.where is not None and not _related(result.path, case.where):
        return f"damage at {case.where}, error at {result.path}: {result.message[:120]}"
    return None


@pytest.mark.parametrize("kind", KINDS)
def test_hostile_project_files_raise_project_error_naming_the_place(kind: str) -> None:
    make, count = KINDS[kind]
    rng = random.Random(f"netbuilder-fuzz-{kind}")
    failures = []
    for k in range(count):
        case = make(rng)
        result, elapsed = _load_timed(case.raw)
        if (problem := _check(case, result, elapsed)) is not None:
            failures.append(f"case {k}: {problem}")
    assert failures == [], f"{len(failures)} of {count} {kind} cases failed, e.g.:\n" + "\n".join(failures[:8])


def test_the_fuzz_counts_ten_thousand_cases() -> None:
    assert sum(count for _, count in KINDS.values()) == 10_000
