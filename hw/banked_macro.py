"""A read-only memory built from several SRAM macros ("banks"), each holding a contiguous range of
`bank_words` words. A read enables only the bank that holds the address, so it costs one small
macro's access instead of the whole memory's; the cost is a multiplexer on the read data and the
periphery each extra macro brings (flows/energy/sram_macros.py prices both sides).

Seen from the logic it behaves exactly like one macro of the whole depth (hw/sram_macro.py): data of
the address presented in cycle c appears in cycle c+1 and holds while the enable is low (the bank
selection is registered only on an enabled read, and a disabled bank holds its output).
"""

from __future__ import annotations

import dataclasses

from amaranth import Array, Module, Signal

from .sram_macro import SramMacroInstance, SramMacroShape, SramPorts


def bank_shapes(shape: SramMacroShape, *, bank_words: int | None) -> tuple[SramMacroShape, ...]:
    """The macros that make up `shape`: itself when unbanked or no deeper than one bank; otherwise
    ceil(depth / bank_words) banks of bank_words words each (the last one padded: one macro shape for
    all, as a macro compiler would give), named shape.name + "_bank{j}"."""
    if bank_words is None or shape.depth <= bank_words:
        return (shape,)
    if shape.writable:
        raise ValueError(f"macro {shape.name}: only read-only memories are banked")
    count = -(-shape.depth // bank_words)
    return tuple(dataclasses.replace(shape, name=f"{shape.name}_bank{j}", depth=bank_words,
                                     init=shape.init[j * bank_words:(j + 1) * bank_words])
                 for j in range(count))


class BankedSramRead(SramPorts):
    """The read port of `shape` (its whole depth), built from its banks (bank_shapes)."""

    def __init__(self, shape: SramMacroShape, *, bank_words: int):
        self.banks = bank_shapes(shape, bank_words=bank_words)
        self.bank_words = bank_words
        super().__init__(shape)

    def elaborate(self, platform):
        m = Module()
        local_bits = (self.bank_words - 1).bit_length()
        select = self.read_addr[local_bits:]
        selected = Signal(range(len(self.banks)), name="bank_selected")
        outputs = []
        for j, bank in enumerate(self.banks):
            m.submodules[f"bank{j}"] = macro = SramMacroInstance(bank)
            m.d.comb += [macro.read_addr.eq(self.read_addr[:local_bits]),
                         macro.read_en.eq(self.read_en & (select == j))]
            outputs.append(macro.read_data)
        with m.If(self.read_en):
            m.d.sync += selected.eq(select)
        m.d.comb += self.read_data.eq(Array(outputs)[selected])
        return m
