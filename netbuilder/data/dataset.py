"""A data set held in tensors: samples ``x``, targets ``y``, and what the targets mean."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

import torch

from netbuilder.errors import DataError
from netbuilder.layers import TensorType

Task = Literal["regression", "binary", "classification"]


@dataclass
class Dataset:
    """Samples and targets, small enough to live in memory as tensors.

    Parameters
    ----------
    name:
        Shown in messages, e.g. ``"digits"`` or a file name.
    x:
        Samples, ``[N, *sample_shape]``: float32, or int64 token ids.
    y:
        Targets: int64 class numbers ``[N]`` for classification; float32 ``[N, *target]``
        otherwise (one-hot or probability rows for classification with soft targets).
    task:
        ``"regression"``, ``"binary"`` (targets in [0, 1]) or ``"classification"``.
    num_classes:
        For classification, the number of classes.
    """

    name: str
    x: torch.Tensor
    y: torch.Tensor
    task: Task = "regression"
    num_classes: int | None = None
    class_names: list[str] | None = None
    description: str = ""
    feature_names: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if len(self.x) != len(self.y):
            raise DataError(f"data set '{self.name}' has {len(self.x)} samples but {len(self.y)} targets; "
                            "each sample needs exactly one target")
        if len(self.x) == 0:
            raise DataError(f"data set '{self.name}' has no samples")

    def __len__(self) -> int:
        return len(self.x)

    @property
    def input_type(self) -> TensorType:
        return TensorType(tuple(self.x.shape[1:]), "int64" if self.x.dtype == torch.int64 else "float32")

    @property
    def labels_are_indices(self) -> bool:
        return self.y.dtype == torch.int64

    def subset(self, index: torch.Tensor, name: str | None = None) -> Dataset:
        return replace(self, name=name or self.name, x=self.x[index], y=self.y[index])

    def split(self, fraction: float, seed: int) -> tuple[Dataset, Dataset | None]:
        """Shuffle with ``seed`` and hold out ``fraction`` of the samples for validation."""
        n_val = round(len(self) * fraction)
        if fraction <= 0 or n_val == 0:
            return self, None
        if n_val >= len(self):
            raise DataError(f"validation_split {fraction} leaves no training samples in '{self.name}' "
                            f"({len(self)} samples); lower it")
        order = torch.randperm(len(self), generator=torch.Generator().manual_seed(seed))
        return (self.subset(order[n_val:], f"{self.name} (train)"),
                self.subset(order[:n_val], f"{self.name} (validation)"))
