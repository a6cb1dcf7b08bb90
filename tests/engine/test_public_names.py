"""netbuilder's public names stay where users import them from, whatever module now holds them."""

from __future__ import annotations

import importlib

import netbuilder

# Each public name and the module that defines it today (the house was reorganised into subpackages).
HOMES = {
    "load_project": "netbuilder.files.project", "loads_project": "netbuilder.files.project",
    "Project": "netbuilder.files.project", "infer_shapes": "netbuilder.analysis.shape_inference",
    "ShapeInference": "netbuilder.analysis.shape_inference", "Problem": "netbuilder.analysis.shape_inference",
    "build_module": "netbuilder.build.compile", "summarize": "netbuilder.analysis.summary",
    "Graph": "netbuilder.model.graph", "Node": "netbuilder.model.graph", "Edge": "netbuilder.model.graph",
    "CompileError": "netbuilder.errors", "EditRefused": "netbuilder.errors", "NetbuilderError": "netbuilder.errors",
    "ProjectError": "netbuilder.errors",
}


def test_every_public_name_is_exported_and_is_its_modules_own() -> None:
    assert set(netbuilder.__all__) == set(HOMES)
    for name, module in HOMES.items():
        assert getattr(netbuilder, name) is getattr(importlib.import_module(module), name), name
