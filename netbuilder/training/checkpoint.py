"""Checkpoints as safetensors: model weights, optimizer state, and where the run was.

Nothing here unpickles: tensors go through safetensors, the rest is JSON in its metadata.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from safetensors.torch import load_file

from netbuilder.errors import NetbuilderError
from netbuilder.files.weights import WeightsError, load_into, write_safetensors
from netbuilder.files.weights import read_metadata as _weights_metadata

if TYPE_CHECKING:
    from netbuilder.training.trainer import Trainer, TrainState

FORMAT = "netbuilder-checkpoint"


class CheckpointError(NetbuilderError):
    """A checkpoint could not be read or does not fit the model."""


def save_checkpoint(path: Path, trainer: Trainer, state: TrainState, extra: dict[str, Any] | None = None) -> Path:
    """Write model + optimizer + run position atomically (temp file, then rename)."""
    path = Path(path)
    tensors = {f"model.{k}": v.detach().contiguous().clone() for k, v in trainer.module.state_dict().items()}
    opt = trainer.optimizer.state_dict()
    plain: dict[str, dict[str, Any]] = {}
    for idx, st in opt["state"].items():
        for key, value in st.items():
            if torch.is_tensor(value):
                tensors[f"optimizer.{idx}.{key}"] = value.detach().contiguous().clone()
            else:
                plain.setdefault(str(idx), {})[key] = value
    meta = {
        "format": FORMAT, "version": 1,
        "epoch": state.epoch, "step": state.step, "best_value": state.best_value, "extra": state.extra,
        "settings": trainer.settings.to_dict(),
        "optimizer_groups": opt["param_groups"], "optimizer_plain": plain,
        "scheduler": trainer.schedule.state_dict(),
        **(extra or {}),
    }
    return write_safetensors(path, tensors, json.dumps(meta, default=_jsonable))


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if torch.is_tensor(value):
        return value.tolist()
    raise TypeError(f"cannot store {type(value).__name__} in a checkpoint")


def read_metadata(path: Path) -> dict[str, Any]:
    meta = _weights_metadata(path)
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: a safetensors file, but not a netbuilder checkpoint")
    return meta


def load_weights(path: Path, module: torch.nn.Module) -> dict[str, Any]:
    """Load a checkpoint's (or weights file's) model weights into ``module``; every mismatch is named."""
    try:
        return load_into(module, path)
    except WeightsError as exc:
        raise CheckpointError(str(exc)) from None


# What a checkpoint's metadata must hold to resume from, and of which JSON type.
RESUME_KEYS = {"epoch": int, "step": int, "best_value": (int, float, type(None)), "extra": dict,
               "optimizer_groups": list, "optimizer_plain": dict, "scheduler": dict}


def resume(path: Path, trainer: Trainer) -> None:
    """Put a trainer back where the checkpoint left it: weights, optimizer, schedule, position."""
    meta = read_metadata(path)
    damaged = ("the file is damaged: resume from the run's other checkpoint (best or last) or start "
               "the run afresh")
    for key, kind in RESUME_KEYS.items():
        if not isinstance(meta.get(key), kind) or isinstance(meta.get(key), bool):
            raise CheckpointError(f"{path}: the checkpoint's metadata has no valid {key!r}; {damaged}")
    load_weights(path, trainer.module)
    tensors = load_file(str(path))
    try:
        state: dict[int, dict[str, Any]] = {}
        for key, value in tensors.items():
            if key.startswith("optimizer."):
                _, idx, name = key.split(".", 2)
                state.setdefault(int(idx), {})[name] = value
        for idx, values in meta["optimizer_plain"].items():
            state.setdefault(int(idx), {}).update(values)
        trainer.optimizer.load_state_dict({"state": state, "param_groups": meta["optimizer_groups"]})
        trainer.schedule.load_state_dict(meta["scheduler"])
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise CheckpointError(f"{path}: the checkpoint's optimizer or schedule state cannot be restored "
                              f"({type(exc).__name__}: {exc}); {damaged}") from None
    trainer.state.epoch = meta["epoch"]
    trainer.state.step = meta["step"]
    trainer.state.best_value = meta["best_value"]
    trainer.state.extra = dict(meta["extra"])
