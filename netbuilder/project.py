"""Projects: a graph with its layout, training and data settings, in a JSON ``.nbproj`` file.

The file format is documented in docs/file-format.md and by the JSON Schema in
``netbuilder/schema/project.schema.json``. Loading never runs code (no pickle); every
problem in a file is a :class:`ProjectError` naming the JSON path. Saving is atomic.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from netbuilder.errors import EditRefused, ProjectError
from netbuilder.graph import Edge, Graph, Node, name_problem
from netbuilder.layers import CATALOG

FORMAT = "netbuilder-project"
VERSION = 1
MAX_FILE_BYTES = 64 * 1024 * 1024

# MIGRATIONS[k] turns a version-k document into a version-(k+1) one. Version 1 is the
# first format, so the chain is empty; the next change of format adds its step here.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}

DEFAULT_TRAINING: dict[str, Any] = {
    "loss": "mse",
    "optimizer": "adam",
    "learning_rate": 1e-3,
    "momentum": 0.0,
    "weight_decay": 0.0,
    "batch_size": 32,
    "epochs": 10,
    "validation_split": 0.2,
    "seed": 0,
    "device": "auto",
}
DEFAULT_DATA: dict[str, Any] = {"dataset": "", "options": {}}

_validator = None


def _schema_validator():
    global _validator
    if _validator is None:
        from jsonschema import Draft202012Validator

        schema = json.loads(resources.files("netbuilder").joinpath("schema/project.schema.json").read_text("utf-8"))
        _validator = Draft202012Validator(schema)
    return _validator


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
                "nodes": [{"id": n.id, "kind": n.kind, "name": n.name, "params": copy.deepcopy(n.params)}
                          for n in g],
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
        write_atomic(target, self.to_json().encode("utf-8"))
        self.path = target
        return target

    @classmethod
    def from_dict(cls, doc: Any, file: str | None = None) -> Project:
        return _parse(doc, file)


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path``, fsync it, then rename it over ``path``."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:  # some platforms cannot open directories; the rename is done anyway
        return
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number JSON allows; write a finite number")


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
    if len(raw) > MAX_FILE_BYTES:
        raise ProjectError(f"the file is larger than {MAX_FILE_BYTES // 2**20} MiB; it is not a project file",
                           file=file)
    project = loads_project(raw, file)
    project.path = Path(path)
    return project


def loads_project(raw: bytes | str, file: str | None = None) -> Project:
    """Parse a project from the bytes or text of a ``.nbproj`` file."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as exc:
        raise ProjectError(f"not UTF-8 text (bad byte at offset {exc.start}); is this a project file?",
                           file=file) from None
    try:
        doc = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        hint = "the file looks cut short" if exc.pos >= len(text.rstrip()) else "the file is damaged"
        raise ProjectError(f"not valid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg}); {hint}",
                           file=file) from None
    except ValueError as exc:
        raise ProjectError(str(exc), file=file) from None
    except RecursionError:
        raise ProjectError("the JSON is nested too deeply to be a project file", file=file) from None
    return _parse(doc, file)


def _parse(doc: Any, file: str | None) -> Project:
    if not isinstance(doc, dict):
        raise ProjectError("a project file holds a JSON object at the top", file=file)
    if doc.get("format") != FORMAT:
        raise ProjectError(f"this is not a netbuilder project (its \"format\" should be {FORMAT!r})",
                           "$.format", file)
    version = doc.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ProjectError("\"version\" must be a whole number, 1 or more", "$.version", file)
    if version > VERSION:
        raise ProjectError(f"saved by a newer netbuilder (format version {version}; this one reads up to "
                           f"{VERSION}): update netbuilder to open it", "$.version", file)
    while version < VERSION:
        doc = MIGRATIONS[version](copy.deepcopy(doc))
        version += 1
        doc["version"] = version
    try:
        error = next(iter(sorted(_schema_validator().iter_errors(doc), key=_error_depth)), None)
    except RecursionError:
        raise ProjectError("the JSON is nested too deeply to be a project file", file=file) from None
    if error is not None:
        raise ProjectError(_schema_message(error), error.json_path, file)
    return _build(doc, file)


def _error_depth(error: Any) -> tuple[int, str]:
    return (-len(error.absolute_path), error.json_path)


