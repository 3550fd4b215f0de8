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

from .dataset import Dataset, DatasetError, check_labels, find_folder, search_folders
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


IDX_IMAGE_SHAPE = (28, 28)


def find_idx_folder(name: str, explicit: str | os.PathLike | None = None) -> Path:
    return find_folder(search_folders(explicit, IDX_SHARED_FOLDERS[name], IDX_SYSTEM_LOCATIONS[name]),
                       lambda folder: all((folder / f).is_file() for f in IDX_FILES.values()),
                       what=name, put=IDX_SOURCES[name], explicit=explicit is not None)


def load_idx_dataset(name: str, path: str | os.PathLike | None = None) -> Dataset:
    folder = find_idx_folder(name, path)
    arrays = {key: read_idx(folder / file) for key, file in IDX_FILES.items()}
    classes = FASHION_CLASSES if name == "fashion_mnist" else tuple(str(d) for d in range(10))
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.shape[1:] != IDX_IMAGE_SHAPE:
            raise DatasetError(f"{folder / IDX_FILES[split + '_images']}: images are {images.shape[1:]}, not "
                               f"{IDX_IMAGE_SHAPE[0]} x {IDX_IMAGE_SHAPE[1]}")
        if images.shape[0] != labels.shape[0]:
            raise DatasetError(f"{folder}: {images.shape[0]} {split} images but {labels.shape[0]} labels")
        check_labels(labels, len(classes), source=folder / IDX_FILES[split + "_labels"])

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
