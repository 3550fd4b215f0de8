"""The SRAM macro model: its constants reproduce their sources, and its costs grow as they should."""

import numpy as np
import pytest

from flows.eda.liberty_library import CellLibrary, LibraryError, read_liberty
from flows.energy.sram_macros import (MacroCost, MacroSet, area_um2, inverter_leakage_nw, leakage_nw, liberty_text,
                                      read_energy_pj, write_energy_pj)
from flows.steps.power import macro_access_energy_pj
from hw.banked_macro import bank_shapes
from hw.sram_macro import SramMacroShape
from sim.cycles import MemoryAccesses


def shape(width: int, depth: int, writable: bool = False) -> SramMacroShape:
    return SramMacroShape(name=f"sram_w{width}_d{depth}", width=width, depth=depth, writable=writable)


def test_the_energy_model_reproduces_horowitz_at_45nm():
    # 8 KB, 32 KB and 1 MB of 64-bit words: 10, 20 and 100 pJ per read (the fit passes near all three).
    for kib, pj in ((8, 10.0), (32, 20.0), (1024, 100.0)):
        depth = kib * 1024 // 8
        assert read_energy_pj(shape(64, depth), feature_nm=45, supply_v=0.9) == pytest.approx(pj, rel=0.15)


def test_energy_grows_with_width_capacity_node_and_supply():
    base = read_energy_pj(shape(64, 1024), feature_nm=180, supply_v=1.8)
    assert read_energy_pj(shape(128, 512), feature_nm=180, supply_v=1.8) == pytest.approx(2 * base)  # same bits
    assert read_energy_pj(shape(64, 4096), feature_nm=180, supply_v=1.8) > base
    assert read_energy_pj(shape(64, 1024), feature_nm=45, supply_v=0.9) == pytest.approx(base / 16)
    assert write_energy_pj(shape(64, 1024), feature_nm=180, supply_v=1.8) == pytest.approx(base)


def test_area_is_bits_times_the_cell_over_the_array_efficiency():
    # 171 F^2 per bit at 70% efficiency: at 180 nm, 171 x 0.0324 / 0.7 um^2 per bit.
    assert area_um2(shape(64, 512), feature_nm=180) == pytest.approx(64 * 512 * 171 * 0.18 ** 2 / 0.7)
    assert area_um2(shape(64, 512), feature_nm=350) > area_um2(shape(64, 512), feature_nm=180)


def test_the_liberty_has_a_cell_per_macro_with_its_buses_and_arcs():
    text = liberty_text([shape(16, 8, writable=True), shape(8, 3)], feature_nm=180, supply_v=1.8)
    assert text.count("cell (") == 2 and "cell (sram_w16_d8)" in text
    assert "bus (write_data) { bus_type : bus16;" in text and "bus (read_addr) { bus_type : bus2;" in text
    assert "timing_type : rising_edge" in text and "timing_type : setup_rising" in text
    assert "write_data" not in text.split("cell (sram_w8_d3)")[1]
    assert text.count("{") == text.count("}")


def test_leakage_counts_bit_cells_and_periphery_in_the_library_s_inverters():
    liberty = read_liberty(CellLibrary.OSU018.require())
    unit = inverter_leakage_nw(liberty)
    assert unit == pytest.approx(liberty.cells["INVX1"].leakage_nw) and unit > 0
    assert leakage_nw(shape(64, 512), inverter_leakage_nw=unit) == pytest.approx((2 * 64 * 512 + 8 * 64 + 2 * 512) * unit)
    # Banking keeps the bit cells and adds columns: 8 banks of the same bits leak more than one macro.
    banks = bank_shapes(shape(64, 512), bank_words=64)
    assert len(banks) == 8
    assert sum(leakage_nw(b, inverter_leakage_nw=unit) for b in banks) > leakage_nw(shape(64, 512), inverter_leakage_nw=unit)


def test_a_library_without_an_inverter_is_refused():
    liberty = read_liberty(CellLibrary.OSU018.require())
    no_inverter = type(liberty)(path=liberty.path, voltage_v=liberty.voltage_v,
                                cells={k: v for k, v in liberty.cells.items() if not k.startswith("INV")})
    with pytest.raises(LibraryError, match="no inverter cell"):
        inverter_leakage_nw(no_inverter)


def test_a_banked_memory_s_reads_are_priced_once_at_a_bank_s_energy():
    whole = SramMacroShape(name="sram_layer0_weights", width=64, depth=4096)
    banks = bank_shapes(whole, bank_words=256)
    def cost(s):
        return MacroCost(width=s.width, depth=s.depth, bits=s.bits, area_um2=area_um2(s, feature_nm=180),
                         read_pj=read_energy_pj(s, feature_nm=180, supply_v=1.8),
                         write_pj=write_energy_pj(s, feature_nm=180, supply_v=1.8), leakage_nw=0.0)
    reads = np.array([[100]])
    accesses = MemoryAccesses(weight_reads=reads, bias_reads=0 * reads, membrane_reads=0 * reads,
                              membrane_writes=0 * reads)
    banked = macro_access_energy_pj(MacroSet(macros={b.name: cost(b) for b in banks}, liberty=None, models=None), accesses)
    unbanked = macro_access_energy_pj(MacroSet(macros={whole.name: cost(whole)}, liberty=None, models=None), accesses)
    assert banked["weights"][0] == pytest.approx(100 * read_energy_pj(banks[0], feature_nm=180, supply_v=1.8))
    # 16 banks: a read costs 16^-b of the whole memory's, b the power law's exponent (~0.46).
    assert 0.2 < banked["weights"][0] / unbanked["weights"][0] < 0.4
