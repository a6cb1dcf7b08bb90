"""Reading project JSON safely: decoding, limits, and messages that name the JSON path.

Split from :mod:`netbuilder.files.project` so that module stays about projects; this one is
about JSON text and the JSON Schema.
"""

from __future__ import annotations

import codecs
import json
import math
import re
from importlib import resources
from typing import Any

from netbuilder.errors import ProjectError

# A project nests about six levels deep; anything far deeper is damage or an attack, and
# copying or saving it would overflow the stack.
MAX_DEPTH = 64
# The longest whole number accepted: larger ones do not fit a float (about 1.8e308) and no
# setting needs them.
MAX_DIGITS = 300

_validator = None
_fast = None  # the schema compiled by fastjsonschema


def _schema_validator():
    global _validator
    if _validator is None:
        from jsonschema import Draft202012Validator

        _validator = Draft202012Validator(_schema())
    return _validator


def _schema() -> dict[str, Any]:
    return json.loads(resources.files("netbuilder.files").joinpath("schema/project.schema.json").read_text("utf-8"))


def _fast_validator():
    global _fast
    if _fast is None:
        import fastjsonschema

        _fast = fastjsonschema.compile(_schema(), use_formats=False)
    return _fast


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


_JSON_KEY = re.compile(r"[a-zA-Z][a-zA-Z0-9_]*")  # keys written .key in a JSON path
_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_PROBLEM = ("holds a lone UTF-16 surrogate (an escape from \\ud800 to \\udfff), which "
                      "is no character; remove it")


def child(path: str, key: str | int) -> str:
    """The JSON path of ``key`` inside ``path``: ``$.a.b[2]['odd key']``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if _JSON_KEY.fullmatch(key):
        return f"{path}.{key}"
    escaped = key.replace("\\", "\\\\").replace("'", "\\'")
    return f"{path}['{escaped}']"


def structure_problem(doc: Any) -> tuple[str, str] | None:
    """(path, message) for nesting deeper than MAX_DEPTH, or for text no UTF-8 file can hold.

    JSON's ``\\ud800`` escapes decode to lone surrogates: such a project could never be saved.
    """
    if isinstance(doc, str):
        return ("$", _SURROGATE_PROBLEM) if _SURROGATE.search(doc) else None
    # Each entry: a container, the (parent chain, key) chain that leads to it, and its depth. Only
    # containers go on the stack, scalars are looked at where they are found (a 10,000-node project
    # holds 200,000 values: this walk took 0.6 s when every value went through the stack).
    search = _SURROGATE.search
    stack: list[tuple[Any, Any, int]] = [(doc, None, 0)] if isinstance(doc, (dict, list)) else []
    while stack:
        value, chain, depth = stack.pop()
        if depth >= MAX_DEPTH:
            return _chain_path(chain), (f"is nested more than {MAX_DEPTH} levels deep; a project "
                                        "needs far fewer")
        for key, item in value.items() if isinstance(value, dict) else enumerate(value):
            if key.__class__ is str and search(key):
                return _chain_path((chain, key)), f"this key {_SURROGATE_PROBLEM}"
            if isinstance(item, (dict, list)):
                stack.append((item, (chain, key), depth + 1))
            elif item.__class__ is str and search(item):
                return _chain_path((chain, key)), _SURROGATE_PROBLEM
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
        path = child(path, key)
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
                f"(allowed here: {', '.join(allowed)})"), child(where, extra)
    if v == "type":
        return f"must be {_article(limit)}, not {_describe(value)}", where
    if v == "enum":
        return f"must be one of {', '.join(map(json.dumps, limit))}, not {_short(value)}", where
    if v == "pattern":  # the schema says in words what the pattern admits
        wanted = error.schema.get("description") or f"text matching {limit}"
        return f"must be {wanted}, not {_short(value)}", where
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




def decode_json(raw: bytes | str, file: str | None = None) -> Any:
    """The JSON value in ``raw``; ProjectError for bad encoding, bad JSON, or absurd numbers."""
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
        return json.loads(text, parse_constant=_reject_constant, parse_float=_parse_float,
                          parse_int=_parse_int)
    except json.JSONDecodeError as exc:
        hint = "the file looks cut short" if _looks_cut_short(text, exc) else "the file is damaged"
        raise ProjectError(f"not valid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg}); "
                           f"{hint}", file=file) from None
    except ValueError as exc:  # from the number hooks above
        raise ProjectError(str(exc), _bad_number_path(text), file) from None
    except RecursionError:
        raise ProjectError(f"is nested too deeply to read (more than {MAX_DEPTH} levels); a project "
                           "needs far fewer", _deep_path(text), file) from None


class _BadNumber:
    """Stands where a refused number was, so a second parse can tell its JSON path."""


def _bad_number_path(text: str) -> str:
    """The JSON path of the first number the hooks refuse: they cannot know where they are, so
    the text is parsed again with every such number kept as a marker (only when one was refused)."""
    def mark(number: str) -> Any:
        try:
            _parse_int(number) if number.lstrip("-").isdigit() else _parse_float(number)
        except ValueError:
            return _BadNumber()
        return 0

    try:
        doc = json.loads(text, parse_constant=lambda _: _BadNumber(), parse_float=mark, parse_int=mark)
    except (ValueError, RecursionError):
        return "$"
    stack: list[tuple[Any, Any]] = [(doc, None)]
    while stack:  # depth first, in the file's order, so the first refused number is the one named
        value, chain = stack.pop()
        if isinstance(value, _BadNumber):
            return _chain_path(chain)
        items = list(value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ())
        stack.extend((item, (chain, key)) for key, item in reversed(items))
    return "$"


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{},]')


def _deep_path(text: str) -> str:
    """The JSON path of the value nested MAX_DEPTH levels deep in ``text``, found by a scan of its
    brackets and keys (the parser itself gave up, too deep to recurse)."""
    frames: list[list[Any]] = []  # per open container: [is_object, key or index, expecting a key]
    for token in _TOKEN.finditer(text):
        t = token.group()
        if t in "[{":
            if len(frames) == MAX_DEPTH:
                keys = [f[1] for f in frames]
                return _json_path(keys[:keys.index(None)] if None in keys else keys)
            frames.append([t == "{", None if t == "{" else 0, t == "{"])
        elif t in "]}":
            if frames:
                frames.pop()
        elif t == ",":
            if frames and frames[-1][0]:
                frames[-1][2] = True
            elif frames:
                frames[-1][1] += 1
        elif frames and frames[-1][0] and frames[-1][2]:  # a string where a key is due
            try:
                frames[-1][1] = json.loads(t)
            except ValueError:
                frames[-1][1] = t[1:-1]
            frames[-1][2] = False
    return "$"


def schema_problem_of(doc: Any) -> tuple[str, str] | None:
    """(message, JSON path) of the deepest JSON Schema violation in ``doc``, or None.

    A file that fastjsonschema's compiled check passes is valid, and that is the answer
    (20 times faster than jsonschema on a 10,000-node project: 0.1 s against 2.1 s); only a
    file it refuses is walked by jsonschema, whose errors name the deepest JSON path. The schema
    uses only keywords both read alike (tests/engine/test_project_schema_fast.py holds them to
    the same verdict on thousands of mutated files).
    """
    import fastjsonschema

    try:
        _fast_validator()(doc)
        return None
    except fastjsonschema.JsonSchemaException:
        pass
    error = next(iter(sorted(_schema_validator().iter_errors(doc), key=_error_depth)), None)
    return _schema_problem(error) if error is not None else None

