"""The built-in examples: the teaching text's five models as project files."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

EXAMPLE_NAMES = ("linear_regression", "logistic_regression", "softmax_regression", "mnist_cnn", "lstm_sequence")


def example_path(name: str) -> Path:
    """The file of built-in example ``name`` (one of :data:`EXAMPLE_NAMES`)."""
    if name not in EXAMPLE_NAMES:
        raise KeyError(f"no built-in example {name!r}; there are: {', '.join(EXAMPLE_NAMES)}")
    return Path(str(resources.files("netbuilder_resources").joinpath(f"examples/{name}.nbproj")))
