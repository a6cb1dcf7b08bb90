"""Loss functions by name. Each takes the model's output and the targets, gives a mean."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

_LOSSES: dict[str, LossFn] = {
    "mse": F.mse_loss,
    "l1": F.l1_loss,
    "huber": F.huber_loss,
    "bce": F.binary_cross_entropy,
    "bce_with_logits": F.binary_cross_entropy_with_logits,
    "cross_entropy": F.cross_entropy,
    "cross_entropy_soft": F.cross_entropy,  # torch takes probability rows as targets too
    "nll": F.nll_loss,
}


def make_loss(name: str) -> LossFn:
    """The loss called ``name``. Computed in float32 even under mixed precision."""
    fn = _LOSSES[name]

    def loss(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return fn(output.float(), target)

    loss.__name__ = name
    return loss
