"""Banked read-only macros: how a memory is split, and what the architecture accepts."""

import pytest

from hw.banked_macro import bank_shapes
from hw.core import core_sram_macros
from hw.sram_macro import SramMacroShape
from model.architecture import CoreArchitecture, MemoryStyle
from network_factory import NetworkSpec, random_network


def test_banks_hold_consecutive_words_and_the_last_is_padded_to_the_same_shape():
    whole = SramMacroShape(name="sram_layer0_weights", width=8, depth=10, init=tuple(range(10)))
    banks = bank_shapes(whole, bank_words=4)
    assert [b.name for b in banks] == [f"sram_layer0_weights_bank{j}" for j in range(3)]
    assert {(b.width, b.depth) for b in banks} == {(8, 4)}
    assert [b.init for b in banks] == [(0, 1, 2, 3), (4, 5, 6, 7), (8, 9)]
    assert bank_shapes(whole, bank_words=16) == (whole,) == bank_shapes(whole, bank_words=None)


def test_a_writable_memory_is_not_banked():
    with pytest.raises(ValueError, match="only read-only memories are banked"):
        bank_shapes(SramMacroShape(name="sram_layer0_membranes", width=8, depth=10, writable=True), bank_words=4)


def test_the_core_instantiates_the_weight_banks_in_place_of_the_weight_macro():
    net = random_network(NetworkSpec(sizes=(12, 10, 4), seed=3))
    arch = CoreArchitecture(lanes=4, memories=MemoryStyle.SRAM_MACROS, weight_bank_words=8)
    names = [shape.name for shape in core_sram_macros(net, arch)]
    # Layer 0: 12 rows x 3 words = 36 words in 5 banks; layer 1: 10 rows x 1 word in 2.
    assert names == [*(f"sram_layer0_weights_bank{j}" for j in range(5)), "sram_layer0_biases", "sram_layer0_membranes",
                     *(f"sram_layer1_weights_bank{j}" for j in range(2)), "sram_layer1_biases", "sram_layer1_membranes"]


@pytest.mark.parametrize("words, memories, message", [
    (6, MemoryStyle.SRAM_MACROS, "power of two"),
    (1, MemoryStyle.SRAM_MACROS, "power of two"),
    (True, MemoryStyle.SRAM_MACROS, "power of two"),
    (8, MemoryStyle.FLIP_FLOPS, "set memories to sram-macros or sram-weights"),
])
def test_bad_banking_is_refused(words, memories, message):
    with pytest.raises(ValueError, match=message):
        CoreArchitecture(memories=memories, weight_bank_words=words)


def test_the_datasheet_lists_every_macro_and_the_banking_rule():
    from hw.datasheet import datasheet_markdown
    net = random_network(NetworkSpec(sizes=(12, 10, 4), seed=3))
    arch = CoreArchitecture(lanes=4, memories=MemoryStyle.SRAM_MACROS, weight_bank_words=8)
    sheet = datasheet_markdown(net, arch)
    assert "## SRAM macros" in sheet and "word a mod 8 of bank a div 8" in sheet
    for shape in core_sram_macros(net, arch):
        assert f"| `{shape.name}` | {shape.width} | {shape.depth} |" in sheet
    assert "## SRAM macros" not in datasheet_markdown(net, CoreArchitecture(lanes=4))


def test_sram_weights_keeps_the_membranes_out_of_the_macros():
    net = random_network(NetworkSpec(sizes=(12, 10, 4), seed=3))
    arch = CoreArchitecture(lanes=4, memories=MemoryStyle.SRAM_WEIGHTS, weight_bank_words=8)
    names = [shape.name for shape in core_sram_macros(net, arch)]
    assert not any("membranes" in name for name in names)
    assert names == [*(f"sram_layer0_weights_bank{j}" for j in range(5)), "sram_layer0_biases",
                     *(f"sram_layer1_weights_bank{j}" for j in range(2)), "sram_layer1_biases"]
