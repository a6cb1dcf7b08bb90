"""What the Data dock shows of a data set: a few rows or images, the shapes that reach the Input,
the class counts and the sizes of the training and validation parts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch

from netbuilder.data.dataset import Dataset

ROWS = 6
IMAGES = 8


@dataclass
class Preview:
    """A data set, summarised for showing.

    Parameters
    ----------
    kind:
        ``"table"`` (``columns`` and ``rows`` of text) or ``"images"`` (``images`` as float arrays
        [H, W] for grey or [C, H, W] for colour, values as stored, with ``labels``).
    input_shape, input_dtype:
        One sample as it reaches the Input (without the batch dimension), e.g. [1, 28, 28] float32.
    class_counts:
        Class name -> number of samples, for classification and binary data; empty otherwise.
    train_size, validation_size:
        The samples each part gets with the project's validation split (or separate set).
    """

    name: str
    description: str
    task: str
    kind: Literal["table", "images"]
    samples: int
    input_shape: list[int]
    input_dtype: str
    target_shape: list[int]
    target_dtype: str
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    images: list[np.ndarray] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    class_counts: dict[str, int] = field(default_factory=dict)
    train_size: int = 0
    validation_size: int = 0
    split_problem: str | None = None


def _number(value: float) -> str:
    return f"{value:.4g}"


def _dtype(t: torch.Tensor) -> str:
    return str(t.dtype).removeprefix("torch.")


def _label(dataset: Dataset, target: torch.Tensor) -> str:
    """One sample's target as a person reads it: the class name, or the numbers."""
    names = dataset.class_names
    if target.dim() == 0 and dataset.labels_are_indices:
        k = int(target)
        return names[k] if names and 0 <= k < len(names) else str(k)
    if dataset.task == "classification" and target.dim() == 1 and target.numel() > 1:
        k = int(target.argmax())  # a one-hot or probability row: its most likely class
        return names[k] if names and k < len(names) else str(k)
    flat = target.reshape(-1).tolist()
    return ", ".join(_number(v) for v in flat[:4]) + (", …" if len(flat) > 4 else "")


def class_counts(dataset: Dataset) -> dict[str, int]:
    """How many samples each class has (classification or binary targets); empty for regression."""
    y = dataset.y
    if dataset.labels_are_indices:
        n = max(dataset.num_classes or 0, int(y.max()) + 1 if len(y) else 0)
        counts = torch.bincount(y.reshape(-1).clamp(min=0), minlength=n).tolist()
    elif dataset.task == "classification" and y.dim() == 2 and y.shape[1] > 1:
        counts = torch.bincount(y.argmax(1), minlength=y.shape[1]).tolist()
    elif dataset.task == "binary":
        ones = int((y.reshape(-1) > 0.5).sum())
        counts = [len(y) - ones, ones]
    else:
        return {}
    names = dataset.class_names or []
    return {(names[k] if k < len(names) else str(k)): c for k, c in enumerate(counts)}


def split_sizes(samples: int, validation_split: float) -> tuple[int, int]:
    """(training, validation) sample counts, as :meth:`Dataset.split` makes them."""
    n_val = round(samples * validation_split) if validation_split > 0 else 0
    return samples - n_val, n_val


def preview(dataset: Dataset, validation_split: float = 0.0, seed: int = 0,
            validation: Dataset | None = None, rows: int = ROWS) -> Preview:
    """A summary of ``dataset``. ``validation`` (a separate set) replaces the split; ``seed`` is the
    one the split shuffles with (the rows shown are the first in the file, unshuffled)."""
    x, y = dataset.x, dataset.y
    shown = Preview(dataset.name, dataset.description, dataset.task,
                    "images" if x.dim() == 4 else "table",
                    len(dataset), list(x.shape[1:]), _dtype(x), list(y.shape[1:]), _dtype(y))
    shown.class_counts = class_counts(dataset)
    if validation is not None:
        shown.train_size, shown.validation_size = len(dataset), len(validation)
    else:
        shown.train_size, shown.validation_size = split_sizes(len(dataset), validation_split)
        if shown.validation_size and shown.train_size <= 0:
            shown.split_problem = (f"a validation split of {validation_split} leaves no training samples in "
                                   f"'{dataset.name}' ({len(dataset)} samples): lower it")
    if shown.kind == "images":
        for k in range(min(IMAGES, len(dataset))):
            image = x[k].detach().float().cpu().numpy()
            shown.images.append(image[0] if image.shape[0] == 1 else image)
            shown.labels.append(_label(dataset, y[k]))
        return shown
    features = x.reshape(len(x), -1) if x.dim() > 1 else x.reshape(-1, 1)
    width = features.shape[1]
    names = dataset.feature_names if len(dataset.feature_names) == width else [f"x{k}" for k in range(width)]
    many = width > 8  # a sequence or a wide table: the first columns, then the count of the rest
    shown.columns = [*names[:8], *([f"… (+{width - 8})"] if many else []), "target"]
    for k in range(min(rows, len(dataset))):
        values = features[k].tolist()
        cells = [str(v) if isinstance(v, int) else _number(v) for v in values[:8]]
        shown.rows.append([*cells, *(["…"] if many else []), _label(dataset, y[k])])
    return shown
