"""Event-camera data sets, binned into spike frames the core takes as they are (numpy only).

N-MNIST: one `<index>.bs2` file per sample, 5 bytes per event (x, y, then 24 bits big-endian: the
top bit the polarity, the low 23 the timestamp in microseconds), 34 x 34 pixels; the labels in
train1K.txt / test100.txt for the subset in ../shared/datasets/nmnist-small. An input neuron is a
(y, x, polarity) triple, index (y * 34 + x) * 2 + polarity: channel-last, the layout a convolution
takes (model/convolution.py), with the polarities as the two channels; it spikes in timestep t when it has at least one event in the t-th of T
equal slices of the recording (NMNIST_DURATION_US).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .dataset import Dataset, DatasetError, check_labels, find_folder, search_folders

NMNIST_SIDE = 34
NMNIST_CHANNELS = 2  # the polarities
NMNIST_INPUTS = NMNIST_CHANNELS * NMNIST_SIDE * NMNIST_SIDE
NMNIST_DURATION_US = 300_000  # the three saccades of a recording; later events go in the last slice
NMNIST_FOLDER = "nmnist-small"
NMNIST_LABEL_FILES = {"train": "train1K.txt", "test": "test100.txt"}
EVENT_BYTES = 5
NMNIST_CLASSES = 10


def read_bs2(path: Path) -> np.ndarray:
    """Events of one N-MNIST file: (N, 4) int64 rows (x, y, polarity, timestamp_us)."""
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size % EVENT_BYTES:
        raise DatasetError(f"{path} is not an N-MNIST event file: {raw.size} bytes is not a multiple of 5")
    e = raw.reshape(-1, EVENT_BYTES).astype(np.int64)
    x, y = e[:, 0], e[:, 1]
    if x.size and (x.max() >= NMNIST_SIDE or y.max() >= NMNIST_SIDE):
        raise DatasetError(f"{path} has events outside the {NMNIST_SIDE} x {NMNIST_SIDE} sensor")
    polarity = e[:, 2] >> 7
    timestamp = ((e[:, 2] & 0x7F) << 16) | (e[:, 3] << 8) | e[:, 4]
    return np.stack([x, y, polarity, timestamp], axis=1)


def bin_events(events: np.ndarray, timesteps: int) -> np.ndarray:
    """(timesteps, NMNIST_INPUTS) bool: which (y, x, polarity) inputs had an event in each slice."""
    frames = np.zeros((timesteps, NMNIST_INPUTS), dtype=bool)
    x, y, polarity, timestamp = events.T
    step = np.minimum(timestamp * timesteps // NMNIST_DURATION_US, timesteps - 1)
    frames[step, (y * NMNIST_SIDE + x) * NMNIST_CHANNELS + polarity] = True
    return frames


def find_nmnist_folder(explicit: str | os.PathLike | None = None) -> Path:
    return find_folder(search_folders(explicit, NMNIST_FOLDER),
                       lambda folder: all((folder / name).is_file() for name in NMNIST_LABEL_FILES.values()),
                       what="N-MNIST", put="the .bs2 files with train1K.txt and test100.txt",
                       explicit=explicit is not None)


def _read_split(folder: Path, split: str, timesteps: int) -> tuple[np.ndarray, np.ndarray]:
    labels_file = folder / NMNIST_LABEL_FILES[split]
    try:
        rows = np.loadtxt(labels_file, dtype=np.int64, comments="#", ndmin=2)
    except ValueError as exc:
        raise DatasetError(f"{labels_file}: not lines of '<sample> <label>' integers ({exc})") from exc
    if rows.shape[1] < 2 or rows.shape[0] == 0:
        raise DatasetError(f"{labels_file}: not lines of '<sample> <label>' integers")
    labels = check_labels(rows[:, 1], NMNIST_CLASSES, source=labels_file)
    frames = np.stack([bin_events(read_bs2(folder / f"{index}.bs2"), timesteps) for index in rows[:, 0]])
    return frames, labels


def load_nmnist(*, timesteps: int, path: str | os.PathLike | None = None) -> Dataset:
    """The N-MNIST subset as spike frames: train_x / test_x of shape (N, timesteps, 2312), 0 or 1."""
    if not isinstance(timesteps, int) or timesteps < 1:
        raise ValueError(f"timesteps must be a positive int, not {timesteps!r}")
    folder = find_nmnist_folder(path)
    train_x, train_y = _read_split(folder, "train", timesteps)
    test_x, test_y = _read_split(folder, "test", timesteps)
    return Dataset("nmnist", train_x.astype(np.float32), train_y, test_x.astype(np.float32), test_y,
                   tuple(str(d) for d in range(NMNIST_CLASSES)))
