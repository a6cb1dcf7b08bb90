"""Projects: a graph with its layout, training and data settings, in a JSON ``.nbproj`` file.

The file format is documented in docs/file-format.md and by the JSON Schema in
``netbuilder/files/schema/project.schema.json``. Loading never runs code (no pickle); every
problem in a file is a :class:`ProjectError` naming the JSON path. Saving is atomic.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from netbuilder.errors import EditRefused, ProjectError
from netbuilder.files.atomic import WriteError, write_atomic
from netbuilder.files.project_json import (
    MAX_DEPTH,
    MAX_DIGITS,
    child,
    decode_json,
    schema_problem_of,
    structure_problem,
)
from netbuilder.files.training_settings import TrainingSettings
from netbuilder.gc_pause import gc_paused
from netbuilder.layers import CATALOG
from netbuilder.model.graph import Edge, Graph, Node, name_problem

FORMAT = "netbuilder-project"
VERSION = 1
MAX_FILE_BYTES = 64 * 1024 * 1024
# MIGRATIONS[k] turns a version-k document into a version-(k+1) one. Version 1 is the
# first format, so the chain is empty; the next change of format adds its step here.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}

DEFAULT_TRAINING: dict[str, Any] = TrainingSettings().to_dict()
DEFAULT_DATA: dict[str, Any] = {"dataset": "", "options": {}}

@dataclass
class Project:
    """A graph plus everything needed to train and show it.

    Parameters
    ----------
    graph:
        The network. Node positions are the layout.
    name, description:
        Shown in the title bar and the examples list.
    training:
        Training settings (loss, optimizer, learning rate, ...), defaults filled in.
    data:
        Which data set to train on, and its options.
    path:
        Where the project was loaded from or last saved to.
    """

    graph: Graph = field(default_factory=Graph)
    name: str = "Untitled"
    description: str = ""
    training: dict[str, Any] = field(default_factory=lambda: copy.deepcopy(DEFAULT_TRAINING))
    data: dict[str, Any] = field(default_factory=lambda: copy.deepcopy(DEFAULT_DATA))
    path: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        g = self.graph
        return {
            "format": FORMAT,
            "version": VERSION,
            "name": self.name,
            "description": self.description,
            "graph": {
                "nodes": [{"id": n.id, "kind": n.kind, "name": n.name, "params": copy.deepcopy(n.params),
                           **({"frozen": True} if n.frozen else {})} for n in g],
                "edges": [e._asdict() for e in g.edges],
            },
            "layout": {"positions": {n.id: list(n.position) for n in g}},
            "training": copy.deepcopy(self.training),
            "data": copy.deepcopy(self.data),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, ensure_ascii=False, allow_nan=False) + "\n"

    def save(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Write the project atomically: a crash mid-save leaves the old file loadable."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ProjectError("no file name given; choose where to save the project")
        try:
            write_atomic(target, self.to_json().encode("utf-8"))
        except WriteError as exc:  # the folder: named in the reason, and nothing was written
            raise ProjectError(f"cannot save the project: {exc.reason}", file=str(target)) from None
        except OSError as exc:
            raise ProjectError(f"cannot save the project ({exc.strerror or exc}); any file that was "
                               "there is unchanged", file=str(target)) from None
        self.path = target
        return target

    @classmethod
    def from_dict(cls, doc: Any, file: str | None = None) -> Project:
        return _parse(doc, file)


def load_project(path: str | os.PathLike[str]) -> Project:
    """Read a ``.nbproj`` file. Raises :class:`ProjectError` for anything wrong with it."""
    file = str(path)
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ProjectError("no such file; check the path", file=file) from None
    except IsADirectoryError:
        raise ProjectError("this is a folder, not a project file", file=file) from None
    except OSError as exc:
        raise ProjectError(f"cannot read the file ({exc.strerror or exc})", file=file) from None
    except ValueError as exc:  # a NUL character in the name
        raise ProjectError(f"not a usable file name ({exc})", file=file) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ProjectError(f"the file is larger than {MAX_FILE_BYTES // 2**20} MiB; "
                           "it is not a project file", file=file)
    project = loads_project(raw, file)
    project.path = Path(path)
    return project


def loads_project(raw: bytes | str, file: str | None = None) -> Project:
    """Parse a project from the bytes or text of a ``.nbproj`` file."""
    with gc_paused():  # a large project is many small objects, none of them garbage yet
        return _parse(decode_json(raw, file), file)


def _parse(doc: Any, file: str | None) -> Project:
    if not isinstance(doc, dict):
        raise ProjectError("a project file holds a JSON object at the top", file=file)
    if doc.get("format") != FORMAT:
        raise ProjectError(f"this is not a netbuilder project (its \"format\" should be "
                           f"{FORMAT!r})", "$.format", file)
    version = doc.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ProjectError("\"version\" must be a whole number, 1 or more", "$.version", file)
    if version > VERSION:
        raise ProjectError(f"saved by a newer netbuilder (format version {version}; this one reads "
                           f"up to {VERSION}): update netbuilder to open it", "$.version", file)
    if problem := structure_problem(doc):
        raise ProjectError(problem[1], problem[0], file)
    while version < VERSION:
        try:
            doc = MIGRATIONS[version](copy.deepcopy(doc))
        except Exception as exc:  # a migration step meeting a damaged old file
            raise ProjectError(f"cannot upgrade this file from format version {version} to "
                               f"{version + 1} ({type(exc).__name__}: {exc}); the file is damaged",
                               "$", file) from None
        version += 1
        doc["version"] = version
    if problem := schema_problem_of(doc):
        raise ProjectError(*problem, file)
    return _build(doc, file)


def _build(doc: dict[str, Any], file: str | None) -> Project:
    graph = Graph()
    positions = doc.get("layout", {}).get("positions", {})
    for k, raw in enumerate(doc["graph"]["nodes"]):
        where = f"$.graph.nodes[{k}]"
        kind = raw["kind"]
        if kind not in CATALOG:
            raise ProjectError(f"unknown layer kind {kind!r}; known kinds: {', '.join(CATALOG)}",
                               f"{where}.kind", file)
        spec = CATALOG[kind]
        if raw["id"] in graph.nodes:
            raise ProjectError(f"the id {raw['id']!r} is used by two nodes; ids must be unique",
                               f"{where}.id", file)
        if problem := name_problem(raw["name"]):
            raise ProjectError(problem, f"{where}.name", file)
        if graph.by_name(raw["name"]) is not None:
            raise ProjectError(f"two nodes are named {raw['name']!r}; rename one",
                               f"{where}.name", file)
        params = raw.get("params", {})
        for name, value in params.items():
            p = spec.param(name)
            if p is None:
                known = ", ".join(x.name for x in spec.params) or "none"
                raise ProjectError(f"{kind} has no parameter {name!r} (its parameters: {known})",
                                   child(f"{where}.params", name), file)
            if message := p.check(value):
                raise ProjectError(f"{kind} '{raw['name']}': {name} {message}",
                                   child(f"{where}.params", name), file)
        position = positions.get(raw["id"], (0.0, 0.0))
        # Parameters missing from the file take their defaults, so older files keep opening.
        node = graph.add_node(graph.make_node(kind, raw["name"], params, position, node_id=raw["id"]))
        node.frozen = raw.get("frozen", False)
    edges = [Edge(**e) for e in doc["graph"]["edges"]]
    for k, edge in enumerate(edges):
        for end in ("src", "dst"):
            if getattr(edge, end) not in graph.nodes:
                raise ProjectError(f"the wire points at {getattr(edge, end)!r}, which is no "
                                   "node's id", f"$.graph.edges[{k}].{end}", file)
    cycle = _find_cycle(graph, edges)
    if cycle is not None:
        k, names = cycle
        raise ProjectError(f"the wires make a loop ({' → '.join(names)}); networks here flow one "
                           "way: remove one of these wires", f"$.graph.edges[{k}]", file)
    for k, edge in enumerate(edges):
        try:
            graph.connect(edge, check_cycle=False)
        except EditRefused as exc:
            raise ProjectError(str(exc), f"$.graph.edges[{k}]{_bad_port(graph, edge)}",
                               file) from None
    training = copy.deepcopy(DEFAULT_TRAINING)
    for key, value in doc.get("training", {}).items():
        # JSON Schema counts 10.0 as an integer; the trainer wants 10.
        integral = isinstance(DEFAULT_TRAINING[key], int) and isinstance(value, float)
        training[key] = int(value) if integral else value
    data = copy.deepcopy(DEFAULT_DATA)
    data.update(doc.get("data", {}))
    return Project(graph, doc.get("name", "Untitled"), doc.get("description", ""), training, data)


def _bad_port(graph: Graph, edge: Edge) -> str:
    """``.src_port`` or ``.dst_port`` when that port does not exist, else nothing."""
    if edge.src_port not in graph.node(edge.src).output_ports():
        return ".src_port"
    if edge.dst_port not in [p.name for p in graph.node(edge.dst).input_ports()]:
        return ".dst_port"
    return ""


def _find_cycle(graph: Graph, edges: list[Edge]) -> tuple[int, list[str]] | None:
    """The index of an edge on a loop and the loop's node names, or None (one Kahn pass).

    Every edge must join existing nodes.
    """
    succ: dict[str, list[str]] = {}
    pred: dict[str, list[tuple[str, int]]] = {}
    indegree = dict.fromkeys(graph.nodes, 0)
    for k, e in enumerate(edges):
        succ.setdefault(e.src, []).append(e.dst)
        pred.setdefault(e.dst, []).append((e.src, k))
        indegree[e.dst] += 1
    ready = [n for n, d in indegree.items() if d == 0]
    while ready:
        for m in succ.get(ready.pop(), ()):
            indegree[m] -= 1
            if indegree[m] == 0:
                ready.append(m)
    left = {n for n, d in indegree.items() if d > 0}
    if not left:
        return None
    # Every leftover node has a leftover predecessor (else Kahn would have freed it), so
    # walking backwards inside them must repeat a node: that closes a loop.
    path, seen, via = [next(iter(left))], {}, []
    while path[-1] not in seen:
        seen[path[-1]] = len(path) - 1
        node, k = next((m, k) for m, k in pred[path[-1]] if m in left)
        path.append(node)
        via.append(k)
    loop = path[seen[path[-1]]:]  # backwards: x, then a node feeding x, ..., then x again
    return via[-1], [graph.node(n).name for n in reversed(loop)]


__all__ = ["FORMAT", "MAX_DEPTH", "MAX_DIGITS", "VERSION", "Node", "Project", "ProjectError", "load_project",
           "loads_project"]
