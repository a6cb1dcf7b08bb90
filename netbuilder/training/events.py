"""What a training run reports, through the callback given to the Trainer.

Plain dataclasses: the GUI's worker turns them into queued Qt signals; the CLI prints them;
the run history stores them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Started:
    device: str
    epochs: int
    steps_per_epoch: int
    train_samples: int
    val_samples: int
    run_id: int | None = None  # the run's number in the history, when it keeps one
    run_dir: str | None = None  # the folder of its checkpoints (best/last.safetensors)


@dataclass(frozen=True)
class Steps:
    """The losses of steps ``first_step`` .. ``first_step + len(losses) - 1`` (a report interval)."""

    first_step: int
    losses: list[float]
    epoch: int
    batch: int
    steps_per_epoch: int
    total_steps: int
    samples_per_s: float
    eta_s: float

    @property
    def step(self) -> int:
        return self.first_step + len(self.losses) - 1

    @property
    def progress(self) -> float:
        return (self.step + 1) / self.total_steps


@dataclass(frozen=True)
class Epoch:
    epoch: int
    train: dict[str, float]
    val: dict[str, float] | None
    learning_rate: float
    elapsed_s: float


@dataclass(frozen=True)
class Finished:
    """``reason``: ``completed``, ``stopped`` (asked to; the ``last`` checkpoint holds the weights
    so far), ``interrupted`` (what drove the run went away, e.g. the app died; saved like a stop)
    or ``early_stopped``."""

    reason: str
    epochs_done: int
    steps_done: int
    final: dict[str, float] = field(default_factory=dict)
    best: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Failed:
    """The run ended early; ``message`` says why and what to try; weights are the last good ones."""

    message: str
    step: int
    kind: str = "error"  # "nan", "out_of_memory", "error"; before a run: "setup", "internal"


@dataclass(frozen=True)
class Paused:
    """The run holds between batches after step ``step`` - 1 (``step`` steps are done)."""

    step: int


@dataclass(frozen=True)
class Resumed:
    """The run goes on from ``step``."""

    step: int


Event = Started | Steps | Epoch | Finished | Failed | Paused | Resumed
