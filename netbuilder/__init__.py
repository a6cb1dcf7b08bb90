"""netbuilder's engine: graph model, layer catalog, shape inference, compile, project files.

Headless: this package never imports Qt. The GUI in ``ui`` sits on top of it.
"""

from __future__ import annotations

from netbuilder.compile import build_module
from netbuilder.errors import CompileError, EditRefused, NetbuilderError, ProjectError
from netbuilder.graph import Edge, Graph, Node
from netbuilder.project import Project, load_project, loads_project
from netbuilder.shape_inference import Problem, ShapeInference, infer_shapes
from netbuilder.summary import summarize

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
