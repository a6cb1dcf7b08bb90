"""Weights as safetensors files: export, and load into a model with every mismatch named.

A weights file holds the model's ``state_dict`` under its own names (``conv1.weight``);
a training checkpoint holds the same under ``model.`` next to optimizer state. Both load.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from netbuilder.errors import NetbuilderError
from netbuilder.files.atomic import atomic_path


class WeightsError(NetbuilderError):
    """A weights file could not be read, or does not fit the model."""


def write_safetensors(path: str | Path, tensors: dict[str, torch.Tensor], metadata_json: str) -> Path:
    """Write tensors (+ netbuilder metadata) atomically (:mod:`netbuilder.files.atomic`): a crash
    mid-write leaves the previous file whole; a missing folder is a WriteError naming it."""
    path = Path(path)
    with atomic_path(path, own_folder=True) as tmp:  # save_file writes and renames a temporary file of its own
        save_file({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, str(tmp),
                  metadata={"netbuilder": metadata_json})
    return path


def save_weights(module: torch.nn.Module, path: str | Path, metadata: dict[str, Any] | None = None) -> Path:
    """Write ``module``'s state_dict atomically as safetensors, with JSON metadata."""
    return write_safetensors(path, module.state_dict(), json.dumps(metadata or {}))


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The netbuilder metadata of a weights or checkpoint file ({} when it has none)."""
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
    except FileNotFoundError:
        raise WeightsError(f"{path}: no such file") from None
    except Exception as exc:  # safetensors checks the header whole: sizes, offsets, dtypes, its length
        raise WeightsError(f"{path}: not a safetensors file, or a damaged one ({exc}); write it again "
                           "(export the weights, or train again)") from None
    try:
        found = json.loads(meta.get("netbuilder", "{}"))
    except json.JSONDecodeError:
        return {}
    return found if isinstance(found, dict) else {}  # another tool's metadata under our name


def read_weights(path: str | Path) -> dict[str, torch.Tensor]:
    """The model tensors of a weights file or a training checkpoint, by state_dict name."""
    read_metadata(path)  # clear errors for a missing or foreign file
    tensors = load_file(str(path))
    if any(k.startswith("model.") for k in tensors):  # a checkpoint: drop the optimizer state
        return {k.removeprefix("model."): v for k, v in tensors.items() if k.startswith("model.")}
    return tensors


def load_into(module: torch.nn.Module, path: str | Path) -> dict[str, Any]:
    """Load weights into ``module``; raises WeightsError naming each missing, extra or misshapen tensor."""
    weights = read_weights(path)
    own = module.state_dict()
    problems = [f"'{k}' is missing from the file" for k in own if k not in weights]
    problems += [f"'{k}' is in the file but not in the model" for k in weights if k not in own]
    problems += [f"'{k}' has shape {list(weights[k].shape)} in the file but {list(v.shape)} in the model"
                 for k, v in own.items() if k in weights and weights[k].shape != v.shape]
    if problems:
        raise WeightsError(f"{path} does not fit this model: " + "; ".join(problems))
    module.load_state_dict(weights)
    return read_metadata(path)


def weights_beside(project_path: str | Path) -> Path:
    """Where a project's own weights live: ``model.nbproj`` -> ``model.safetensors`` (written by import)."""
    return Path(project_path).with_suffix(".safetensors")


def load_fitting(module: torch.nn.Module, path: str | Path) -> list[str]:
    """Load the tensors of ``path`` that fit ``module`` (same name, same shape); the names of the
    module's tensors left as they were, because the file lacks them or their shape changed since."""
    weights = read_weights(path)
    own = module.state_dict()
    fitting = {k: v for k, v in weights.items() if k in own and v.shape == own[k].shape}
    module.load_state_dict(fitting, strict=False)
    return [k for k in own if k not in fitting]


@dataclass(frozen=True)
class WeightsUsed:
    """Which weights a model was given for an export, so the user is told.

    ``file`` is the file they came from (None: all freshly initialised, for ``reason``);
    ``fresh`` names the tensors left freshly initialised although a file was used.
    """

    file: Path | None
    fresh: tuple[str, ...] = ()
    reason: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    def describe(self, name_only: bool = False) -> str:
        """'the weights in FILE ...' or 'freshly initialised weights (REASON)'; ``name_only`` shows
        the file's name without its folder (a status bar)."""
        if self.file is None:
            return f"freshly initialised weights ({self.reason})" if self.reason else "freshly initialised weights"
        note = f"the weights in {self.file.name if name_only else self.file}"
        if self.fresh:
            shown = ", ".join(self.fresh[:4]) + (f" and {len(self.fresh) - 4} more" if len(self.fresh) > 4 else "")
            note += f" (fresh for {shown}: not in that file, or reshaped since)"
        return note


def load_project_weights(module: torch.nn.Module, project_path: str | Path | None,
                         weights: str | Path | None = None, fresh: bool = False) -> WeightsUsed:
    """Give ``module`` the weights an export of the project should carry, as the app and the
    command line both do.

    ``weights`` (a weights file or checkpoint) must fit exactly. Without it, the weights beside
    the project (:func:`weights_beside`, written by import) are used where they still fit, since
    dropping an imported model's weights without a word loses them; ``fresh`` asks for freshly
    initialised weights instead.
    """
    if weights is not None:
        return WeightsUsed(Path(weights), metadata=load_into(module, weights))
    if fresh:
        return WeightsUsed(None, reason="as asked")
    if project_path is None:
        return WeightsUsed(None, reason="the project is not saved, so it has no weights file")
    beside = weights_beside(project_path)
    if not beside.is_file():
        return WeightsUsed(None, reason=f"there is no {beside.name} beside the project")
    left = load_fitting(module, beside)
    return WeightsUsed(beside, tuple(left), metadata=read_metadata(beside))
