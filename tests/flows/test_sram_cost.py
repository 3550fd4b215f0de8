"""The SRAM macro model: its constants reproduce their sources, and its costs grow as they should."""

import pytest

from flows.energy.sram_macros import area_um2, liberty_text, read_energy_pj, write_energy_pj
from hw.sram_macro import SramMacroShape


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
