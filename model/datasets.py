"""Data set loaders for the standard formats (numpy only).

A loader looks, in order: an explicit path, $SPIKEFAB_DATA, ../shared/datasets beside the project,
the system location; there is no network here, so the canonical download is the last resort and
ends in an error saying where to put the files.
"""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import numpy as np

from .dataset import SHARED_DATASETS, Dataset, DatasetError
from .event_datasets import load_nmnist

IDX_FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
IDX_SYSTEM_LOCATIONS = {
    "mnist": Path("/usr/share/datasets/mnist"),
    "fashion_mnist": Path("/usr/share/datasets/fashion-mnist"),
}
IDX_SHARED_FOLDERS = {"mnist": "mnist", "fashion_mnist": "fashion-mnist"}
IDX_SOURCES = {
    "mnist": "the four MNIST IDX gz files (train-images-idx3-ubyte.gz, ...)",
    "fashion_mnist": "the four Fashion-MNIST IDX gz files (Debian package dataset-fashion-mnist installs them)",
}
FASHION_CLASSES = ("t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot")
DIGITS_TEST_FRACTION = 0.2
DIGITS_SPLIT_SEED = 0


def load_digits() -> Dataset:
    """scikit-learn's 8x8 digits (shipped inside scikit-learn): a fixed stratified 80/20 split."""
    from sklearn.datasets import load_digits as sklearn_digits
    from sklearn.model_selection import train_test_split

    digits = sklearn_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    train_x, test_x, train_y, test_y = train_test_split(
        x, y, test_size=DIGITS_TEST_FRACTION, random_state=DIGITS_SPLIT_SEED, stratify=y)
    return Dataset("digits", train_x, train_y, test_x, test_y, tuple(str(d) for d in range(10)))


def read_idx(path: Path) -> np.ndarray:
    """One IDX file (gzip or plain): unsigned-byte data with its dimensions from the header."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as exc:
        raise DatasetError(f"cannot read {path}: {exc}") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DatasetError(f"{path} is not an unsigned-byte IDX file (bad magic)")
    ndim = raw[3]
    dims = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    expected = int(np.prod(dims))
    body = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != expected:
        raise DatasetError(f"{path} holds {body.size} values, its header says {expected}")
    return body.reshape(dims)


def idx_candidates(name: str, explicit: str | os.PathLike | None) -> list[Path]:
    folder = IDX_SHARED_FOLDERS[name]
    candidates = []
    if explicit is not None:
        candidates.append(Path(explicit))
    if os.environ.get("SPIKEFAB_DATA"):
        candidates.append(Path(os.environ["SPIKEFAB_DATA"]) / folder)
    candidates += [SHARED_DATASETS / folder, IDX_SYSTEM_LOCATIONS[name]]
    return candidates


def find_idx_folder(name: str, explicit: str | os.PathLike | None = None) -> Path:
    candidates = idx_candidates(name, explicit)
    for folder in candidates:
        if all((folder / f).is_file() for f in IDX_FILES.values()):
            return folder
    looked = ", ".join(str(c) for c in candidates)
    raise DatasetError(
        f"{name} not found (looked in {looked}; no network for a download). "
        f"Put {IDX_SOURCES[name]} in one of those folders, or set SPIKEFAB_DATA."
    )


def load_idx_dataset(name: str, path: str | os.PathLike | None = None) -> Dataset:
    folder = find_idx_folder(name, path)
    arrays = {key: read_idx(folder / file) for key, file in IDX_FILES.items()}
    for split in ("train", "test"):
        if arrays[f"{split}_images"].shape[0] != arrays[f"{split}_labels"].shape[0]:
            raise DatasetError(f"{folder}: {split} images and labels differ in count")
    classes = FASHION_CLASSES if name == "fashion_mnist" else tuple(str(d) for d in range(10))

    def images(a: np.ndarray) -> np.ndarray:
        return (a.reshape(a.shape[0], -1) / 255.0).astype(np.float32)

    return Dataset(name, images(arrays["train_images"]), arrays["train_labels"].astype(np.int64),
                   images(arrays["test_images"]), arrays["test_labels"].astype(np.int64), classes)


DATASETS = ("digits", "mnist", "fashion_mnist", "nmnist")
EVENT_DATASETS = ("nmnist",)  # already spike frames: binned into `timesteps` when loaded


def load_dataset(name: str, path: str | os.PathLike | None = None, *, timesteps: int | None = None) -> Dataset:
    if name == "digits":
        return load_digits()
    if name in EVENT_DATASETS:
        if timesteps is None:
            raise ValueError(f"{name} holds events: give the timesteps to bin them into")
        return load_nmnist(timesteps=timesteps, path=path)
    if name in IDX_SHARED_FOLDERS:
        return load_idx_dataset(name, path)
    raise DatasetError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}")
