"""The encoded test set that every step after `encode` shares. It holds what the host sends (the
input code's events, which the torch model sees too) and, for images, their 8-bit intensities; a
core with the on-chip encoder draws its own spikes from those (`for_encoder`), so the encoder is a
hardware choice that changes no step before the reference."""

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

    def for_encoder(self, encoder: RateEncoder | None) -> "EncodedTestSet":
        """The test set as a core's spike path sees it: the host's events without an on-chip encoder,
        else exactly the spikes `encoder` draws from the intensities."""
        if encoder is None:
            return self
        if self.intensities is None:
            raise ValueError("this test set is event data, already spikes: the on-chip rate encoder does not apply")
        return EncodedTestSet(encode_on_chip(encoder, self.intensities, self.spikes.shape[1]), self.labels,
                              self.class_names, self.intensities)

    def core_inputs(self, architecture: CoreArchitecture) -> np.ndarray:
        """What the core is sent: the spike frames, or the intensities its encoder draws them from."""
        if architecture.encoder is None:
            return self.spikes
        return self.for_encoder(architecture.encoder).intensities

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
                    code: InputCode | None = None) -> EncodedTestSet:
    """Intensities in [0, 1] as the host's spike frames, by `code` (Bernoulli rate with `seed` unless
    told), kept beside their 8-bit values for an on-chip encoder. Event data (N, T, n) is already
    spike frames and is sent as it is."""
    if x.ndim == 3:
        return EncodedTestSet(EventFrames().frames(x, timesteps, seed), labels, class_names)
    return EncodedTestSet((code or RateCode()).frames(x, timesteps, seed), labels, class_names,
                          quantize_intensities(x))


def accuracy(predicted: np.ndarray, labels: np.ndarray) -> float:
    return float((predicted == labels).mean())
