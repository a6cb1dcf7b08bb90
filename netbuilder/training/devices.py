"""Choosing the device: auto picks CUDA, then Apple MPS, then the CPU; or one GPU by number."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from netbuilder.files.training_settings import SettingsError


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise SettingsError("device 'cuda' was asked for but no CUDA GPU is available here; use 'auto' or 'cpu'")
    if name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise SettingsError(f"device {name!r} was asked for but no CUDA GPU is available here; use 'auto' or "
                                "'cpu'")
        index = int(name.split(":", 1)[1])
        count = torch.cuda.device_count()
        if index >= count:
            raise SettingsError(f"device {name!r} was asked for but this machine has {count} CUDA "
                                f"GPU{'' if count == 1 else 's'} (cuda:0 to cuda:{count - 1}); pick one of them")
        return torch.device("cuda", index)
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise SettingsError("device 'mps' was asked for but Apple's Metal is not available here; use 'auto'")
    return torch.device(name)


@dataclass(frozen=True)
class DeviceInfo:
    """A device a run can be put on: ``name`` is the training setting's value, ``label`` what a user reads."""

    name: str
    label: str


def _mps_available() -> bool:
    return bool(getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available())


def list_devices() -> list[DeviceInfo]:
    """What this machine can train on: auto, the CPU, each CUDA GPU (name and memory), and MPS when present."""
    found = [DeviceInfo("auto", "Automatic"), DeviceInfo("cpu", "CPU")]
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            try:
                props = torch.cuda.get_device_properties(index)
                label = f"GPU {index}: {props.name} ({props.total_memory / 2**30:.0f} GiB)"
            except (RuntimeError, AssertionError) as exc:  # a GPU the driver lists but cannot open
                label = f"GPU {index} (unavailable: {exc})"
            found.append(DeviceInfo(f"cuda:{index}", label))
    if _mps_available():
        found.append(DeviceInfo("mps", "Apple GPU (Metal)"))
    return found
