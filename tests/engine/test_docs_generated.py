"""The pages generated from the engine say what the code does: docs/layers.md is the layer catalog, and the
JSON Schema in docs/file-format.md is the one projects are loaded with. `python docs/generate.py` rewrites them."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import re
from pathlib import Path

from netbuilder.layers import CATALOG, CATEGORIES

ROOT = Path(__file__).resolve().parents[2]


def load_generator():
    spec = importlib.util.spec_from_file_location("docs_generate", ROOT / "docs" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


generate = load_generator()


def test_layers_page_is_the_catalog_as_it_is() -> None:
    pages = generate.engine_pages()
    assert generate.stale(pages) == [], "docs are stale: run python docs/generate.py"
    text = (ROOT / "docs" / "layers.md").read_text(encoding="utf-8")
    conv = text.split("### Conv2d\n", 1)[1].split("\n### ", 1)[0]
    assert CATALOG["Conv2d"].doc in conv
    assert "| `out_channels` | int | `32` | 1 to 16777216 |" in conv  # type, default and range of a parameter
    in_palette_order = [s.kind for c in CATEGORIES for s in CATALOG.values() if s.category == c]
    assert re.findall(r"^### (\S+)$", text, re.MULTILINE) == in_palette_order  # every kind, once


def test_a_changed_layer_makes_the_layers_page_stale(monkeypatch) -> None:
    linear = CATALOG["Linear"]
    wider = dataclasses.replace(linear, params=tuple(
        dataclasses.replace(p, default=128) if p.name == "out_features" else p for p in linear.params))
    monkeypatch.setitem(CATALOG, "Linear", wider)
    stale = generate.stale(generate.engine_pages())
    assert [p.name for p in stale] == ["layers.md"]
    assert "| `out_features` | int | `128` |" in generate.engine_pages()[stale[0]]


def _schema_in_page() -> dict:
    text = (ROOT / "docs" / "file-format.md").read_text(encoding="utf-8")
    section = text.split("<!-- generated: schema -->", 1)[1].split("<!-- end generated: schema -->", 1)[0]
    return json.loads(section.split("```json\n", 1)[1].split("\n```", 1)[0])


def _property_names(schema: object, path: str = "") -> set[str]:
    found: set[str] = set()
    if isinstance(schema, dict):
        for name, sub in schema.get("properties", {}).items():
            found.add(name)
            found |= _property_names(sub, f"{path}.{name}")
        for key in ("items", "additionalProperties", "anyOf", "oneOf", "allOf"):
            if key in schema:
                found |= _property_names(schema[key], path)
    elif isinstance(schema, list):
        for sub in schema:
            found |= _property_names(sub, path)
    return found


def test_file_format_holds_the_schema_projects_are_loaded_with() -> None:
    from netbuilder.files import project_json

    assert _schema_in_page() == project_json._schema()  # the schema loading checks files against
    assert generate.stale({p: t for p, t in generate.engine_pages().items() if p.name == "file-format.md"}) == []


def test_every_key_of_the_schema_is_explained_in_the_file_format_page() -> None:
    text = (ROOT / "docs" / "file-format.md").read_text(encoding="utf-8").split("## The JSON Schema", 1)[0]
    keys = _property_names(json.loads(generate.SCHEMA.read_text(encoding="utf-8")))
    assert len(keys) > 30
    missing = sorted(k for k in keys if f"`{k}`" not in text)
    assert missing == [], f"keys of the schema that docs/file-format.md does not explain: {missing}"


def _options(parser) -> dict[str, list[tuple[str, ...]]]:
    """Every subcommand of ``parser`` with its options, each as its spellings (``-o``, ``--output``), --help aside."""
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return {name: [tuple(a.option_strings) for a in p._actions if a.option_strings and "--help" not in a.option_strings]
            for name, p in sub.choices.items()}


def test_the_readmes_command_line_has_every_subcommand_and_option() -> None:
    from netbuilder.cli import build_parser

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Command line\n", 1)[1].split("\n## ", 1)[0]
    worker_only = {"--nice", "--control-stdin"}  # the app's worker's; docs/training.md explains them
    training = (ROOT / "docs" / "training.md").read_text(encoding="utf-8")
    options = _options(build_parser())
    assert set(options) == {"check", "summary", "train", "export", "codegen", "import"}
    missing = [f"{name} {o[-1]}" for name, opts in options.items() for o in opts
               if not any(re.search(re.escape(s) + r"(?![\w-])", training if o[-1] in worker_only else section)
                          for s in o)]
    missing += [name for name in options if f"netbuilder {name} " not in section]
    assert missing == [], f"the README's command line lacks {missing}"
