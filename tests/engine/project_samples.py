"""Shared by the project-file tests: the shipped examples as bytes and documents."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from netbuilder.errors import ProjectError
from netbuilder.files.project import loads_project

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


def json_keys(path: str) -> list[str | int]:
    """``$.a.b[2]['c d']`` -> ['a', 'b', 2, 'c d']."""
    parts = re.findall(r"\.([A-Za-z][A-Za-z0-9_]*)|\[(\d+)\]|\['((?:[^'\\]|\\.)*)'\]", path)
    assert "$" + "".join(spell_key(p) for p in parts) == path, path
    return [a or (int(b) if b else c.replace("\\'", "'").replace("\\\\", "\\")) for a, b, c in parts]


def parent_exists(doc: Any, path: str) -> bool:
    target = doc
    for key in json_keys(path)[:-1]:
        try:
            target = target[key]
        except (KeyError, IndexError, TypeError):
            return False
    return True


def spell_key(part: tuple[str, str, str]) -> str:
    a, b, c = part
    return f".{a}" if a else f"[{b}]" if b else f"['{c}']"
