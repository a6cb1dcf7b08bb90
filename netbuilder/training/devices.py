"""Choosing the device: auto picks CUDA, then Apple MPS, then the CPU."""

from __future__ import annotations

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
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise SettingsError("device 'mps' was asked for but Apple's Metal is not available here; use 'auto'")
    return torch.device(name)
