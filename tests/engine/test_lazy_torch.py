"""The engine's editing half works without importing torch, so the GUI can paint before torch loads."""

from __future__ import annotations

import subprocess
import sys

import torch

EDITING_WITHOUT_TORCH = """
import sys
from netbuilder import load_project
from netbuilder.model.edits import SetParams
from netbuilder.examples import EXAMPLE_NAMES, example_path
from netbuilder.model.layout import layered_positions
from netbuilder.analysis.lint import lint_project
from netbuilder.analysis.shape_inference import ShapeInference
for name in EXAMPLE_NAMES:
    project = load_project(example_path(name))
    inference = ShapeInference(project.graph)
    assert not inference.problems, (name, inference.problems)
    lint_project(project)
    layered_positions(project.graph)
loaded = sorted(m for m in sys.modules if m == "torch" or m.startswith("torch."))
print(loaded[:5])
"""


def test_loading_checking_and_laying_out_every_example_leaves_torch_unimported():
    out = subprocess.run([sys.executable, "-c", EDITING_WITHOUT_TORCH], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_the_lazy_nn_builds_real_modules():
    from netbuilder.lazy_torch import nn as lazy_nn

    assert isinstance(lazy_nn.Linear(2, 3), torch.nn.Linear)

