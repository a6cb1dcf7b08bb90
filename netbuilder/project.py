"""Projects: a graph with its layout, training and data settings, in a JSON ``.nbproj`` file.

The file format is documented in docs/file-format.md and by the JSON Schema in
``netbuilder/schema/project.schema.json``. Loading never runs code (no pickle); every
problem in a file is a :class:`ProjectError` naming the JSON path. Saving is atomic.
"""

from __future__ import annotations

import codecs
import copy
import json
import math
import os
import re
import secrets
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
# A project nests about six levels deep; anything far deeper is damage or an attack, and
# copying or saving it would overflow the stack.
MAX_DEPTH = 64
# The longest whole number accepted: larger ones do not fit a float (about 1.8e308) and no
# setting needs them.
MAX_DIGITS = 300

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

        text = resources.files("netbuilder").joinpath("schema/project.schema.json").read_text("utf-8")
        schema = json.loads(text)
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
                "nodes": [{"id": n.id, "kind": n.kind, "name": n.name,
                           "params": copy.deepcopy(n.params)} for n in g],
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
        except OSError as exc:
            raise ProjectError(f"cannot save the project ({exc.strerror or exc}); any file that was "
                               "there is unchanged", file=str(target)) from None
        self.path = target
        return target

    @classmethod
    def from_dict(cls, doc: Any, file: str | None = None) -> Project:
        return _parse(doc, file)


def write_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace ``path`` by ``data`` so that a crash leaves either the old file or the new one.

    The bytes go to a temporary file beside the target, are fsynced, then renamed over it.
    A new file gets the usual permissions (the umask applies), a replaced one keeps its own;
    a symbolic link is followed, so its target is replaced and the link stays.
    """
    target = Path(os.path.realpath(path))
    try:
        mode: int | None = os.stat(target).st_mode & 0o7777
    except FileNotFoundError:
        mode = None
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    try:
        dir_fd = os.open(target.parent, os.O_RDONLY)
    except OSError:  # some platforms cannot open directories; the rename is done anyway
        return
    try:
        os.fsync(dir_fd)
    except OSError:  # nor can every file system sync one
        pass
    finally:
        os.close(dir_fd)


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
    if isinstance(raw, (bytes, bytearray)):
        raw = bytes(raw).removeprefix(codecs.BOM_UTF8)  # some editors write one; harmless
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            hint = ("the file looks cut short" if exc.reason == "unexpected end of data"
                    else "is this a project file?")
            raise ProjectError(f"not UTF-8 text (bad byte at offset {exc.start}); {hint}",
                               file=file) from None
    else:
        text = raw.removeprefix("\ufeff")
    if not text.strip():
        raise ProjectError("the file is empty; a project file holds a JSON object", file=file)
    try:
        doc = json.loads(text, parse_constant=_reject_constant, parse_float=_parse_float,
                         parse_int=_parse_int)
    except json.JSONDecodeError as exc:
        hint = "the file looks cut short" if _looks_cut_short(text, exc) else "the file is damaged"
        raise ProjectError(f"not valid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg}); "
                           f"{hint}", file=file) from None
    except ValueError as exc:  # from the number hooks below
        raise ProjectError(str(exc), file=file) from None
    except RecursionError:
        raise ProjectError("the JSON is nested too deeply to be a project file",
                           file=file) from None
    return _parse(doc, file)


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number JSON allows; write a finite number")


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text} is too large for a project file; write a smaller one")
    return value


def _parse_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_DIGITS:
        raise ValueError(f"a whole number with {digits} digits ({text[:12]}...) is too large for "
                         "a project file; write a smaller one")
    return int(text)


_LITERALS = ("true", "false", "null", "NaN", "Infinity", "-Infinity")
# What is left at the error position when the text stops inside a number or a \u escape.
_PARTIAL_TOKEN = re.compile(r"[-+.0-9eE]+|u[0-9a-fA-F]{0,4}(?:\\(?:u[0-9a-fA-F]{0,3})?)?")


def _looks_cut_short(text: str, exc: json.JSONDecodeError) -> bool:
    """Whether the JSON went wrong only because the text stops part-way through a document."""
    rest = text[exc.pos:].rstrip()
    return (not rest or exc.msg.startswith("Unterminated string")
            or any(word.startswith(rest) for word in _LITERALS)
            or _PARTIAL_TOKEN.fullmatch(rest) is not None)


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
    if problem := _structure_problem(doc):
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
    errors = _schema_validator().iter_errors(doc)
    error = next(iter(sorted(errors, key=_error_depth)), None)
    if error is not None:
        message, where = _schema_problem(error)
        raise ProjectError(message, where, file)
    return _build(doc, file)


_JSON_KEY = re.compile(r"[a-zA-Z][a-zA-Z0-9_]*")  # keys written .key in a JSON path
_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_PROBLEM = ("holds a lone UTF-16 surrogate (an escape from \\ud800 to \\udfff), which "
                      "is no character; remove it")


def _child(path: str, key: str | int) -> str:
    """The JSON path of ``key`` inside ``path``: ``$.a.b[2]['odd key']``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if _JSON_KEY.fullmatch(key):
        return f"{path}.{key}"
    escaped = key.replace("\\", "\\\\").replace("'", "\\'")
    return f"{path}['{escaped}']"


