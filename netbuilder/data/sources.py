"""Which data set a project trains on: ``project.data = {"dataset": NAME, "options": {...}}``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch.nn.functional as F

from netbuilder.data import seed_data
from netbuilder.data.dataset import DataError, Dataset
from netbuilder.data.digits import digits
from netbuilder.data.images import load_image_folder
from netbuilder.data.mnist import Progress, load_mnist
from netbuilder.data.tabular import load_csv, load_numpy
from netbuilder.files.data_settings import PATH_OPTIONS, data_settings_problems

BUILT_IN: dict[str, Callable[..., Dataset]] = {
    "seed-linear": seed_data.seed_linear,
    "seed-logistic": seed_data.seed_logistic,
    "seed-softmax": seed_data.seed_softmax,
    "seed-sequence": seed_data.seed_sequence,
    "digits": lambda seed=0: digits(),
}


# Data sets read from files; their path options are relative to the project's folder.
FROM_FILES = ("mnist", "fashion-mnist", "csv", "numpy", "image-folder")
# Options without a default, named here so a missing one reads as a setting to fill, not a TypeError.
_REQUIRED = {"csv": ("path",), "numpy": ("path",), "image-folder": ("path",)}


def dataset_names() -> list[str]:
    return [*BUILT_IN, *FROM_FILES]


def load_dataset(data: dict[str, Any], base_dir: Path | None = None, seed: int = 0,
                 input_shape: tuple[int, ...] | None = None, progress: Progress | None = None) -> Dataset:
    """Load the data set a project names. Relative file paths are taken from ``base_dir``.

    Common options: ``resize`` ([H, W]) resizes image samples, e.g. the 8×8 digits to the
    seed CNN's 28×28 input. ``input_shape`` (the model's Input) sizes an image folder's
    images; ``progress`` hears about downloads.
    """
    name = data.get("dataset") or ""
    if not name:
        raise DataError("the project names no data set; choose one in the Data settings "
                        f"(built in: {', '.join(BUILT_IN)})")
    # Refused by name before anything is read: a misspelt option must not fall back to a default.
    if problems := data_settings_problems({"dataset": name, "options": data.get("options")}):
        raise DataError("; ".join(problems))
    options = dict(data.get("options") or {})
    resize = options.pop("resize", None)
    for key in PATH_OPTIONS:
        if isinstance(options.get(key), str) and base_dir is not None:
            options[key] = str((Path(base_dir) / Path(options[key]).expanduser()).resolve())
    required = [p for p in _REQUIRED.get(name, ()) if p not in options]
    if required:
        raise DataError(f"data set '{name}' needs the option {required[0]!r}; set it in the Data settings")
    if name in BUILT_IN:
        dataset = BUILT_IN[name](seed=seed, **options)
    elif name in ("mnist", "fashion-mnist"):
        dataset = load_mnist(name, progress=progress, **options)
    elif name == "csv":
        dataset = load_csv(**options)
    elif name == "numpy":
        dataset = load_numpy(**options)
    else:
        dataset = load_image_folder(shape=tuple(input_shape or (3, 32, 32)), **options)
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


