"""Training settings as stored in a project's ``"training"`` object, typed and checked."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields
from typing import Any

from netbuilder.errors import NetbuilderError

LOSSES = ("mse", "l1", "huber", "bce", "bce_with_logits", "cross_entropy", "cross_entropy_soft", "nll")
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad")
SCHEDULES = ("none", "step", "cosine", "one_cycle", "plateau")
METRICS = ("loss", "accuracy", "top5", "mae", "r2")
DEVICES = ("auto", "cpu", "cuda", "mps")
# Besides DEVICES, one CUDA GPU by its number: "cuda:0", "cuda:1", ...
CUDA_DEVICE = re.compile(r"cuda:(0|[1-9][0-9]{0,2})")
# Losses that compare class numbers (int64 [N]) rather than same-shaped float targets.
INDEX_TARGET_LOSSES = ("cross_entropy", "nll")
PRECISIONS = ("fp32", "bf16", "fp16")
# How 4-D tensors (images, conv weights) lie in memory while training; auto measures both.
MEMORY_FORMATS = ("auto", "contiguous", "channels_last")


class SettingsError(NetbuilderError):
    """A training setting is invalid; the message names it and the allowed values."""


@dataclass
class TrainingSettings:
    """Everything that decides how a run trains. Defaults suit a first try.

    ``seed`` fixes initial weights, shuffling and dropout, so a run repeats exactly on the
    same device. ``report_every`` is how many steps pass between host syncs (the loss is
    read back, checked for NaN, and reported); a smaller value costs speed.
    """

    loss: str = "mse"
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    momentum: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0
    l1: float = 0.0
    schedule: str = "none"
    step_size: int = 10
    gamma: float = 0.1
    plateau_patience: int = 5
    batch_size: int = 32
    epochs: int = 10
    grad_clip: float = 0.0
    validation_split: float = 0.2
    early_stopping_patience: int = 0
    monitor: str = "loss"
    metrics: tuple[str, ...] = ("loss",)
    seed: int = 0
    device: str = "auto"
    precision: str = "fp32"
    memory_format: str = "auto"
    threads: int = 0
    report_every: int = 10

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainingSettings:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise SettingsError(f"unknown training setting {unknown[0]!r}; known: {', '.join(sorted(known))}")
        settings = cls(**{k: tuple(v) if k == "metrics" else v for k, v in values.items()})
        settings.validate()
        return settings

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["metrics"] = list(self.metrics)
        return d

    def validate(self) -> None:
        for name, allowed in (("loss", LOSSES), ("optimizer", OPTIMIZERS), ("schedule", SCHEDULES),
                              ("precision", PRECISIONS),
                              ("memory_format", MEMORY_FORMATS)):
            value = getattr(self, name)
            if value not in allowed:
                raise SettingsError(f"training setting {name!r} is {value!r}; choose one of {', '.join(allowed)}")
        if self.device not in DEVICES and not (isinstance(self.device, str) and CUDA_DEVICE.fullmatch(self.device)):
            raise SettingsError(f"training setting 'device' is {self.device!r}; choose one of {', '.join(DEVICES)}, "
                                "or one GPU as cuda:0, cuda:1, ...")
        for m in (*self.metrics, self.monitor):
            if m not in METRICS:
                raise SettingsError(f"unknown metric {m!r}; choose from {', '.join(METRICS)}")
        # The loss is always computed; any other watched metric must be asked for, or the
        # run would only find out after its first epoch.
        if self.monitor != "loss" and self.monitor not in self.metrics:
            raise SettingsError(
                f"training setting 'monitor' is {self.monitor!r}, but 'metrics' ({', '.join(self.metrics)}) "
                f"does not compute it: add {self.monitor!r} to metrics, or monitor 'loss'")
        checks = (
            ("learning_rate", 0 < self.learning_rate <= 1e6, "above 0 and at most 1000000"),
            ("batch_size", isinstance(self.batch_size, int) and self.batch_size >= 1, "a whole number, 1 or more"),
            ("epochs", isinstance(self.epochs, int) and self.epochs >= 1, "a whole number, 1 or more"),
            ("validation_split", 0 <= self.validation_split <= 0.9, "from 0 to 0.9"),
            ("momentum", 0 <= self.momentum <= 1, "between 0 and 1"),
            ("weight_decay", self.weight_decay >= 0, "0 or more"),
            ("l1", self.l1 >= 0, "0 or more"),
            ("grad_clip", self.grad_clip >= 0, "0 (off) or more"),
            ("step_size", isinstance(self.step_size, int) and self.step_size >= 1, "a whole number, 1 or more"),
            ("gamma", 0 < self.gamma <= 1, "above 0 and at most 1"),
            ("report_every", isinstance(self.report_every, int) and self.report_every >= 1, "1 or more"),
            ("threads", isinstance(self.threads, int) and self.threads >= 0, "0 (all cores) or more"),
            ("early_stopping_patience", self.early_stopping_patience >= 0, "0 (off) or more"),
        )
        for name, ok, wanted in checks:
            if not ok:
                raise SettingsError(f"training setting {name!r} is {getattr(self, name)!r}; it must be {wanted}")
        if self.nesterov and (self.optimizer != "sgd" or self.momentum <= 0):
            raise SettingsError("nesterov needs the sgd optimizer with momentum above 0")
