"""Metrics accumulated on the device over an epoch, read back with one sync at its end."""

from __future__ import annotations

from collections.abc import Callable

import torch


class MetricAccumulator:
    """Sums what each metric needs, batch by batch, without leaving the device.

    Parameters
    ----------
    metrics:
        Names from ``loss``, ``accuracy``, ``top5``, ``mae``, ``r2``.
    loss:
        The loss name, which says how to read the output: logits, probabilities or values.
    """

    def __init__(self, metrics: tuple[str, ...], loss: str, device: torch.device) -> None:
        self.metrics = tuple(dict.fromkeys(("loss", *metrics)))
        self.loss = loss
        z = torch.zeros((), dtype=torch.float64, device=device)
        self._sums = {k: z.clone() for k in ("loss", "correct", "top5", "abs", "sq_err", "y", "y2")}
        self._count = 0
        self._values = 0

    def update(self, output: torch.Tensor, target: torch.Tensor, loss: torch.Tensor) -> None:
        n = output.shape[0]
        s = self._sums
        s["loss"].add_(loss.detach(), alpha=n)  # one kernel: this runs every step
        self._count += n
        out = output.detach().float()
        if "accuracy" in self.metrics or "top5" in self.metrics:
            if self.loss in ("bce", "bce_with_logits"):
                threshold = 0.5 if self.loss == "bce" else 0.0
                truth = target > 0.5
                s["correct"] += ((out > threshold) == truth).all(dim=tuple(range(1, out.dim()))).sum()
            else:
                labels = target if target.dtype == torch.int64 else target.argmax(dim=1)
                s["correct"] += (out.argmax(dim=1) == labels).sum()
                if "top5" in self.metrics:
                    k = min(5, out.shape[1])
                    s["top5"] += (out.topk(k, dim=1).indices == labels.unsqueeze(1)).any(dim=1).sum()
        if "mae" in self.metrics or "r2" in self.metrics:
            t = target.float().reshape(out.shape)
            s["abs"] += (out - t).abs().sum().double()
            s["sq_err"] += ((out - t) ** 2).sum().double()
            s["y"] += t.sum().double()
            s["y2"] += (t**2).sum().double()
            self._values += t.numel()

    def compute(self, reduce: Callable[[torch.Tensor], torch.Tensor] | None = None) -> dict[str, float]:
        """One host sync: every metric as a float. ``reduce`` sums across processes."""
        keys = list(self._sums)
        packed = torch.stack([*self._sums.values(),
                              torch.tensor(float(self._count), dtype=torch.float64, device=self._sums["loss"].device),
                              torch.tensor(float(self._values), dtype=torch.float64, device=self._sums["loss"].device)])
        if reduce is not None:
            packed = reduce(packed)
        *sums, count, values = packed.tolist()
        if count == 0:
            return {}
        s = dict(zip(keys, sums, strict=True))
        self._count, self._values = int(count), int(values)
        result = {"loss": s["loss"] / self._count}
        if "accuracy" in self.metrics:
            result["accuracy"] = s["correct"] / self._count
        if "top5" in self.metrics:
            result["top5"] = s["top5"] / self._count
        if self._values:
            if "mae" in self.metrics:
                result["mae"] = s["abs"] / self._values
            if "r2" in self.metrics:
                total = s["y2"] - s["y"] ** 2 / self._values
                result["r2"] = 1.0 - s["sq_err"] / total if total > 0 else float("nan")
        return result
