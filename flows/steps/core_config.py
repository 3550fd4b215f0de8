"""The core's parameters as the hardware steps take them."""

from __future__ import annotations

from dataclasses import dataclass

from model.architecture import CoreArchitecture, MemoryStyle, RateEncoder


@dataclass(frozen=True, kw_only=True)
class CoreConfig:
    lanes: int
    encoder: RateEncoder | None = None
    memories: MemoryStyle = MemoryStyle.FLIP_FLOPS


def core_architecture(config, *, trace: bool) -> CoreArchitecture:
    return CoreArchitecture(lanes=config.lanes, trace=trace, encoder=config.encoder, memories=config.memories)

