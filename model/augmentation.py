"""Training-time augmentation of image batches (the test images are never altered)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


class Augmentation:
    """Base: __call__(x (B, n) intensities, generator) -> x of the same shape."""

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class RandomShift(Augmentation):
    """Each image of a square side x side picture moved by up to `pixels` in x and in y (uniform,
    independently per image), the uncovered border filled with zero: the translations a digit
    may have, which an MLP otherwise has to learn from examples. With `mirror`, each image is also
    flipped left to right with probability 1/2 (for classes that are mirror-symmetric, such as
    clothes; not for digits)."""

    side: int
    pixels: int = 2
    mirror: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.side, int) or not isinstance(self.pixels, int):
            raise TypeError(f"side and pixels must be ints, not {self.side!r} and {self.pixels!r}")
        if self.side < 1 or not 0 <= self.pixels < self.side:
            raise ValueError(f"a shift of {self.pixels} pixels does not fit a side of {self.side}")

    def __call__(self, x, generator):
        batch = x.shape[0]
        if x.dim() != 2 or x.shape[1] != self.side * self.side:
            raise ValueError(f"RandomShift takes (batch, {self.side * self.side}) images, not {tuple(x.shape)}")
        p = self.pixels
        padded = F.pad(x.reshape(batch, self.side, self.side), (p, p, p, p))
        dy, dx = (torch.randint(0, 2 * p + 1, (2, batch), generator=generator))
        span = torch.arange(self.side)
        rows = (dy[:, None] + span)[:, :, None]
        cols = (dx[:, None] + span)[:, None, :]
        if self.mirror:
            flip = torch.rand(batch, generator=generator) < 0.5
            cols = torch.where(flip[:, None, None], cols.flip(dims=[2]), cols)
        return padded[torch.arange(batch)[:, None, None], rows, cols].reshape(batch, -1)
