"""The order training visits its examples in: one seeded shuffle per epoch, cut into batches (shared
by every trainer, so that runs given the same generator see the same batches)."""

from __future__ import annotations

from typing import Iterator

import torch


def shuffled_batches(count: int, batch_size: int, generator: torch.Generator) -> Iterator[torch.Tensor]:
    """Index tensors of one epoch over `count` examples: a permutation drawn from `generator`, in
    consecutive slices of `batch_size` (the last one shorter)."""
    order = torch.randperm(count, generator=generator)
    for first in range(0, count, batch_size):
        yield order[first:first + batch_size]
