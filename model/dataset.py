"""A loaded data set and where data sets are looked for: the type every loader returns (numpy only)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATASETS = PROJECT_ROOT.parent / "shared" / "datasets"
MAX_VALIDATION_IMAGES = 5000  # MNIST's customary 55,000 / 5,000 split


class DatasetError(RuntimeError):
    """A data set that cannot be found or read."""


@dataclass(frozen=True, eq=False)
class Dataset:
    """Images flattened to (N, features) float32 in [0, 1], or, for event data, spike frames
    (N, T, features) of 0 and 1; labels int64."""

    name: str
    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    class_names: tuple[str, ...]

    @property
    def n_features(self) -> int:
        return int(self.train_x.shape[-1])

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    def split_validation(self) -> tuple["Dataset", np.ndarray, np.ndarray]:
        """(this data set without its held-out training images, their images, their labels): the
        last tenth of the training set, at most MAX_VALIDATION_IMAGES, never seen in training."""
        held = min(MAX_VALIDATION_IMAGES, self.train_x.shape[0] // 10)
        keep = self.train_x.shape[0] - held
        rest = Dataset(self.name, self.train_x[:keep], self.train_y[:keep], self.test_x, self.test_y, self.class_names)
        return rest, self.train_x[keep:], self.train_y[keep:]
