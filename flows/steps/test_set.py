"""The encoded test set that every step after `encode` shares: the same spikes go to the torch
model, the reference, the RTL and the gate-level netlist."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.architecture import CoreArchitecture, RateEncoder
from model.input_codes import EventFrames, InputCode, RateCode
from sim.rate_encoder import encode_on_chip, quantize_intensities


@dataclass(frozen=True, eq=False)
class EncodedTestSet:
    spikes: np.ndarray   # (B, T, n) bool
    labels: np.ndarray   # (B,)
    class_names: tuple[str, ...]
    intensities: np.ndarray | None = None  # (B, n) 8-bit, what a core with the on-chip encoder is sent

    def core_inputs(self, architecture: CoreArchitecture) -> np.ndarray:
        """What the core is sent: the spike frames, or the intensities its encoder draws them from."""
        if architecture.encoder is None:
            return self.spikes
        if self.intensities is None:
            raise ValueError("this test set was encoded off-chip; re-encode it for the on-chip encoder")
        return self.intensities

    def save(self, path: Path) -> Path:
        extra = {} if self.intensities is None else {"intensities": self.intensities.astype(np.uint8)}
        np.savez_compressed(path, packed=np.packbits(self.spikes, axis=2), shape=np.array(self.spikes.shape),
                            labels=self.labels, class_names=np.array(self.class_names), **extra)
        return path

    @classmethod
    def load(cls, path: Path) -> "EncodedTestSet":
        with np.load(path) as f:
            shape = tuple(int(n) for n in f["shape"])
            spikes = np.unpackbits(f["packed"], axis=2, count=shape[2]).astype(bool)
            intensities = f["intensities"].astype(np.int64) if "intensities" in f.files else None
            return cls(spikes=spikes, labels=f["labels"], class_names=tuple(str(c) for c in f["class_names"]),
                       intensities=intensities)

    def head(self, images: int | None) -> "EncodedTestSet":
        if images is None:
            return self
        intensities = None if self.intensities is None else self.intensities[:images]
        return EncodedTestSet(self.spikes[:images], self.labels[:images], self.class_names, intensities)


def encode_test_set(x: np.ndarray, labels: np.ndarray, class_names: tuple[str, ...], *, timesteps: int, seed: int,
                    encoder: RateEncoder | None, code: InputCode | None = None) -> EncodedTestSet:
    """Intensities in [0, 1] as spike frames: by `code` (Bernoulli rate with `seed` unless told) for
    a host that sends events, or exactly what the core's on-chip encoder draws from their 8-bit
    values. Event data (N, T, n) is already spike frames and is sent as it is."""
    if x.ndim == 3:
        if encoder is not None:
            raise ValueError("event data is already spikes: the on-chip rate encoder has nothing to encode")
        return EncodedTestSet(EventFrames().frames(x, timesteps, seed), labels, class_names)
    if encoder is None:
        return EncodedTestSet((code or RateCode()).frames(x, timesteps, seed), labels, class_names)
    if code is not None and not isinstance(code, RateCode):
        raise ValueError(f"the on-chip encoder draws a rate code; {type(code).__name__} is coded by the host")
    intensities = quantize_intensities(x)
    return EncodedTestSet(encode_on_chip(encoder, intensities, timesteps), labels, class_names, intensities)


def accuracy(predicted: np.ndarray, labels: np.ndarray) -> float:
    return float((predicted == labels).mean())
