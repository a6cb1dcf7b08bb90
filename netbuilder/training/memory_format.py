"""Which memory layout a run keeps its 4-D tensors in: contiguous (NCHW) or channels_last (NHWC).

The layout changes no arithmetic, only the kernels that do it: oneDNN on the CPU and cuDNN
on a GPU often have faster channels_last convolutions, and often is not always. On this
project's 2-core CI CPU the seed CNN trained 1.35x faster at batch 32 and 1.19x at batch
128 in channels_last, while Intel's own extension warns that "for few use cases, this may
bring performance regression" and asks for a sample input to decide. So ``auto`` does what
that advice says: it times a few training steps of each layout on copies of the model, with
a real batch, and keeps channels_last only when it is clearly faster. Graphs without a 4-D
weight (MLPs, recurrent nets) have nothing to lay out and are never timed.
"""

from __future__ import annotations

import contextlib
import copy
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

CONTIGUOUS = "contiguous"
CHANNELS_LAST = "channels_last"
# channels_last must beat contiguous by this factor (median step time) to be chosen: a
# closer call is within what a shared machine's noise can flip, and contiguous is the
# layout every other tool expects, so it keeps ties.
MARGIN = 1.05
WARMUP_STEPS = 2  # the first steps build oneDNN/cuDNN plans and allocate; not timed
TIMED_ROUNDS = 5  # interleaved: one step of each layout per round, so drift hits both alike


@dataclass(frozen=True)
class LayoutChoice:
    """The layout a run trains in, and why.

    ``step_seconds`` holds the timed steps per layout when it was measured (empty otherwise);
    ``probe_seconds`` is the wall time the measurement took, paid once per run.
    """

    name: str
    reason: str
    step_seconds: dict[str, list[float]] = field(default_factory=dict)
    probe_seconds: float = 0.0

    @property
    def torch_format(self) -> torch.memory_format:
        return torch.channels_last if self.name == CHANNELS_LAST else torch.contiguous_format


def has_4d_weights(module: torch.nn.Module) -> bool:
    """Whether the layout can matter: only 4-D tensors (Conv2d weights, images) have one."""
    return any(p.dim() == 4 for p in module.parameters())


def decide(step_seconds: dict[str, Sequence[float]], margin: float = MARGIN) -> str:
    """channels_last when its median step time beats contiguous by ``margin``; else contiguous."""
    fast = statistics.median(step_seconds[CHANNELS_LAST])
    default = statistics.median(step_seconds[CONTIGUOUS])
    return CHANNELS_LAST if fast * margin < default else CONTIGUOUS


def apply_layout(module: torch.nn.Module, optimizer: torch.optim.Optimizer | None,
                 memory_format: torch.memory_format) -> None:
    """Put ``module``'s 4-D weights, and the optimizer's state that mirrors them, in ``memory_format``.

    ``Module.to`` swaps each parameter's data in place, so the optimizer keeps the same
    parameter objects; its moment buffers (e.g. Adam's, or a resumed run's) are laid out
    alike so the update does not mix strides (CUDA's fused optimizers want them equal).
    """
    module.to(memory_format=memory_format)
    if optimizer is None:
        return
    for param, state in optimizer.state.items():
        if param.dim() != 4:
            continue
        for key, value in state.items():
            if torch.is_tensor(value) and value.shape == param.shape:
                state[key] = value.contiguous(memory_format=memory_format)


def as_layout(batch: torch.Tensor, memory_format: torch.memory_format) -> torch.Tensor:
    """A 4-D batch in ``memory_format`` (others as they are). ``to`` rather than ``contiguous``:
    for one channel the two layouts hold the same bytes and only ``to`` sets the strides that
    tell the kernels which one is meant."""
    if batch.dim() != 4 or memory_format is torch.contiguous_format:
        return batch
    return batch.to(memory_format=memory_format)


StepTimer = Callable[[], dict[str, list[float]]]


def choose_layout(module: torch.nn.Module, setting: str, measure: StepTimer) -> LayoutChoice:
    """The layout for a run. ``setting`` is the training setting (auto, contiguous, channels_last);
    ``measure`` times steps of both layouts and is called only for ``auto`` on a graph with 4-D weights."""
    if setting != "auto":
        return LayoutChoice(setting, f"memory_format is set to {setting}")
    if not has_4d_weights(module):
        return LayoutChoice(CONTIGUOUS, "no 4-D weights (no Conv2d): the layout cannot matter")
    start = time.perf_counter()
    seconds = measure()
    probe = time.perf_counter() - start
    name = decide(seconds)
    medians = {k: statistics.median(v) * 1e3 for k, v in seconds.items()}
    return LayoutChoice(name, f"measured: channels_last {medians[CHANNELS_LAST]:.2f} ms/step, contiguous "
                              f"{medians[CONTIGUOUS]:.2f} ms/step (median of {len(seconds[CONTIGUOUS])})",
                        seconds, probe)


def time_training_steps(module: torch.nn.Module, make_optimizer: Callable[[Any], torch.optim.Optimizer],
                        loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
                        xb: torch.Tensor, yb: torch.Tensor, autocast: Callable[[], Any] | None = None,
                        warmup: int = WARMUP_STEPS, rounds: int = TIMED_ROUNDS) -> dict[str, list[float]]:
    """Seconds per training step (forward, backward, optimizer step) in each layout.

    Trains one deep copy, so the real model, its optimizer and the global random state
    (dropout) are left as they were; one copy, switched between layouts before each step
    (untimed), keeps the extra memory to one model and its optimizer state. On CUDA each
    step is synchronised, since kernels run asynchronously and a host clock alone would
    time only their launch.
    """
    cuda = xb.is_cuda
    rng = torch.random.get_rng_state()
    cuda_rng = torch.cuda.get_rng_state_all() if cuda else None
    twin = copy.deepcopy(module)
    twin.train()
    optimizer = make_optimizer(twin.parameters())
    formats = {CONTIGUOUS: torch.contiguous_format, CHANNELS_LAST: torch.channels_last}
    batches = {name: as_layout(xb, fmt) for name, fmt in formats.items()}
    autocast = autocast or contextlib.nullcontext

    def step(name: str) -> float:
        apply_layout(twin, optimizer, formats[name])
        if cuda:
            torch.cuda.synchronize(xb.device)
        start = time.perf_counter()
        with autocast():
            out = twin(batches[name])
        loss = loss_fn(out, yb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if cuda:
            torch.cuda.synchronize(xb.device)
        return time.perf_counter() - start

    seconds: dict[str, list[float]] = {name: [] for name in formats}
    try:
        for _ in range(warmup):
            for name in formats:
                step(name)
        for r in range(rounds):
            # Alternate which layout goes first, so neither always inherits the other's warm cache.
            for name in (list(formats) if r % 2 == 0 else list(reversed(formats))):
                seconds[name].append(step(name))
    finally:
        torch.random.set_rng_state(rng)
        if cuda_rng is not None:
            torch.cuda.set_rng_state_all(cuda_rng)
    return seconds


def agree_across_ranks(choice: LayoutChoice, rank: int, world_size: int) -> LayoutChoice:
    """Rank 0's choice for every rank: DDP requires each parameter's strides to match across ranks,
    and each rank's own timing could tip the other way."""
    if world_size <= 1:
        return choice
    import torch.distributed as dist

    shared = [choice.name, choice.reason]
    dist.broadcast_object_list(shared, src=0)
    if rank == 0 or shared[0] == choice.name:
        return choice
    return LayoutChoice(shared[0], f"rank 0's choice ({shared[1]})", choice.step_seconds, choice.probe_seconds)
