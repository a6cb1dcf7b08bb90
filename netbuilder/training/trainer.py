"""The Trainer: runs in any thread, reports through a callback, pauses and stops between batches.

Batches are cut from tensors that already sit on the device (no DataLoader workers, no
per-step host copies), and the loss is read back only every ``report_every`` steps, so
the device never waits on the host in between.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from netbuilder.data.dataset import Dataset
from netbuilder.data.fit import metric_problems
from netbuilder.errors import NetbuilderError
from netbuilder.files.training_settings import SettingsError, TrainingSettings
from netbuilder.training import memory_format
from netbuilder.training.devices import resolve_device
from netbuilder.training.distributed import DistContext
from netbuilder.training.events import Epoch, Event, Failed, Finished, Paused, Resumed, Started, Steps
from netbuilder.training.losses import make_loss
from netbuilder.training.memory_format import LayoutChoice, apply_layout, as_layout
from netbuilder.training.metrics import MetricAccumulator
from netbuilder.training.optim import Schedule, make_optimizer
from netbuilder.training.pool_first import pool_first

HIGHER_IS_BETTER = {"accuracy", "top5", "r2"}


@dataclass
class RunResult:
    """How a run ended: ``status`` is completed, stopped, interrupted, early_stopped or failed."""

    status: str
    epochs_done: int = 0
    steps_done: int = 0
    final: dict[str, float] = field(default_factory=dict)
    best: dict[str, float] = field(default_factory=dict)
    message: str = ""


@dataclass
class TrainState:
    """Where a run is, for checkpoints and resuming."""

    epoch: int = 0
    step: int = 0
    best_value: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class _Stopped(Exception):
    pass


class Trainer:
    """Train ``module`` on ``train`` with ``settings``.

    Parameters
    ----------
    module:
        The model (e.g. from :func:`netbuilder.build_module`). Trained in place.
    train, val:
        Data sets; ``val`` is evaluated after every epoch when given.
    settings:
        Loss, optimizer, schedule, batch size, epochs, device, precision, ...
    on_event:
        Called with each :mod:`netbuilder.training.events` event, on the training thread.
    checkpoint:
        Called as ``checkpoint(tag, trainer, state)`` with tag ``"last"`` after every epoch and when
        the run is stopped (mid-epoch too: ``state.step`` says where), and ``"best"`` when the
        monitored metric improves (see :mod:`netbuilder.training.checkpoint`).
    dist:
        Set when running under torchrun: shards batches, averages gradients and metrics.
    """

    def __init__(self, module: torch.nn.Module, train: Dataset, settings: TrainingSettings,
                 val: Dataset | None = None, on_event: Callable[[Event], None] | None = None,
                 checkpoint: Callable[[str, Trainer, TrainState], None] | None = None,
                 dist: DistContext | None = None) -> None:
        settings.validate()
        self.settings = settings
        self.module = module
        self.train_data = train
        self.val_data = val
        self.on_event = on_event or (lambda event: None)
        self.checkpoint = checkpoint
        self.dist = dist or DistContext()
        self.device = self.dist.device or resolve_device(settings.device)
        if settings.precision != "fp32" and self.device.type != "cuda":
            raise SettingsError(f"precision {settings.precision} needs a CUDA GPU; this run is on "
                                f"{self.device.type}: set precision to fp32")
        if problems := metric_problems(train, settings.metrics):
            raise SettingsError(problems[0].message)
        # On the device before the optimizer exists, so its state (and a resumed one) lives there too.
        self.module = module.to(self.device)
        weights = list(self.module.parameters())
        trainable = [p for p in weights if p.requires_grad]  # frozen layers' weights stay out of the optimizer
        if weights and not trainable:
            raise SettingsError("every layer's weights are frozen, so training would change nothing: unfreeze "
                                "the layers to train (Inspector ▸ Frozen, or Layer ▸ Freeze Weights)")
        self.optimizer = make_optimizer(trainable or weights, settings)
        self.steps_per_epoch = math.ceil(len(train) / settings.batch_size)
        self.schedule = Schedule(self.optimizer, settings, self.steps_per_epoch)
        self.loss_fn = make_loss(settings.loss)
        self.state = TrainState()
        self.layout: LayoutChoice | None = None  # chosen when the run starts
        self._fast: torch.nn.Module | None = None  # what the run trains: the module, or its pool_first twin
        self.pools_moved = 0
        # Where the caller keeps this run, passed on in the Started event (train_project sets them).
        self.run_id: int | None = None
        self.run_dir: str | None = None
        self._pause = threading.Event()
        self._cancel = threading.Event()
        self._interrupted = False
        self._resume = threading.Condition()

    # ---- control, from any thread ----------------------------------------------------
    def pause(self) -> None:
        self._pause.set()

    def resume(self) -> None:
        with self._resume:
            self._pause.clear()
            self._resume.notify_all()

    def cancel(self) -> None:
        """Stop after the current batch (the run ends ``stopped``); a paused run stops at once."""
        self._cancel.set()
        self.resume()

    def interrupt(self) -> None:
        """Stop like :meth:`cancel`, because whatever drove the run is gone (the app that started it
        died): the run ends ``interrupted``, not ``stopped``, with its last checkpoint written the same way."""
        if not self._cancel.is_set():  # a stop asked for before stays a stop
            self._interrupted = True
        self.cancel()

    @property
    def paused(self) -> bool:
        return self._pause.is_set()

    def _checkpoint_between_batches(self) -> None:
        if self._pause.is_set() and not self._cancel.is_set():
            self.on_event(Paused(self.state.step))  # outside the lock: resume() need not wait for it
            with self._resume:
                while self._pause.is_set() and not self._cancel.is_set():
                    self._resume.wait(0.1)
            if not self._cancel.is_set():
                self.on_event(Resumed(self.state.step))
        if self._cancel.is_set():
            raise _Stopped

    # ---- the run -----------------------------------------------------------------------
    def run(self) -> RunResult:
        """Train to the end, a stop, early stopping, or a failure; never raises for those."""
        s = self.settings
        if s.threads:
            torch.set_num_threads(s.threads)
        model = self.module
        # What is trained: the model itself, or its twin with max-pools moved before their ReLUs
        # (the same numbers, sharing every weight; see pool_first).
        self._fast, self.pools_moved = pool_first(model)
        # Before DDP wraps the model: its gradient buckets take the parameters' strides as they are then.
        self.layout = self._choose_layout()
        apply_layout(model, self.optimizer, self.layout.torch_format)
        self._net = self.dist.wrap(self._fast)
        self._snapshot = [t.detach().clone() for t in model.state_dict().values()]
        self._snapshot_step = self.state.step
        self.on_event(Started(str(self.device), s.epochs, self.steps_per_epoch, len(self.train_data),
                              len(self.val_data) if self.val_data else 0, self.run_id, self.run_dir))
        final: dict[str, float] = {}
        best: dict[str, float] = {}
        reason = "completed"
        # The epoch in progress, for messages: state.epoch counts finished epochs and moves on
        # before the checkpoints and events of the epoch that just ended.
        running = self.state.epoch
        try:
            for epoch in range(self.state.epoch, s.epochs):
                running = epoch
                train_metrics = self._train_epoch(epoch)
                val_metrics = self.evaluate(self.val_data) if self.val_data is not None else None
                watched = val_metrics if val_metrics is not None else train_metrics
                self.schedule.after_epoch(watched["loss"])
                self.state.epoch = epoch + 1
                final = {**{f"train_{k}": v for k, v in train_metrics.items()},
                         **{f"val_{k}": v for k, v in (val_metrics or {}).items()}}
                improved = self._improved(watched[s.monitor])
                if improved:
                    best = dict(final, epoch=float(epoch + 1))
                if self.checkpoint is not None and self.dist.is_main:
                    self.checkpoint("last", self, self.state)
                    if improved:
                        self.checkpoint("best", self, self.state)
                self.on_event(Epoch(epoch, train_metrics, val_metrics, self.schedule.learning_rate,
                                    time.perf_counter() - self._t0))
                if not improved and s.early_stopping_patience:
                    waited = self.state.extra.get("epochs_without_improvement", 0) + 1
                    self.state.extra["epochs_without_improvement"] = waited
                    if waited >= s.early_stopping_patience:
                        reason = "early_stopped"
                        break
                elif improved:
                    self.state.extra["epochs_without_improvement"] = 0
        except _Stopped:
            reason = "interrupted" if self._interrupted else "stopped"
            if self.checkpoint is not None and self.dist.is_main:
                try:  # the weights trained so far, mid-epoch too: a stopped run's last checkpoint is usable
                    self.checkpoint("last", self, self.state)
                except Exception as exc:
                    return self._fail(f"stopped at step {self.state.step}, but the last checkpoint could not "
                                      f"be written: {_describe(exc)}", self.state.step, "error")
        except _Diverged as exc:
            return self._fail(str(exc), exc.step, "nan")
        except torch.cuda.OutOfMemoryError:
            return self._fail(f"the GPU ran out of memory at step {self.state.step} with batch_size "
                              f"{s.batch_size}: lower the batch size or use a smaller model", self.state.step,
                              "out_of_memory")
        except Exception as exc:  # the caller's process must survive any error in the model
            return self._fail(f"training stopped at step {self.state.step} (epoch {running + 1}): "
                              f"{_describe(exc)}", self.state.step, "error")
        finally:
            # The layout is the run's business: the module goes back as it came, contiguous, for
            # whatever reads it next (export, codegen, a weights file, a view()).
            apply_layout(model, self.optimizer, torch.contiguous_format)
        self.on_event(Finished(reason, self.state.epoch, self.state.step, final, best))
        return RunResult(reason, self.state.epoch, self.state.step, final, best)

    def _choose_layout(self) -> LayoutChoice:
        """The run's memory layout (see :mod:`netbuilder.training.memory_format`), measured once per Trainer."""
        if self.layout is not None:
            return self.layout
        s, dev = self.settings, self.device
        rows = max(1, s.batch_size // self.dist.world_size)
        xb, yb = self.train_data.x[:rows].to(dev), self.train_data.y[:rows].to(dev)

        def measure() -> dict[str, list[float]]:
            return memory_format.time_training_steps(self._fast, lambda params: make_optimizer(params, s),
                                                     self.loss_fn, xb, yb, self._autocast)

        try:
            choice = memory_format.choose_layout(self.module, s.memory_format, measure)
        except Exception as exc:  # a model that fails here fails in the first step too, and says so there
            choice = LayoutChoice("contiguous", f"could not time the layouts ({type(exc).__name__}: {exc})")
        return memory_format.agree_across_ranks(choice, self.dist.rank, self.dist.world_size)

    def _autocast(self) -> contextlib.AbstractContextManager:
        """Mixed precision for a forward pass, as the settings ask (fp32: none)."""
        s = self.settings
        return (torch.autocast("cuda", dtype=torch.bfloat16 if s.precision == "bf16" else torch.float16)
                if s.precision != "fp32" else contextlib.nullcontext())

    def _fail(self, message: str, step: int, kind: str) -> RunResult:
        self._restore_snapshot()
        self.on_event(Failed(message, step, kind))
        return RunResult("failed", self.state.epoch, self.state.step, message=message)

    def _improved(self, value: float) -> bool:
        best = self.state.best_value
        higher = self.settings.monitor in HIGHER_IS_BETTER
        if best is None or (value > best if higher else value < best):
            self.state.best_value = value
            return True
        return False

    def _train_epoch(self, epoch: int) -> dict[str, float]:
        s, dev, dist = self.settings, self.device, self.dist
        self._net.train()
        x, y = self.train_data.x, self.train_data.y
        if x.device != dev:
            x, y = self.train_data.x.to(dev), self.train_data.y.to(dev)
            self.train_data.x, self.train_data.y = x, y  # stay tensor-resident for later epochs
        n = len(x)
        # Shuffling and dropout depend only on (seed, epoch): a resumed run repeats exactly.
        order = torch.randperm(n, generator=torch.Generator().manual_seed(s.seed * 100_003 + epoch)).to(dev)
        torch.manual_seed(s.seed + 7919 * (epoch + 1) + dist.rank)
        metrics = MetricAccumulator(s.metrics, s.loss, dev)
        pending = torch.zeros(s.report_every, device=dev)
        k = 0
        first = self.state.step
        # A run resumed from a checkpoint written mid-epoch (a stop) skips the batches it had done:
        # the order is the same (it depends on the seed and the epoch alone), the dropout masks are not.
        start = self.state.step - epoch * self.steps_per_epoch
        start = start if 0 < start < self.steps_per_epoch else 0
        self._t0 = getattr(self, "_t0", time.perf_counter())
        t_epoch = time.perf_counter()
        amp = self._autocast()
        scaler = torch.amp.GradScaler("cuda") if s.precision == "fp16" else None
        l1 = s.l1
        layout = self.layout.torch_format
        for b in range(start, self.steps_per_epoch):
            if k and (self._pause.is_set() or self._cancel.is_set()):
                # The curves and the history reach the step where the run holds or stops.
                self._report(pending[:k], first, epoch, b - 1, t_epoch, (b - start) * s.batch_size)
                first, k = self.state.step, 0
            self._checkpoint_between_batches()
            index = order[b * s.batch_size:(b + 1) * s.batch_size]
            batch_n = len(index)
            if dist.world_size > 1:
                index = index[dist.rank::dist.world_size]
            xb, yb = as_layout(x.index_select(0, index), layout), y.index_select(0, index)
            with amp:
                out = self._net(xb)
            # Each rank's share of the global batch's mean loss, weighted by its rows out of the
            # batch's global count: the shares sum to the loss one process would compute, even
            # for a last batch that splits unevenly or leaves a rank no rows (whose mean is nan).
            local = self.loss_fn(out, yb) if len(index) else None
            if local is None:
                loss = out.float().sum() * 0.0  # still reaches every weight, so DDP's reduction runs
            else:
                loss = local if len(index) == batch_n else local * (len(index) / batch_n)
            # DDP averages gradients over ranks; times world_size that average is the sum of shares.
            total = loss * dist.world_size if dist.world_size > 1 else loss
            if l1:
                total = total + l1 * sum(p.abs().sum() for p in self.module.parameters())
            self.optimizer.zero_grad(set_to_none=True)
            if scaler is not None:
                scaler.scale(total).backward()
                if s.grad_clip:
                    scaler.unscale_(self.optimizer)
                    torch.nn.utils.clip_grad_norm_(self.module.parameters(), s.grad_clip)
                scaler.step(self.optimizer)
                scaler.update()
            else:
                total.backward()
                if s.grad_clip:
                    torch.nn.utils.clip_grad_norm_(self.module.parameters(), s.grad_clip)
                self.optimizer.step()
            self.schedule.after_step()
            pending[k] = loss.detach()
            if local is not None:
                metrics.update(out, yb, local)
            k += 1
            self.state.step += 1
            if k == s.report_every or b == self.steps_per_epoch - 1:
                self._report(pending[:k], first, epoch, b, t_epoch, (b + 1 - start) * s.batch_size)
                first, k = self.state.step, 0
        return metrics.compute(dist.all_reduce_sum)

    def _report(self, losses: torch.Tensor, first: int, epoch: int, batch: int, t_epoch: float,
                samples: int) -> None:
        """The one host sync per interval: read losses, stop on NaN, snapshot good weights."""
        values = self.dist.sum_across(losses).tolist()  # the ranks' shares add up to each step's loss
        bad = next((i for i, v in enumerate(values) if not math.isfinite(v)), None)
        if bad is not None:
            raise _Diverged(first + bad, values[bad], self._snapshot_step, self.settings)
        self._take_snapshot()
        elapsed = time.perf_counter() - t_epoch
        rate = samples / elapsed if elapsed > 0 else 0.0
        total = self.steps_per_epoch * self.settings.epochs
        eta = (total - self.state.step) * self.settings.batch_size / rate if rate else float("inf")
        self.on_event(Steps(first, values, epoch, batch, self.steps_per_epoch, total, rate, eta))

    def _take_snapshot(self) -> None:
        with torch.no_grad():
            for saved, current in zip(self._snapshot, self.module.state_dict().values(), strict=True):
                saved.copy_(current)
        self._snapshot_step = self.state.step

    def _restore_snapshot(self) -> None:
        snapshot = getattr(self, "_snapshot", None)
        if snapshot is None:
            return
        with torch.no_grad():
            for saved, current in zip(snapshot, self.module.state_dict().values(), strict=True):
                current.copy_(saved)

    @torch.no_grad()
    def evaluate(self, data: Dataset) -> dict[str, float]:
        """Metrics of the model on ``data`` (eval mode: no dropout, running batch-norm stats)."""
        s, dev = self.settings, self.device
        net = self._fast if self._fast is not None else self.module.to(dev)
        net.eval()
        metrics = MetricAccumulator(s.metrics, s.loss, dev)
        chunk = max(s.batch_size, 256)
        rank, world = self.dist.rank, self.dist.world_size
        amp = self._autocast()
        for start in range(rank * chunk, len(data), chunk * world):
            xb = data.x[start:start + chunk].to(dev, non_blocking=True)
            yb = data.y[start:start + chunk].to(dev, non_blocking=True)
            with amp:
                out = net(xb)
            metrics.update(out, yb, self.loss_fn(out, yb))
        net.train()
        return metrics.compute(self.dist.all_reduce_sum)


def _describe(exc: Exception) -> str:
    """An error for a message: the engine's own say what happened and what to do in their words;
    anything else (a bug in a layer, torch's own complaint) is named by its type too."""
    return str(exc) if isinstance(exc, NetbuilderError) else f"{type(exc).__name__}: {exc}"


class _Diverged(Exception):
    def __init__(self, step: int, value: float, good_step: int, s: TrainingSettings) -> None:
        self.step = step
        super().__init__(
            f"the loss became {value} at step {step}; training stopped and the weights were put back to "
            f"step {good_step}, the last with a finite loss. Try a lower learning_rate "
            f"(now {s.learning_rate:g})" + (", or set grad_clip" if not s.grad_clip else "")
            + ", and check the data for NaN or huge values")
