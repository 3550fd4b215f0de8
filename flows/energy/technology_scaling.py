"""The measured figures scaled to newer process nodes: an ESTIMATE by a stated first-order rule, so a
design can be placed beside published chips. Scaled figures are always reported apart from the
measured ones, under their own key and heading, never in the same column.

Rule (first order, from the source library's feature size L and supply V to the target's):
  dynamic energy   x (L_t / L_s) (V_t / V_s)^2   (energy = C V^2, capacitance proportional to L)
  area             x (L_t / L_s)^2
  clock frequency  x (L_s / L_t)                 (gate delay proportional to L)
Leakage is not scaled (below 90 nm it grows rather than shrinks; a first-order rule says nothing
useful about it), so the scaled energy covers the dynamic part only. Wires, memories compiled by a
foundry generator, and voltage headroom all move real chips away from this rule, by factors that can
exceed 2: treat the scaled figures as a placement, not a prediction.
"""

from __future__ import annotations

from dataclasses import dataclass

from flows.engine.figures import estimated, setting

# Nominal core supplies of the target nodes (typical of the logic processes reported at them).
TARGET_NODES_V = {45: 1.1, 40: 1.1, 28: 0.9}


@dataclass(frozen=True)
class ProcessNode:
    feature_nm: float
    supply_v: float


@dataclass(frozen=True, kw_only=True)
class ScaledFigures:
    """One target node's figures by the rule above."""

    supply_v: float = setting("the target node's nominal supply", "V")
    dynamic_nj_per_inference: float = estimated("nJ", "the measured dynamic energy (and modelled macro accesses) "
                                                "scaled by (L_t/L_s)(V_t/V_s)^2; leakage left out")
    dynamic_pj_per_sop: float = estimated("pJ/SOP", "the same per synaptic operation")
    area_mm2: float = estimated("mm^2", "area scaled by (L_t/L_s)^2")
    fmax_mhz: float = estimated("MHz", "Fmax scaled by L_s/L_t")


def scale_figures(*, source: ProcessNode, dynamic_nj: float, area_um2: float, fmax_mhz: float,
                  sops_per_inference: float) -> dict[str, ScaledFigures]:
    """{"45nm": ..., "40nm": ..., "28nm": ...}: the figures scaled to each target node."""
    out = {}
    for node_nm, supply_v in TARGET_NODES_V.items():
        length = node_nm / source.feature_nm
        energy = dynamic_nj * length * (supply_v / source.supply_v) ** 2
        out[f"{node_nm}nm"] = ScaledFigures(
            supply_v=supply_v,
            dynamic_nj_per_inference=energy,
            dynamic_pj_per_sop=energy * 1000 / sops_per_inference if sops_per_inference else float("nan"),
            area_mm2=area_um2 * length ** 2 / 1e6,
            fmax_mhz=fmax_mhz / length,
        )
    return out
