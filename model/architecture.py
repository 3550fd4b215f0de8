"""Architecture parameters of the core, shared by hw/ (which builds it) and sim/ (which predicts its
cycles). numpy-free and torch-free, like compiled.py."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from .compiled import CompiledLayer, CompiledNetwork


# The on-chip rate encoder's random source: per pixel lane a 16-bit Galois LFSR, advanced
# DRAW_STEPS steps per draw so that successive draws share no bits; a pixel spikes when the draw's
# low byte is below its 8-bit intensity.
LFSR_BITS = 16
LFSR_TAPS = 0xB400  # x^16 + x^14 + x^13 + x^11 + 1, maximal length
DRAW_STEPS = 8
INTENSITY_BITS = 8


def lfsr_step(state: int) -> int:
    """One Galois step: shift right, and XOR the taps in when the bit shifted out was 1."""
    return (state >> 1) ^ (LFSR_TAPS if state & 1 else 0)


@dataclass(frozen=True, kw_only=True)
class RateEncoder:
    """An on-chip rate encoder: the host sends each inference's pixel intensities once, `lanes`
    pixels per entry, and the core draws every timestep's spikes itself, `lanes` pixels per cycle.
    Its LFSRs restart from their seeds at every inference, so an image always gives the same spikes."""

    lanes: int = 8
    seed: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.lanes, int) or isinstance(self.lanes, bool) or not 1 <= self.lanes <= 64:
            raise ValueError(f"encoder lanes must be an int 1..64, not {self.lanes!r}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise ValueError(f"encoder seed must be a non-negative int, not {self.seed!r}")

    def lane_seed(self, lane: int) -> int:
        """Each lane's start state: distinct per lane, never zero (an LFSR's stuck state)."""
        return ((self.seed * 0x9E37 + lane * 0x7F4B + 1) & ((1 << LFSR_BITS) - 1)) or 1

    def groups(self, n_inputs: int) -> int:
        """Pixel words per image: ceil(n_inputs / lanes)."""
        return -(-n_inputs // self.lanes)


class MemoryStyle(Enum):
    """How the layers' memories (weights, biases, membranes) are built: synthesized as flip-flops
    with the logic, kept out of it as SRAM macros (black boxes with a stated area and energy model;
    behavioural models in simulation), or the read-only ones (weights, biases) as macros and the
    membranes as flip-flops: a membrane word is read and written at every operation, and a shallow
    wide macro (the membranes of a layer are a few dozen words) costs per access about what a deep
    one does, where flip-flops cost the bits that change."""

    FLIP_FLOPS = "flip-flops"
    SRAM_MACROS = "sram-macros"
    SRAM_WEIGHTS = "sram-weights"

    @property
    def read_only_in_macros(self) -> bool:
        """Weights and biases are SRAM macros."""
        return self is not MemoryStyle.FLIP_FLOPS

    @property
    def membranes_in_macros(self) -> bool:
        return self is MemoryStyle.SRAM_MACROS


def _require_count(name: str, value, *, maximum: int, unit: str = "") -> None:
    """An int (not a bool) in 1..maximum, or a TypeError / ValueError naming the field."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, not {value!r}")
    if not 1 <= value <= maximum:
        raise ValueError(f"{name} must be 1..{maximum}{unit}, not {value}")


