"""A loaded data set and where data sets are looked for: the type every loader returns (numpy only)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

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

    def __post_init__(self) -> None:
        for split, x, y in (("train", self.train_x, self.train_y), ("test", self.test_x, self.test_y)):
            if x.shape[0] == 0:
                raise DatasetError(f"{self.name}: the {split} split is empty")
            if x.shape[0] != y.shape[0]:
                raise DatasetError(f"{self.name}: {x.shape[0]} {split} images but {y.shape[0]} labels")
        if self.train_x.shape[1:] != self.test_x.shape[1:]:
            raise DatasetError(f"{self.name}: train images are {self.train_x.shape[1:]}, test images "
                               f"{self.test_x.shape[1:]}")

    def split_validation(self) -> tuple["Dataset", np.ndarray, np.ndarray]:
        """(this data set without its held-out training images, their images, their labels): the
        last tenth of the training set, at most MAX_VALIDATION_IMAGES, never seen in training."""
        held = min(MAX_VALIDATION_IMAGES, self.train_x.shape[0] // 10)
        keep = self.train_x.shape[0] - held
        rest = Dataset(self.name, self.train_x[:keep], self.train_y[:keep], self.test_x, self.test_y, self.class_names)
        return rest, self.train_x[keep:], self.train_y[keep:]


def search_folders(explicit: str | os.PathLike | None, folder: str, system: Path | None = None) -> list[Path]:
    """Where a data set is looked for. An explicit path is the only place: it is used or the load
    fails, never silently replaced. Otherwise $SPIKEFAB_DATA/<folder>, ../shared/datasets/<folder>,
    then the system location."""
    if explicit is not None:
        return [Path(explicit)]
    candidates = [Path(os.environ["SPIKEFAB_DATA"]) / folder] if os.environ.get("SPIKEFAB_DATA") else []
    return candidates + [SHARED_DATASETS / folder] + ([system] if system is not None else [])


def find_folder(candidates: list[Path], complete: Callable[[Path], bool], *, what: str, put: str,
                explicit: bool) -> Path:
    """The first candidate that holds the whole data set, or an error saying where to put it."""
    for folder in candidates:
        if complete(folder):
            return folder
    if explicit:
        state = "does not exist" if not candidates[0].exists() else "does not hold it"
        raise DatasetError(f"{what} not found in the given data path {candidates[0]} (it {state}): put {put} "
                           "there, or leave the data path out to use the standard places")
    raise DatasetError(f"{what} not found (looked in {', '.join(map(str, candidates))}; no network for a "
                       f"download). Put {put} in one of those folders, or set SPIKEFAB_DATA.")


def check_labels(labels: np.ndarray, n_classes: int, *, source: Path | str) -> np.ndarray:
    """Labels as int64, or an error naming the file if one is outside 0..n_classes-1."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise DatasetError(f"{source}: labels must be a list of integers, not {labels.dtype} of shape {labels.shape}")
    bad = np.flatnonzero((labels < 0) | (labels >= n_classes))
    if bad.size:
        raise DatasetError(f"{source}: label {int(labels[bad[0]])} at position {int(bad[0])} is not a class "
                           f"0..{n_classes - 1}")
    return labels.astype(np.int64)
