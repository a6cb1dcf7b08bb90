"""The fast schema check (fastjsonschema) never passes a file the JSON Schema refuses.

Loading trusts fastjsonschema's "valid" and asks jsonschema only about files it refuses
(netbuilder/files/project_json.schema_problem_of). That is sound only while the two agree on
every file fastjsonschema passes: a keyword read differently would let a bad file past the
schema into the loader. Held here on thousands of mutated project files, and on the cases
where the two libraries are known to differ (bools as numbers, 1.0 as an integer).
"""

from __future__ import annotations

import json

import fastjsonschema
import pytest
from hypothesis import HealthCheck, event, given, settings

from netbuilder.files import project_json
from tests.engine.project_samples import doc_of
from tests.engine.test_project_file_fuzz import mutated_documents


def verdicts(doc) -> tuple[bool, bool]:
    try:
        project_json._fast_validator()(doc)
        fast = True
    except fastjsonschema.JsonSchemaException:
        fast = False
    slow = next(iter(project_json._schema_validator().iter_errors(doc)), None) is None
    return fast, slow


@settings(max_examples=3000, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated_documents())
def test_fast_check_passes_only_what_the_schema_passes(case) -> None:
    doc, _raw = case
    fast, slow = verdicts(json.loads(json.dumps(doc, allow_nan=True)))
    event(f"fast {'passes' if fast else 'refuses'}, schema {'passes' if slow else 'refuses'}")
    assert slow or not fast, "fastjsonschema passed a file the JSON Schema refuses"


@pytest.mark.parametrize("where, value", [
    (("version",), True), (("version",), 1.0), (("version",), 1.5), (("version",), "1"),
    (("graph", "nodes", 0, "id"), 7), (("graph", "nodes", 0, "params"), []),
    (("graph", "edges"), {}), (("name",), None), (("name",), "x" * 100_000),
])
def test_known_differences_get_the_schemas_verdict(where, value) -> None:
    doc = doc_of()
    target = doc
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    fast, slow = verdicts(doc)
    assert slow or not fast
    assert (project_json.schema_problem_of(doc) is None) == slow


def test_a_valid_example_passes_both() -> None:
    assert verdicts(doc_of()) == (True, True)
    assert project_json.schema_problem_of(doc_of()) is None
