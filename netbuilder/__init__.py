"""netbuilder's engine: graph model, layer catalog, shape inference, compile, project files.

Headless: this package never imports Qt. The GUI in ``ui`` sits on top of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from netbuilder.analysis.shape_inference import Problem, ShapeInference, infer_shapes
from netbuilder.errors import CompileError, EditRefused, NetbuilderError, ProjectError
from netbuilder.files.project import Project, load_project, loads_project
from netbuilder.model.graph import Edge, Graph, Node

if TYPE_CHECKING:
    from netbuilder.analysis.summary import summarize
    from netbuilder.build.compile import build_module

__version__ = "0.1.0"

__all__ = [
    "CompileError",
    "Edge",
    "EditRefused",
    "Graph",
    "NetbuilderError",
    "Node",
    "Problem",
    "Project",
    "ProjectError",
    "ShapeInference",
    "build_module",
    "infer_shapes",
    "load_project",
    "loads_project",
    "summarize",
]


def __getattr__(name: str) -> Any:
    """``build_module`` and ``summarize`` need torch: import them on first use, so that importing
    the engine (as the GUI does before its first paint) does not load torch."""
    if name == "build_module":
        from netbuilder.build.compile import build_module

        return build_module
    if name == "summarize":
        from netbuilder.analysis.summary import summarize

        return summarize
    raise AttributeError(f"module 'netbuilder' has no attribute {name!r}")
