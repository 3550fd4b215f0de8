"""One point of a design-space sweep: the values of the swept parameters, its name, and the groups of
points that share work (training depends on the timesteps alone among them; quantization also on the
weight width; everything after on the rest)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from model.architecture import MemoryStyle


@dataclass(frozen=True, kw_only=True)
class DesignPoint:
    """exit_tolerance: the early exit's calibration tolerance, None without early exit.
    weight_bank_words: only with SRAM macros (None: one weight macro per layer).
    spike_batch: CoreArchitecture.spike_batch."""

    timesteps: int
    weight_bits: int
    lanes: int
    memories: MemoryStyle = MemoryStyle.FLIP_FLOPS
    weight_bank_words: int | None = None
    exit_tolerance: float | None = None
    spike_batch: int = 1

    @property
    def name(self) -> str:
        """T<timesteps>-W<weight bits>-L<lanes>, then -SRAM (every memory a macro) or -SRAMW (weights
        and biases), -B<bank words> with banks, -S<spikes> with a spike batch, and -E<tolerance> with
        early exit: a folder name, unique per point."""
        name = f"T{self.timesteps}-W{self.weight_bits}-L{self.lanes}"
        name += {MemoryStyle.FLIP_FLOPS: "", MemoryStyle.SRAM_MACROS: "-SRAM", MemoryStyle.SRAM_WEIGHTS: "-SRAMW"}[self.memories]
        if self.weight_bank_words is not None:
            name += f"-B{self.weight_bank_words}"
        if self.spike_batch > 1:
            name += f"-S{self.spike_batch}"
        if self.exit_tolerance is not None:
            name += f"-E{self.exit_tolerance:g}"
        return name

    @property
    def training_group(self) -> str:
        """Points of one group share the trained float network."""
        return f"T{self.timesteps}"

    @property
    def quantization_group(self) -> str:
        """Points of one group share the quantized network too."""
        return f"T{self.timesteps}-W{self.weight_bits}"


def design_points(*, timesteps, weight_bits, lanes, memories, weight_bank_words, exit_tolerances,
                  spike_batches=(1,)) -> list[DesignPoint]:
    """Every combination, in the order given; banking only where the memories are macros (a flip-flop
    point is listed once, unbanked), and each point once."""
    points = []
    for t, w, lane, style, banks, tolerance, batch in itertools.product(timesteps, weight_bits, lanes, memories,
                                                                         weight_bank_words, exit_tolerances,
                                                                         spike_batches):
        point = DesignPoint(timesteps=t, weight_bits=w, lanes=lane, memories=style, exit_tolerance=tolerance,
                            weight_bank_words=banks if style.read_only_in_macros else None, spike_batch=batch)
        if point not in points:
            points.append(point)
    return points
