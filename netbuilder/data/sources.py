"""Which data set a project trains on: ``project.data = {"dataset": NAME, "options": {...}}``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch.nn.functional as F

from netbuilder.data import seed_data
from netbuilder.data.dataset import DataError, Dataset
from netbuilder.data.digits import digits

BUILT_IN: dict[str, Callable[..., Dataset]] = {
    "seed-linear": seed_data.seed_linear,
    "seed-logistic": seed_data.seed_logistic,
    "seed-softmax": seed_data.seed_softmax,
    "seed-sequence": seed_data.seed_sequence,
    "digits": lambda seed=0: digits(),
}


def dataset_names() -> list[str]:
    return list(BUILT_IN)


def load_dataset(data: dict[str, Any], base_dir: Path | None = None, seed: int = 0) -> Dataset:
    """Load the data set a project names. Relative file paths are taken from ``base_dir``.

    Common options: ``resize`` ([H, W]) resizes image samples, e.g. the 8×8 digits to the
    seed CNN's 28×28 input.
    """
    name = data.get("dataset") or ""
    options = dict(data.get("options") or {})
    resize = options.pop("resize", None)
    if not name:
        raise DataError("the project names no data set; choose one in the Data settings "
                        f"(built in: {', '.join(BUILT_IN)})")
    if name in BUILT_IN:
        try:
            dataset = BUILT_IN[name](seed=seed, **options)
        except TypeError as exc:
            raise DataError(f"data set '{name}' does not take these options: {exc}") from None
    else:
        raise DataError(f"unknown data set '{name}'; built in: {', '.join(BUILT_IN)}")
    if resize is not None:
        dataset = resize_images(dataset, resize)
    return dataset


def resize_images(dataset: Dataset, size: list[int]) -> Dataset:
    if dataset.x.dim() != 4 or len(size) != 2:
        raise DataError(f"resize needs image samples [C, H, W] and a size [H, W]; data set '{dataset.name}' "
                        f"has samples of shape {list(dataset.x.shape[1:])}")
    x = F.interpolate(dataset.x, size=tuple(size), mode="bilinear", align_corners=False)
    return Dataset(dataset.name, x.contiguous(), dataset.y, dataset.task, dataset.num_classes,
                   dataset.class_names, dataset.description + f", resized to {size[0]}×{size[1]}",
                   dataset.feature_names)


