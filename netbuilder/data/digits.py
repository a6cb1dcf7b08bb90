"""The 8×8 UCI handwritten digits, bundled (see resources/LICENSES/digits.txt)."""

from __future__ import annotations

import gzip
from importlib import resources

import numpy as np
import torch

from netbuilder.data.dataset import Dataset


def digits() -> Dataset:
    """1,797 images [1, 8, 8] scaled to [0, 1], labels 0..9. Works offline."""
    raw = resources.files("netbuilder_resources").joinpath("data/digits.csv.gz").read_bytes()
    table = np.loadtxt(gzip.decompress(raw).decode("ascii").splitlines(), delimiter=",", dtype=np.float32)
    x = torch.from_numpy(table[:, :64] / 16.0).reshape(-1, 1, 8, 8)
    y = torch.from_numpy(table[:, 64].astype(np.int64))
    return Dataset("digits", x, y, "classification", num_classes=10, class_names=[str(d) for d in range(10)],
                   description="1,797 handwritten digits, 8×8 grey (UCI, CC BY 4.0)")
