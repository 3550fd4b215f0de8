"""The encoded test set that every step after `encode` shares: the same spikes go to the torch
model, the reference, the RTL and the gate-level netlist."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True, eq=False)
class EncodedTestSet:
    spikes: np.ndarray   # (B, T, n) bool
    labels: np.ndarray   # (B,)
    class_names: tuple[str, ...]

    def save(self, path: Path) -> Path:
        np.savez_compressed(path, packed=np.packbits(self.spikes, axis=2), shape=np.array(self.spikes.shape),
                            labels=self.labels, class_names=np.array(self.class_names))
        return path

    @classmethod
    def load(cls, path: Path) -> "EncodedTestSet":
        with np.load(path) as f:
            shape = tuple(int(n) for n in f["shape"])
            spikes = np.unpackbits(f["packed"], axis=2, count=shape[2]).astype(bool)
            return cls(spikes=spikes, labels=f["labels"], class_names=tuple(str(c) for c in f["class_names"]))

    def head(self, images: int | None) -> "EncodedTestSet":
        if images is None:
            return self
        return EncodedTestSet(self.spikes[:images], self.labels[:images], self.class_names)