def _schema_message(error: Any) -> str:
    v = error.validator
    if v == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return f"the required entry \"{missing}\" is missing"
    if v == "additionalProperties":
        return f"unexpected entry: {error.message.split('(')[-1].rstrip(')')}; remove it or check its spelling"
    if v == "type":
        return f"must be {_article(error.validator_value)}, not {_json_kind(error.instance)}"
    if v == "enum":
        return f"must be one of {', '.join(map(json.dumps, error.validator_value))}, not {json.dumps(error.instance)}"
    if v in ("maximum", "minimum", "exclusiveMinimum"):
        return f"{error.instance} is out of range ({error.message.split(' is ')[-1]})"
    if v in ("maxItems", "maxLength", "maxProperties"):
        return f"too large ({error.message.split(' is ')[-1]})"
    return error.message


def _article(kind: Any) -> str:
    kinds = kind if isinstance(kind, list) else [kind]
    words = {"object": "an object", "array": "a list", "string": "text", "integer": "a whole number",
             "number": "a number", "boolean": "true or false"}
    return " or ".join(words.get(k, k) for k in kinds)


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    return {dict: "an object", list: "a list", str: "text", int: "a whole number",
            float: "a number"}.get(type(value), type(value).__name__)


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
            raise ProjectError(f"the id {raw['id']!r} is used by two nodes; ids must be unique", f"{where}.id", file)
        if problem := name_problem(raw["name"]):
            raise ProjectError(problem, f"{where}.name", file)
        if graph.by_name(raw["name"]) is not None:
            raise ProjectError(f"two nodes are named {raw['name']!r}; rename one", f"{where}.name", file)
        params = raw.get("params", {})
        for name, value in params.items():
            p = spec.param(name)
            if p is None:
                known = ", ".join(x.name for x in spec.params) or "none"
                raise ProjectError(f"{kind} has no parameter {name!r} (its parameters: {known})",
                                   f"{where}.params.{name}", file)
            if message := p.check(value):
                raise ProjectError(f"{kind} '{raw['name']}': {name} {message}", f"{where}.params.{name}", file)
        position = positions.get(raw["id"], (0.0, 0.0))
        # Parameters missing from the file take their defaults, so older files keep opening.
        graph.add_node(graph.make_node(kind, raw["name"], params, position, node_id=raw["id"]))
    edges = [Edge(**e) for e in doc["graph"]["edges"]]
    cycle = _find_cycle(graph, edges)
    if cycle is not None:
        k, names = cycle
        raise ProjectError(f"the wires make a loop ({' → '.join(names)}); networks here flow one way: "
                           "remove one of these wires", f"$.graph.edges[{k}]", file)
    for k, edge in enumerate(edges):
        for end in ("src", "dst"):
            if getattr(edge, end) not in graph.nodes:
                raise ProjectError(f"the wire points at {getattr(edge, end)!r}, which is no node's id",
                                   f"$.graph.edges[{k}].{end}", file)
        try:
            graph.connect(edge, check_cycle=False)
        except EditRefused as exc:
            raise ProjectError(str(exc), f"$.graph.edges[{k}]", file) from None
    training = copy.deepcopy(DEFAULT_TRAINING)
    training.update(doc.get("training", {}))
    data = copy.deepcopy(DEFAULT_DATA)
    data.update(doc.get("data", {}))
    return Project(graph, doc.get("name", "Untitled"), doc.get("description", ""), training, data)


def _find_cycle(graph: Graph, edges: list[Edge]) -> tuple[int, list[str]] | None:
    """The index of an edge on a loop and the loop's node names, or None (one Kahn pass)."""
    succ: dict[str, list[tuple[str, int]]] = {}
    indegree = dict.fromkeys(graph.nodes, 0)
    for k, e in enumerate(edges):
        if e.src in indegree and e.dst in indegree:
            succ.setdefault(e.src, []).append((e.dst, k))
            indegree[e.dst] += 1
    ready = [n for n, d in indegree.items() if d == 0]
    while ready:
        n = ready.pop()
        for m, _ in succ.get(n, ()):
            indegree[m] -= 1
            if indegree[m] == 0:
                ready.append(m)
    left = {n for n, d in indegree.items() if d > 0}
    if not left:
        return None
    # Walk forward inside the leftover nodes until a node repeats: that is a loop.
    start = next(iter(left))
    path, seen, edge_of = [start], {start: 0}, []
    while True:
        nxt, k = next((m, k) for m, k in succ[path[-1]] if m in left)
        edge_of.append(k)
        if nxt in seen:
            loop = path[seen[nxt]:] + [nxt]
            return edge_of[seen[nxt]], [graph.node(n).name for n in loop]
        seen[nxt] = len(path)
        path.append(nxt)


__all__ = ["FORMAT", "VERSION", "Node", "Project", "ProjectError", "load_project", "loads_project"]
