"""Which block each module of the hierarchical netlist counts toward."""

import pytest

from flows.eda.area_by_block import block_of


@pytest.mark.parametrize("module, block", [
    ("spikefab_core", "control"),
    ("spikefab_core.next_spike0", "control"),
    ('spikefab_core.layer0_\\"weights\\"', "weight_memory"),
    ('spikefab_core.layer2_\\"membranes\\"', "membrane_memory"),
    ('spikefab_core.layer1_\\"biases\\"', "bias_memory"),
    ("spikefab_core.layer0", "datapath"),
    ("spikefab_core.layer1", "datapath"),
    ("spikefab_core.layer2", "readout"),
    ("spikefab_core.encoder", "encoder"),
    ("spikefab_core.next_pixel", "encoder"),
    # A banked weight memory: its multiplexer's module, its banks' modules and its macros.
    ("spikefab_core.layer1.weights", "weight_memory"),
    ("spikefab_core.layer1.weights.bank3", "weight_memory"),
    ("sram_layer1_weights_bank12", "weight_memory"),
    ("sram_layer1_weights", "weight_memory"),
    ("sram_layer0_membranes", "membrane_memory"),
])
def test_modules_fall_into_their_blocks(module, block):
    assert block_of(module, top="spikefab_core", output_layer=2) == block
