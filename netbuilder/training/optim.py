"""Optimizers and learning-rate schedules from the training settings."""

from __future__ import annotations

from collections.abc import Iterable

import torch

from netbuilder.files.training_settings import TrainingSettings


def _fused(params: list[torch.nn.Parameter]) -> dict:
    """One fused kernel per tensor and step instead of a dozen element-wise ops: on a GPU small models are
    launch-bound and this is where a step's time goes; on the CPU it halves Adam's step (1.9 -> 1.0 ms of a
    22 ms batch-32 step of the seed CNN, one thread), the same update to float rounding."""
    devices = {p.device.type for p in params}
    if params and len(devices) == 1 and devices <= {"cuda", "cpu"} and all(p.is_floating_point() for p in params):
        return {"fused": True}
    return {}


def make_optimizer(params: Iterable[torch.nn.Parameter], s: TrainingSettings,
                   fused: bool = True) -> torch.optim.Optimizer:
    """``weight_decay`` is the L2 penalty (decoupled for AdamW, as that optimizer defines it). SGD, Adam and
    AdamW take their fused implementation where torch has one (``fused=False``: never)."""
    params = list(params)
    lr, wd = s.learning_rate, s.weight_decay
    flags = _fused(params) if fused else {}
    try:
        if s.optimizer == "sgd":
            return torch.optim.SGD(params, lr=lr, momentum=s.momentum, nesterov=s.nesterov, weight_decay=wd, **flags)
        if s.optimizer == "adam":
            return torch.optim.Adam(params, lr=lr, weight_decay=wd, **flags)
        if s.optimizer == "adamw":
            return torch.optim.AdamW(params, lr=lr, weight_decay=wd, **flags)
    except RuntimeError:  # a torch without the fused kernel for these tensors (dtype, device, version)
        if not flags:
            raise
        return make_optimizer(params, s, fused=False)
    if s.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, momentum=s.momentum, weight_decay=wd)
    return torch.optim.Adagrad(params, lr=lr, weight_decay=wd)


class Schedule:
    """Wraps a torch scheduler; knows whether it steps per batch or per epoch."""

    def __init__(self, optimizer: torch.optim.Optimizer, s: TrainingSettings, steps_per_epoch: int) -> None:
        self.kind = s.schedule
        total = steps_per_epoch * s.epochs
        self.per_step = s.schedule in ("cosine", "one_cycle")
        self.scheduler: object | None
        if s.schedule == "step":
            self.scheduler = torch.optim.lr_scheduler.StepLR(optimizer, s.step_size, gamma=s.gamma)
        elif s.schedule == "cosine":
            self.scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(total, 1))
        elif s.schedule == "one_cycle":
            # Adagrad has no momentum for one-cycle to vary; then only the learning rate cycles.
            cycle_momentum = "momentum" in optimizer.defaults or "betas" in optimizer.defaults
            self.scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=s.learning_rate,
                                                                 total_steps=max(total, 1),
                                                                 cycle_momentum=cycle_momentum)
        elif s.schedule == "plateau":
            self.scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
                optimizer, factor=s.gamma, patience=s.plateau_patience)
        else:
            self.scheduler = None
        self.optimizer = optimizer

    def after_step(self) -> None:
        if self.per_step and self.scheduler is not None:
            self.scheduler.step()

    def after_epoch(self, monitored_loss: float) -> None:
        if self.scheduler is None or self.per_step:
            return
        if self.kind == "plateau":
            self.scheduler.step(monitored_loss)
        else:
            self.scheduler.step()

    @property
    def learning_rate(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def state_dict(self) -> dict:
        return self.scheduler.state_dict() if self.scheduler is not None else {}

    def load_state_dict(self, state: dict) -> None:
        if self.scheduler is not None and state:
            self.scheduler.load_state_dict(state)
