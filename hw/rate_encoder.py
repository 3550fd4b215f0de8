"""The on-chip rate encoder: a word-wide pixel memory and one LFSR per pixel lane
(model/architecture.py defines it; sim/rate_encoder.py models it bit for bit)."""

from __future__ import annotations

from amaranth import Module, Mux, Signal, unsigned
from amaranth.lib import data, memory, wiring
from amaranth.lib.wiring import In, Out

from model.architecture import DRAW_STEPS, INTENSITY_BITS, LFSR_BITS, LFSR_TAPS, RateEncoder

from .lowest_set_bit import index_bits


def pixel_word_layout(encoder: RateEncoder) -> data.ArrayLayout:
    return data.ArrayLayout(unsigned(INTENSITY_BITS), encoder.lanes)


class RateEncoderUnit(wiring.Component):
    """write_*: store one word of `lanes` intensities (the host's pixel entries).
    group: the pixel word to draw for; spikes: this cycle's spike of each lane for it (combinational),
    lanes past the last pixel masked off. draw: advance the LFSRs past this draw. restart: re-seed."""

    def __init__(self, *, encoder: RateEncoder, n_inputs: int):
        if not isinstance(encoder, RateEncoder):
            raise TypeError(f"encoder must be a RateEncoder, not {type(encoder).__name__}")
        if not isinstance(n_inputs, int) or n_inputs < 1:
            raise ValueError(f"n_inputs must be a positive int, not {n_inputs!r}")
        self.encoder = encoder
        self.n_inputs = n_inputs
        self.groups = encoder.groups(n_inputs)
        super().__init__({
            "write_enable": In(1),
            "write_group": In(index_bits(self.groups)),
            "write_data": In(pixel_word_layout(encoder)),
            "group": In(index_bits(self.groups)),
            "draw": In(1),
            "restart": In(1),
            "spikes": Out(encoder.lanes),
        })

    def elaborate(self, platform):
        m = Module()
        lanes = self.encoder.lanes
        m.submodules.pixels = pixels = memory.Memory(shape=unsigned(lanes * INTENSITY_BITS), depth=self.groups,
                                                     init=[])
        write = pixels.write_port()
        read = pixels.read_port(domain="comb")
        m.d.comb += [write.addr.eq(self.write_group), write.data.eq(self.write_data), write.en.eq(self.write_enable),
                     read.addr.eq(self.group)]
        intensity = pixel_word_layout(self.encoder)(read.data)
        last_lanes = self.n_inputs - (self.groups - 1) * lanes
        lane_mask = Mux(self.group == self.groups - 1, (1 << last_lanes) - 1, (1 << lanes) - 1)
        fired = Signal(lanes)
        for lane in range(lanes):
            state = Signal(LFSR_BITS, name=f"lfsr{lane}", init=self.encoder.lane_seed(lane))
            after = state
            for step in range(DRAW_STEPS):
                # Unrolled Galois steps, XORs only; each a signal of its own, as each uses the last twice.
                stepped = Signal(LFSR_BITS, name=f"lfsr{lane}_step{step}")
                m.d.comb += stepped.eq((after >> 1) ^ (after[0].replicate(LFSR_BITS) & LFSR_TAPS))
                after = stepped
            drawn = after
            m.d.comb += fired[lane].eq(drawn[:INTENSITY_BITS] < intensity[lane])
            with m.If(self.restart):
                m.d.sync += state.eq(self.encoder.lane_seed(lane))
            with m.Elif(self.draw):
                m.d.sync += state.eq(drawn)
        m.d.comb += self.spikes.eq(fired & lane_mask)
        return m
