"""The first-order scaling rule, applied as stated."""

import pytest

from flows.energy.technology_scaling import ProcessNode, scale_figures


def test_the_rule_scales_energy_by_length_and_supply_squared_and_area_by_length_squared():
    scaled = scale_figures(source=ProcessNode(feature_nm=180, supply_v=1.8), dynamic_nj=100.0, area_um2=1e6,
                           fmax_mhz=30.0, sops_per_inference=1000)
    node = scaled["45nm"]
    assert node.dynamic_nj_per_inference == pytest.approx(100 * 0.25 * (1.1 / 1.8) ** 2)
    assert node.dynamic_pj_per_sop == pytest.approx(node.dynamic_nj_per_inference)  # 1000 SOPs: nJ -> pJ
    assert node.area_mm2 == pytest.approx(1.0 / 16)
    assert node.fmax_mhz == pytest.approx(120.0)
    assert scaled["28nm"].dynamic_nj_per_inference < scaled["40nm"].dynamic_nj_per_inference < 100
