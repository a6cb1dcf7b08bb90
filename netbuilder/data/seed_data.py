"""The teaching text's own data (shared/seed, section 4), generated as the text writes it.

Where the text's data is unusable as written, the generator still produces it (so the
app can show the problem), and an option gives the corrected variant the examples use.
"""

from __future__ import annotations

import numpy as np
import torch

from netbuilder.data.dataset import Dataset


def seed_linear(seed: int = 0, noise: float = 0.33) -> Dataset:
    """4.1: X = linspace(-1, 1, 100); Y = 2X + 0.33·N(0, 1)."""
    rng = np.random.RandomState(seed)
    x = np.linspace(-1, 1, 100)
    y = 2 * x + rng.randn(*x.shape) * noise
    return Dataset("seed-linear", _col(x), _col(y), "regression",
                   description="y = 2x + noise, 100 points (teaching text §4.1)", feature_names=["x"])


def seed_logistic(seed: int = 0, label_noise: float = 0.33) -> Dataset:
    """4.2: Y = (X > 0) + 0.33·N(0, 1). With the text's noise the labels leave [0, 1];
    ``label_noise=0`` gives the clean 0/1 labels a binary cross-entropy needs."""
    rng = np.random.RandomState(seed)
    x = np.linspace(-1, 1, 100)
    y = np.where(x > 0, 1, 0) + rng.randn(*x.shape) * label_noise
    return Dataset("seed-logistic", _col(x), _col(y), "binary", num_classes=2,
                   description="class = x > 0, 100 points (teaching text §4.2)"
                   + (f", labels with Gaussian noise σ={label_noise}" if label_noise else ""),
                   feature_names=["x"])


def seed_softmax(seed: int = 0) -> Dataset:
    """4.3: three samples of two features, integer labels 0/1."""
    x = torch.tensor([[1, 2], [2, 3], [3, 4]], dtype=torch.float32)
    y = torch.tensor([0, 1, 0])
    return Dataset("seed-softmax", x, y, "classification", num_classes=2,
                   description="3 samples, 2 features, 2 classes (teaching text §4.3)", feature_names=["x1", "x2"])


def seed_sequence(seed: int = 0) -> Dataset:
    """4.5: the text's [[1, 2], [2, 3], [3, 4]] as sequences of 2 steps × 1 feature, one-hot labels."""
    x = torch.tensor([[1, 2], [2, 3], [3, 4]], dtype=torch.float32).reshape(3, 2, 1)
    y = torch.tensor([[0, 1], [1, 0], [0, 1]], dtype=torch.float32)
    return Dataset("seed-sequence", x, y, "classification", num_classes=2,
                   description="3 sequences of 2 steps, one-hot labels (teaching text §4.5)")


def _col(values: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(values, dtype=torch.float32).reshape(-1, 1)
