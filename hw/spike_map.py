"""A hidden layer's spikes of the timestep, held as a bitmap of words (one word per membrane word the
layer fires) that the next layer takes lowest index first, so empty regions cost no cycle.

Two levels: a summary bit per word (the word is not empty) picks the lowest non-empty word, then the
lowest set bit inside it. Taking a spike writes that word back without its lowest bit. Every write is
a whole word chosen by its word number, never a single bit chosen by a neuron index: a bitmap of
thousands of bits written by bit index becomes a case per bit in the Verilog, which Yosys's process
lowering takes hours over (measured on the 3,136-neuron first layer of the MNIST convolutional core),
and the search through summary bits is shallower than one tree over every bit.
"""

from __future__ import annotations

from amaranth import Module, Signal, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .lowest_set_bit import LowestSetBit, index_bits


class SpikeMap(wiring.Component):
    """write: at the clock edge, word `write_word` becomes `write_bits` (the layer firing).
    found / index: combinationally, whether a spike is pending and the lowest pending neuron
    (word * word_bits + bit). take: at the clock edge, that spike is removed. A write and a take in
    the same cycle must not meet in one word (the core never fires a layer while the next consumes it).
    """

    def __init__(self, *, words: int, word_bits: int):
        for name, value in (("words", words), ("word_bits", word_bits)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive int, not {value!r}")
        self.words = words
        self.word_bits = word_bits
        super().__init__({
            "write": In(1),
            "write_word": In(index_bits(words)),
            "write_bits": In(word_bits),
            "take": In(1),
            "found": Out(1),
            "index": Out(index_bits(words * word_bits)),
        })

    def elaborate(self, platform):
        m = Module()
        width = self.word_bits
        pending = [Signal(width, name=f"pending_word{w}") for w in range(self.words)]
        m.submodules.word_finder = word_finder = LowestSetBit(width=self.words)
        m.submodules.bit_finder = bit_finder = LowestSetBit(width=width)
        m.d.comb += [word_finder.bits[w].eq(pending[w].any()) for w in range(self.words)]
        # The lowest non-empty word, by a case on its number (a mux, as every read here).
        word = Signal(width, name="lowest_word")
        with m.Switch(word_finder.index):
            for w in range(self.words):
                with m.Case(w):
                    m.d.comb += word.eq(pending[w])
        m.d.comb += [
            bit_finder.bits.eq(word),
            self.found.eq(word_finder.found),
            self.index.eq(word_finder.index * width + bit_finder.index),
        ]
        rest = Signal(width, name="lowest_word_rest")
        m.d.comb += rest.eq(word & (word - 1))  # the word without its lowest set bit
        for w in range(self.words):
            with m.If(self.write & (self.write_word == w)):
                m.d.sync += pending[w].eq(self.write_bits)
            with m.Elif(self.take & word_finder.found & (word_finder.index == w)):
                m.d.sync += pending[w].eq(rest)
        return m
