"""Fragments: a few nodes and the wires among them, as JSON for copy, paste and duplicate.

A fragment is what the clipboard carries between windows and processes. Reading one never
runs code and checks every value; turning one into edits gives the copies fresh ids, names
that do not clash with the target graph, and positions offset or centred at a point.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from typing import Any

from netbuilder.errors import NetbuilderError, ProjectError
from netbuilder.files.project_json import decode_json, structure_problem
from netbuilder.layers import CATALOG
from netbuilder.model.edits import AddNode, Connect, Edit
from netbuilder.model.graph import Edge, Graph, name_problem, name_stem

FORMAT = "netbuilder-fragment"
VERSION = 1
MAX_NODES = 10_000
MAX_COORDINATE = 1_000_000_000  # as in project files (netbuilder/files/schema/project.schema.json)


class FragmentError(NetbuilderError):
    """Text or data that is not a usable fragment; ``str(err)`` says what is wrong."""


def fragment_of(graph: Graph, node_ids: Iterable[str]) -> dict[str, Any]:
    """The nodes ``node_ids`` (in graph order) and the wires that join two of them, as a JSON-ready dict."""
    chosen = set(node_ids)
    nodes = [n for n in graph if n.id in chosen]
    return {
        "format": FORMAT,
        "version": VERSION,
        "nodes": [{"id": n.id, "kind": n.kind, "name": n.name, "params": copy.deepcopy(n.params),
                   "position": list(n.position), **({"frozen": True} if n.frozen else {})} for n in nodes],
        "edges": [e._asdict() for n in nodes for e in graph.out_edges(n.id) if e.dst in chosen],
    }


def fragment_to_json(fragment: dict[str, Any]) -> str:
    return json.dumps(fragment, indent=1, ensure_ascii=False, allow_nan=False)


def parse_fragment(raw: str | bytes | dict[str, Any]) -> dict[str, Any]:
    """A checked fragment from JSON text (or an already decoded dict); :class:`FragmentError` otherwise."""
    if isinstance(raw, dict):
        doc: Any = raw
    else:
        try:
            doc = decode_json(raw)
        except ProjectError as exc:
            raise FragmentError(f"not netbuilder layers: {exc.message.replace('the file', 'the text')}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise FragmentError("not netbuilder layers (copy some layers in netbuilder first)")
    version = doc.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= VERSION:
        raise FragmentError(f"layers copied by another netbuilder version ({version!r}); this one reads {VERSION}")
    if problem := structure_problem(doc):
        raise FragmentError(f"{problem[0]}: {problem[1]}")
    nodes, edges = doc.get("nodes"), doc.get("edges", [])
    if not isinstance(nodes, list) or not isinstance(edges, list) or len(nodes) > MAX_NODES:
        raise FragmentError("layers on the clipboard are damaged: \"nodes\" and \"edges\" must be lists")
    ids: set[str] = set()
    for k, node in enumerate(nodes):
        _check_node(node, k, ids)
    for k, edge in enumerate(edges):
        if (not isinstance(edge, dict) or set(edge) != set(Edge._fields)
                or not all(isinstance(v, str) for v in edge.values())):
            raise FragmentError(f"wire {k} on the clipboard is damaged")
        if edge["src"] not in ids or edge["dst"] not in ids:
            raise FragmentError(f"wire {k} on the clipboard joins a layer that is not there")
    return doc


def _check_node(node: Any, k: int, ids: set[str]) -> None:
    where = f"layer {k} on the clipboard"
    if not isinstance(node, dict) or not isinstance(node.get("id"), str) or node["id"] in ids:
        raise FragmentError(f"{where} is damaged (it needs a unique \"id\")")
    ids.add(node["id"])
    kind = node.get("kind")
    if kind not in CATALOG:
        raise FragmentError(f"{where} has an unknown kind {kind!r}")
    if not isinstance(node.get("name"), str):
        raise FragmentError(f"{where} has no name")
    params = node.get("params", {})
    if not isinstance(params, dict):
        raise FragmentError(f"{where}: \"params\" must be an object")
    spec = CATALOG[kind]
    merged = {**spec.defaults(), **params}
    if problem := spec.value_problem(merged):
        raise FragmentError(f"{kind} '{node['name']}' {problem}")
    if not isinstance(node.get("frozen", False), bool):
        raise FragmentError(f"{where}: \"frozen\" must be true or false")
    position = node.get("position", [0, 0])
    if (not isinstance(position, list) or len(position) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and abs(v) <= MAX_COORDINATE
                       for v in position)):
        raise FragmentError(f"{where}: \"position\" must be two numbers within ±{MAX_COORDINATE:,}")


def _fresh_name(name: str, taken: set[str]) -> str:
    """``name`` itself when free, else its stem with the lowest number that is free."""
    if name not in taken and name_problem(name) is None:
        return name
    base = name_stem(name)
    k = 1
    while f"{base}{k}" in taken or name_problem(f"{base}{k}"):
        k += 1
    return f"{base}{k}"


def paste_edits(graph: Graph, fragment: dict[str, Any], *, at: tuple[float, float] | None = None,
                offset: tuple[float, float] = (40.0, 40.0), grid: float = 10.0) -> tuple[list[Edit], list[str]]:
    """Edits that add a copy of ``fragment`` to ``graph``, and the new nodes' ids.

    The copies get fresh ids and names no node in ``graph`` (nor another copy) has. With
    ``at``, the middle of the fragment's positions lands on ``at``; otherwise every copy sits
    ``offset`` from its original. The copies keep their layout: only the move from ``at`` is
    rounded to ``grid``. Nothing is applied.
    """
    doc = parse_fragment(fragment)
    raw_nodes = doc["nodes"]
    if not raw_nodes:
        return [], []
    xs = [float(n.get("position", [0, 0])[0]) for n in raw_nodes]
    ys = [float(n.get("position", [0, 0])[1]) for n in raw_nodes]
    if at is not None:
        dx = round((at[0] - min(xs) / 2 - max(xs) / 2) / grid) * grid
        dy = round((at[1] - min(ys) / 2 - max(ys) / 2) / grid) * grid
    else:
        dx, dy = offset
    taken = {n.name for n in graph}
    new_ids: dict[str, str] = {}
    edits: list[Edit] = []
    for raw, x, y in zip(raw_nodes, xs, ys, strict=True):
        name = _fresh_name(raw["name"], taken)
        taken.add(name)
        position = (x + dx, y + dy)
        node = graph.make_node(raw["kind"], name, raw.get("params", {}), position)
        node.frozen = raw.get("frozen") is True  # a pasted copy of a frozen layer stays frozen
        new_ids[raw["id"]] = node.id
        edits.append(AddNode(node))
    for e in doc.get("edges", []):
        edits.append(Connect(new_ids[e["src"]], e["src_port"], new_ids[e["dst"]], e["dst_port"]))
    return edits, list(new_ids.values())
