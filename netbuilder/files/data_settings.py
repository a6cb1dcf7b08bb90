"""Data settings as stored in a project's ``"data"`` object: a data set's name and its options, checked
by name before anything is read, so a misspelt option is refused instead of silently ignored.

The loaders live in :mod:`netbuilder.data`; this table sits here, torch-free, so that checking a
project (``netbuilder check``, the problems panel) can see it. A test holds it equal to the
loaders' own parameters.
"""

from __future__ import annotations

import difflib
from typing import Any

# Data set name -> the options its loader takes (besides COMMON_OPTIONS).
DATA_SETS: dict[str, tuple[str, ...]] = {
    "seed-linear": ("noise",),
    "seed-logistic": ("label_noise",),
    "seed-softmax": (),
    "seed-sequence": (),
    "digits": (),
    "mnist": ("folder", "split", "download_missing"),
    "fashion-mnist": ("folder", "split", "download_missing"),
    "csv": ("path", "features", "target", "task"),
    "numpy": ("path", "targets", "x_key", "y_key", "task"),
    "image-folder": ("path",),
}
COMMON_OPTIONS = ("resize",)
# Options naming files or folders, relative to the project's folder.
PATH_OPTIONS = ("path", "folder", "targets")
# Options whose values are names, checked here too: a typo there is as silent as in a name.
CHOICES: dict[str, tuple[str, ...]] = {
    "task": ("auto", "regression", "classification"),
    "split": ("train", "test"),
}


def known_options(dataset: str) -> tuple[str, ...]:
    """Every option data set ``dataset`` takes, sorted."""
    return tuple(sorted((*DATA_SETS[dataset], *COMMON_OPTIONS)))


def data_settings_problems(data: dict[str, Any], what: str = "data set") -> list[str]:
    """What is wrong with ``data`` (and its ``validation`` part) by name; empty when all is known.

    A project that names no data set yet has no problem here: it can be drawn and checked
    before data is chosen (training says so itself).
    """
    found: list[str] = []
    name = data.get("dataset") or ""
    options = data.get("options") or {}
    if name and name not in DATA_SETS:
        found.append(f"unknown {what} {name!r}; choose one of {', '.join(DATA_SETS)}")
    elif name:
        known = known_options(name)
        for option in sorted(set(options) - set(known)):
            near = difflib.get_close_matches(option, known, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            found.append(f"{what} '{name}' has no option {option!r}{hint}; its options are {', '.join(known)}")
        for option, allowed in CHOICES.items():
            value = options.get(option)
            if option in known and value is not None and value not in allowed:
                found.append(f"{what} '{name}': option {option!r} is {value!r}; choose one of {', '.join(allowed)}")
    validation = data.get("validation")
    if validation:
        found += data_settings_problems(validation, "validation data set")
    return found