@dataclass(frozen=True, kw_only=True)
class CoreArchitecture:
    """lanes: neurons updated per cycle (one membrane word holds `lanes` neurons; a layer with fewer
    neurons uses one word of n_out lanes). trace: build the spike trace port (for verification).
    encoder: None, the host sends spike events; or an on-chip RateEncoder fed pixel intensities.
    memories: how the layers' memories are built. weight_bank_words: with SRAM macros, each layer's
    weight memory split by address into banks of this many words (a power of two; the last bank
    padded to it), one bank enabled per read: a read then costs a small macro's energy, not the
    whole memory's (flows/energy/sram_macros.py); None keeps one macro per layer.
    spike_batch: a dense layer takes up to this many input spikes of a timestep into a buffer, then
    updates each membrane word with all of them in turn, reading it once and writing it once (the
    sums between stay in the datapath): membrane accesses fall by up to this factor, at one cycle per
    spike to take it into the buffer. 1: every spike reads and writes every word (no buffer).
    Convolutions always work spike by spike (a spike's words depend on its position).
    operand_isolation: hold the inputs of each lane's update logic (threshold, reset, leak, bias) at
    zero except in update cycles, so that integrating (most cycles) does not toggle it; costs an AND
    gate per membrane bit."""

    lanes: int = 8
    trace: bool = True
    encoder: RateEncoder | None = None
    memories: MemoryStyle = MemoryStyle.FLIP_FLOPS
    weight_bank_words: int | None = None
    spike_batch: int = 1
    operand_isolation: bool = False

    def __post_init__(self) -> None:
        _require_count("lanes", self.lanes, maximum=4096)
        if not isinstance(self.trace, bool):
            raise TypeError(f"trace must be a bool, not {self.trace!r}")
        if self.encoder is not None and not isinstance(self.encoder, RateEncoder):
            raise TypeError(f"encoder must be None or a RateEncoder, not {self.encoder!r}")
        if not isinstance(self.memories, MemoryStyle):
            raise TypeError(f"memories must be a MemoryStyle, not {self.memories!r}")
        if self.weight_bank_words is not None:
            words = self.weight_bank_words
            if not isinstance(words, int) or isinstance(words, bool) or words < 2 or words & (words - 1):
                raise ValueError(f"weight_bank_words must be None or a power of two >= 2, not {words!r}")
            if not self.memories.read_only_in_macros:
                raise ValueError("weight_bank_words banks SRAM macros: set memories to sram-macros or sram-weights, "
                                 "or leave the banking out (flip-flop memories have no per-access cost to save)")
        _require_count("spike_batch", self.spike_batch, maximum=4096, unit=" input spikes")
        if not isinstance(self.operand_isolation, bool):
            raise TypeError(f"operand_isolation must be a bool, not {self.operand_isolation!r}")

    def cycle_relevant(self) -> "CoreArchitecture":
        """The parameters a cycle count depends on: neither the trace port nor the memory style changes a
        cycle (sim/cycles.py), nor does banking, so what only predicts cycles is keyed on this and shared by all."""
        return CoreArchitecture(lanes=self.lanes, trace=False, encoder=self.encoder, spike_batch=self.spike_batch)

    def spike_batch_of(self, layer: CompiledLayer) -> int:
        """The input spikes a layer integrates per pass over its membrane words: spike_batch for a dense
        layer, 1 for a convolution."""
        return self.spike_batch if layer.conv is None else 1

    def lanes_of(self, layer: CompiledLayer) -> int:
        """Neurons of one membrane word. A dense layer: min(lanes, n_out). A convolution's word holds
        channels of one position, so its lanes are the largest divisor of its output channels that is
        at most `lanes` (every word full, and a neuron is word * lanes_of + lane in both kinds)."""
        if layer.conv is None:
            return min(self.lanes, layer.n_out)
        return max(d for d in range(1, min(self.lanes, layer.channels) + 1) if layer.channels % d == 0)

    def words_of(self, layer: CompiledLayer) -> int:
        """Membrane words of a layer: ceil(n_out / lanes_of)."""
        return -(-layer.n_out // self.lanes_of(layer))

    def words_per_tap(self, layer: CompiledLayer) -> int:
        """Membrane words one weight row updates: a dense layer's every word; a convolution's words of
        one position, channels / lanes_of."""
        return -(-layer.channels // self.lanes_of(layer))

    def words(self, net: CompiledNetwork) -> tuple[int, ...]:
        return tuple(self.words_of(layer) for layer in net.layers)