def _structure_problem(doc: Any) -> tuple[str, str] | None:
    """(path, message) for nesting deeper than MAX_DEPTH, or for text no UTF-8 file can hold.

    JSON's ``\\ud800`` escapes decode to lone surrogates: such a project could never be saved.
    """
    # Each entry: a value, the (parent chain, key) chain that leads to it, and its depth.
    stack: list[tuple[Any, Any, int]] = [(doc, None, 0)]
    while stack:
        value, chain, depth = stack.pop()
        if isinstance(value, str) and _SURROGATE.search(value):
            return _chain_path(chain), _SURROGATE_PROBLEM
        if not isinstance(value, (dict, list)):
            continue
        if depth >= MAX_DEPTH:
            return _chain_path(chain), (f"is nested more than {MAX_DEPTH} levels deep; a project "
                                        "needs far fewer")
        for key, item in value.items() if isinstance(value, dict) else enumerate(value):
            if isinstance(key, str) and _SURROGATE.search(key):
                return _chain_path((chain, key)), f"this key {_SURROGATE_PROBLEM}"
            stack.append((item, (chain, key), depth + 1))
    return None


def _chain_path(chain: Any) -> str:
    keys: list[str | int] = []
    while chain is not None:
        chain, key = chain
        keys.append(key)
    return _json_path(reversed(keys))


def _error_depth(error: Any) -> tuple[int, str]:
    return (-len(error.absolute_path), _json_path(error.absolute_path))


def _json_path(keys: Any) -> str:
    path = "$"
    for key in keys:
        path = _child(path, key)
    return path


def _schema_problem(error: Any) -> tuple[str, str]:
    """A message and the JSON path it is about, for one jsonschema error."""
    v, value, limit = error.validator, error.instance, error.validator_value
    where = _json_path(error.absolute_path)
    if v == "required":
        missing = next((k for k in limit if k not in value), "?")
        return f"the required entry \"{missing}\" is missing", where
    if v == "additionalProperties":
        allowed = error.schema.get("properties", {})
        extra = next(k for k in value if k not in allowed)
        return (f"unexpected entry {_short(extra)}; remove it or check its spelling "
                f"(allowed here: {', '.join(allowed)})"), _child(where, extra)
    if v == "type":
        return f"must be {_article(limit)}, not {_describe(value)}", where
    if v == "enum":
        return f"must be one of {', '.join(map(json.dumps, limit))}, not {_short(value)}", where
    if v == "const":
        return f"must be {json.dumps(limit)}, not {_short(value)}", where
    if v in ("minimum", "maximum", "exclusiveMinimum"):
        bound = {"minimum": "at least", "maximum": "at most", "exclusiveMinimum": "more than"}[v]
        return f"must be {bound} {_num(limit)}, not {_num(value)}", where
    if v == "minLength":
        return "must not be empty" if limit == 1 else f"must be at least {limit} characters", where
    if v == "maxLength":
        return f"is too long ({len(value)} characters; at most {limit})", where
    if v in ("minItems", "maxItems"):
        bound = "at least" if v == "minItems" else "at most"
        return f"must have {bound} {limit} entries, not {len(value)}", where
    if v == "maxProperties":
        return f"has too many entries ({len(value)}; at most {limit})", where
    return error.message, where


def _num(x: float) -> str:
    return str(int(x)) if isinstance(x, float) and x.is_integer() else str(x)


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _article(kind: Any) -> str:
    kinds = kind if isinstance(kind, list) else [kind]
    words = {"object": "an object", "array": "a list", "string": "text",
             "integer": "a whole number", "number": "a number", "boolean": "true or false"}
    return " or ".join(words.get(k, k) for k in kinds)


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the text {_short(value)}"
    return _short(value)


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
                                   _child(f"{where}.params", name), file)
            if message := p.check(value):
                raise ProjectError(f"{kind} '{raw['name']}': {name} {message}",
                                   _child(f"{where}.params", name), file)
        position = positions.get(raw["id"], (0.0, 0.0))
        # Parameters missing from the file take their defaults, so older files keep opening.
        graph.add_node(graph.make_node(kind, raw["name"], params, position, node_id=raw["id"]))
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


__all__ = ["FORMAT", "VERSION", "Node", "Project", "ProjectError", "load_project", "loads_project"]
