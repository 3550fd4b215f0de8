"""A layer memory kept out of the logic as an SRAM macro: the core instantiates it as a black box
by name, the way a design instantiates a macro compiler's output, and a behavioural model of the
same name and ports stands in for it in simulation.

The macro has what a compiled single-port-read SRAM has: a synchronous read port with a read
enable (the data of the address presented in cycle c appears in cycle c+1 and holds while the
enable is low) and, for a writable memory, a synchronous write port. It has no read-during-write
bypass: a macro returns the old word, so the layer engine forwards the word being written itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from amaranth import ClockSignal, Instance, Module, ResetSignal, unsigned
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out

from .lowest_set_bit import index_bits

MACRO_PREFIX = "sram_"


@dataclass(frozen=True, kw_only=True)
class SramMacroShape:
    """name: the macro's module name (unique in the design, starts with MACRO_PREFIX); width and
    depth of its words; init: its contents (weights and biases are loaded before an inference, as
    a macro's initial contents here); writable: a write port (the membranes)."""

    name: str
    width: int
    depth: int
    init: tuple[int, ...] = ()
    writable: bool = False

    def __post_init__(self) -> None:
        if not self.name.startswith(MACRO_PREFIX) or not self.name.isidentifier():
            raise ValueError(f"a macro's name must be an identifier starting with {MACRO_PREFIX!r}, not {self.name!r}")
        if self.width < 1 or self.depth < 1:
            raise ValueError(f"macro {self.name}: width and depth must be >= 1, not {self.width} x {self.depth}")
        if len(self.init) > self.depth:
            raise ValueError(f"macro {self.name}: {len(self.init)} initial words for a depth of {self.depth}")

    @property
    def bits(self) -> int:
        return self.width * self.depth

    @property
    def address_bits(self) -> int:
        return index_bits(self.depth)


class SramPorts(wiring.Component):
    """The macro's ports, seen from the logic that uses it."""

    def __init__(self, shape: SramMacroShape):
        self.shape = shape
        ports = {
            "read_en": In(1),
            "read_addr": In(shape.address_bits),
            "read_data": Out(shape.width),
        }
        if shape.writable:
            ports |= {"write_en": In(1), "write_addr": In(shape.address_bits), "write_data": In(shape.width)}
        super().__init__(ports)


class SramMacroInstance(SramPorts):
    """The black box the core instantiates: an `Instance` of the macro's module."""

    def elaborate(self, platform):
        m = Module()
        shape = self.shape
        # The model's memory is in the sync domain, so its module has that domain's reset port too
        # (unused: an array has no reset).
        connections = {"i_clk": ClockSignal(), "i_rst": ResetSignal(), "i_read_en": self.read_en, "i_read_addr": self.read_addr,
                       "o_read_data": self.read_data}
        if shape.writable:
            connections |= {"i_write_en": self.write_en, "i_write_addr": self.write_addr,
                            "i_write_data": self.write_data}
        m.submodules.macro = Instance(shape.name, **connections)
        return m


class SramMacroModel(SramPorts):
    """The behavioural model of the macro, converted to Verilog as a module of the macro's name."""

    def elaborate(self, platform):
        m = Module()
        shape = self.shape
        m.submodules.array = array = memory.Memory(shape=unsigned(shape.width), depth=shape.depth,
                                                   init=list(shape.init))
        read = array.read_port()
        m.d.comb += [read.en.eq(self.read_en), read.addr.eq(self.read_addr), self.read_data.eq(read.data)]
        if shape.writable:
            write = array.write_port()
            m.d.comb += [write.en.eq(self.write_en), write.addr.eq(self.write_addr), write.data.eq(self.write_data)]
        return m

