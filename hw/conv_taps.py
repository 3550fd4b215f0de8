"""The event-driven convolution's address generator: for one input spike at (y, x, c), every output
position it reaches, and in each the words of that position's channels, one word per cycle.

Per spike, the outputs reached along an axis are oy in [max(0, ceil((y + p - K + 1) / s)),
min(H_out - 1, floor((y + p) / s))] (model/convolution.py's output_range), with kernel row
ky = y + p - s * oy; nothing outside that window is visited, so padding and the border cost no cycle.
The weight row of (ky, kx, c) is (ky * K + kx) * C_in + c, the membrane word of (oy, ox, g) is
(oy * W_out + ox) * G + g (G = words per position). The first word is issued in the cycle the spike is
taken (combinationally from its index), the rest from registers, so a spike reaching n positions costs
exactly n * G cycles, and one reaching none costs the one cycle that takes it.
"""

from __future__ import annotations

from dataclasses import dataclass

from amaranth import Const, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from model.convolution import ConvGeometry

from .constant_division import divide
from .lowest_set_bit import index_bits


@dataclass(frozen=True)
class _Walk:
    """Where a spike's walk stands: the output position and channel word being issued, the weight row
    and membrane position of it and of the start of its output row, and the window's edges."""

    oy: object
    ox: object
    group: object
    row: object
    position: object
    line_row: object
    line_position: object
    ox_first: object
    ox_last: object
    oy_last: object


class ConvTapWalker(wiring.Component):
    """Issue side of a convolution layer. `start` with `index`: take a spike (its first word comes out
    at once when it reaches any output: `valid`). While `busy`, the spike's next words come out, one
    per cycle. `last` marks a spike's final word."""

    def __init__(self, *, geometry: ConvGeometry, words_per_position: int):
        if not isinstance(geometry, ConvGeometry):
            raise TypeError(f"geometry must be a ConvGeometry, not {type(geometry).__name__}")
        if not isinstance(words_per_position, int) or not 1 <= words_per_position <= geometry.out_channels:
            raise ValueError(f"words_per_position must be 1..{geometry.out_channels}, not {words_per_position!r}")
        self.geometry = geometry
        self.groups = words_per_position
        positions = geometry.out_height * geometry.out_width
        super().__init__({
            "index": In(index_bits(geometry.n_in)),
            "start": In(1),
            "valid": Out(1),
            "row": Out(index_bits(geometry.taps)),
            "group": Out(index_bits(words_per_position)),
            "word": Out(index_bits(positions * words_per_position)),
            "last": Out(1),
            "busy": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        g = self.geometry
        k, s, p, c_in = g.kernel, g.stride, g.padding, g.in_channels
        positions = g.out_height * g.out_width

        # The spike's coordinates: index = (y * W + x) * C_in + c.
        place, channel = divide(self.index, c_in, g.n_in - 1)
        y, x = divide(place, g.in_width, g.in_height * g.in_width - 1)

        def window(coordinate, in_size: int, out_size: int):
            """(first, last) outputs along one axis, and coordinate + padding."""
            shifted = coordinate + p
            most = in_size - 1 + p + s
            lifted = Signal(range(most + 1))
            m.d.comb += lifted.eq(Mux(shifted + s >= k, shifted + s - k, 0))
            first, _ = divide(lifted, s, most)
            top, _ = divide(shifted, s, in_size - 1 + p)
            last = Mux(top > out_size - 1, out_size - 1, top)
            return first, last, shifted

        oy_first, oy_last, y_shifted = window(y, g.in_height, g.out_height)
        ox_first, ox_last, x_shifted = window(x, g.in_width, g.out_width)
        reaches = (oy_first <= oy_last) & (ox_first <= ox_last)
        ky = y_shifted - oy_first * s
        kx = x_shifted - ox_first * s
        first_row = (ky * k + kx) * c_in + channel
        first_position = oy_first * g.out_width + ox_first
        fresh = _Walk(oy=oy_first, ox=ox_first, group=Const(0, 1), row=first_row, position=first_position,
                      line_row=first_row, line_position=first_position, ox_first=ox_first, ox_last=ox_last,
                      oy_last=oy_last)

        def register(name: str, limit: int) -> Signal:
            return Signal(range(max(2, limit)), name=f"walk_{name}")

        held = _Walk(oy=register("oy", g.out_height), ox=register("ox", g.out_width),
                     group=register("group", self.groups), row=register("row", g.taps),
                     position=register("position", positions), line_row=register("line_row", g.taps),
                     line_position=register("line_position", positions),
                     ox_first=register("ox_first", g.out_width), ox_last=register("ox_last", g.out_width),
                     oy_last=register("oy_last", g.out_height))
        busy = Signal(name="walk_busy")
        m.d.comb += self.busy.eq(busy)

        def issue(walk: _Walk, ready) -> None:
            """Put `walk`'s word on the outputs; register the walk's next word unless it was the last."""
            end_of_position = walk.group == self.groups - 1
            end_of_line = end_of_position & (walk.ox == walk.ox_last)
            last = end_of_line & (walk.oy == walk.oy_last)
            m.d.comb += [self.valid.eq(ready), self.row.eq(walk.row), self.group.eq(walk.group),
                         self.word.eq(walk.position * self.groups + walk.group), self.last.eq(last)]
            with m.If(ready):
                m.d.sync += [busy.eq(~last), held.ox_first.eq(walk.ox_first), held.ox_last.eq(walk.ox_last),
                             held.oy_last.eq(walk.oy_last), held.group.eq(Mux(end_of_position, 0, walk.group + 1))]
                with m.If(~end_of_position):
                    m.d.sync += [held.oy.eq(walk.oy), held.ox.eq(walk.ox), held.row.eq(walk.row),
                                 held.position.eq(walk.position), held.line_row.eq(walk.line_row),
                                 held.line_position.eq(walk.line_position)]
                with m.Elif(~end_of_line):
                    # Next output to the right: the kernel column moves s to the left.
                    m.d.sync += [held.oy.eq(walk.oy), held.ox.eq(walk.ox + 1), held.row.eq(walk.row - s * c_in),
                                 held.position.eq(walk.position + 1), held.line_row.eq(walk.line_row),
                                 held.line_position.eq(walk.line_position)]
                with m.Else():
                    # Next output row: the kernel row moves s up, back to the window's first column.
                    m.d.sync += [held.oy.eq(walk.oy + 1), held.ox.eq(walk.ox_first),
                                 held.row.eq(walk.line_row - s * k * c_in),
                                 held.line_row.eq(walk.line_row - s * k * c_in),
                                 held.position.eq(walk.line_position + g.out_width),
                                 held.line_position.eq(walk.line_position + g.out_width)]

        with m.If(busy):
            issue(held, 1)
        with m.Elif(self.start):
            issue(fresh, reaches)
        return m
