"""Combinational search for the lowest set bit of a bitmap: how the core finds the next spike of a
hidden layer without spending cycles on empty words."""

from __future__ import annotations

from amaranth import Const, Module, Mux, Signal, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out


def index_bits(count: int) -> int:
    """Bits to hold an index 0..count-1 (at least one, so ports never have zero width)."""
    return max(1, (count - 1).bit_length())


class LowestSetBit(wiring.Component):
    """found = any bit set; index = position of the lowest set bit.

    A balanced tree of 2:1 choices, so the depth grows with log2(width) rather than width.
    """

    def __init__(self, *, width: int):
        if not isinstance(width, int) or isinstance(width, bool):
            raise TypeError(f"width must be an int, not {width!r}")
        if width < 1:
            raise ValueError(f"width must be >= 1, not {width}")
        self.width = width
        super().__init__({
            "bits": In(width),
            "found": Out(1),
            "index": Out(index_bits(width)),
        })

    def elaborate(self, platform):
        m = Module()
        found, index = self._search(m, 0, self.width)
        m.d.comb += [self.found.eq(found), self.index.eq(index)]
        return m

    def _search(self, m: Module, start: int, count: int):
        if count == 1:
            return self.bits[start], Const(start, index_bits(self.width))
        half = count // 2
        lo_found, lo_index = self._search(m, start, half)
        hi_found, hi_index = self._search(m, start + half, count - half)
        found = Signal(name=f"found_{start}_{count}")
        index = Signal(unsigned(index_bits(self.width)), name=f"index_{start}_{count}")
        m.d.comb += [found.eq(lo_found | hi_found), index.eq(Mux(lo_found, lo_index, hi_index))]
        return found, index
