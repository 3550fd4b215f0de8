"""Energy by block: the logic's gate-level energy split over the blocks of flows/area_by_block.py,
from a gate-level simulation of its hierarchical netlist (every module instance's nets dumped).

Every cell pin belongs to one module instance, so a net's switching energy is charged to the
instances whose input pins load it and its driver's internal energy to the driver's instance: the
instances' sums add up to the whole, with no net counted twice. The hierarchical netlist is mapped
without the flat synthesis's buffering and cross-boundary optimisation, so its total differs a
little from the headline; the flow uses its shares to split the headline's logic energy.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from flows.eda.area_by_block import BLOCKS, block_of
from flows.energy.toggle_energy import build_net_model, estimate_energy
from flows.eda.liberty_library import LibertyData
from flows.eda.vcd_activity import Activity


@dataclass(frozen=True)
class BlockEnergy:
    dynamic_pj: dict[str, np.ndarray]   # block -> switching + internal energy per window (pJ)
    leakage_pj: dict[str, np.ndarray]   # block -> leakage per window (pJ)


def _instance_activity(activity: Activity, path: str) -> Activity:
    """The nets of one instance (its path joined by dots as count_toggles names it; "" for the top),
    named as in its module."""
    columns, signals = [], []
    for i, (name, bit) in enumerate(activity.signals):
        scope, _, local = name.rpartition("/")
        if scope == path:
            columns.append(i)
            signals.append((local, bit))
    return Activity(signals=signals, rises=activity.rises[:, columns], falls=activity.falls[:, columns],
                    start_ns=activity.start_ns, end_ns=activity.end_ns)


@dataclass(frozen=True)
class HierarchicalNetlist:
    """The modules of a hierarchical netlist (Yosys JSON) and where each is instantiated."""

    modules: dict[str, dict]
    instances: dict[tuple[str, ...], str]  # instance path (() for the top, ("layer0", "weights"), ...) -> module
    submodules: frozenset[str]  # the design's own modules (not cells, not black boxes)

    @staticmethod
    def load(netlist_json: Path, *, top: str, macros: frozenset[str]) -> "HierarchicalNetlist":
        modules = json.loads(Path(netlist_json).read_text())["modules"]
        submodules = frozenset(name for name, module in modules.items()
                               if name not in macros and not module.get("attributes", {}).get("blackbox"))
        instances, pending = {}, [(top, ())]
        while pending:
            module_name, path = pending.pop()
            instances[path] = module_name
            for cell_name, cell in modules[module_name]["cells"].items():
                if cell["type"] in submodules:
                    pending.append((cell["type"], (*path, cell_name[1:] if cell_name.startswith("\\") else cell_name)))
        return HierarchicalNetlist(modules=modules, instances=instances, submodules=submodules)


def energy_by_block(netlist: HierarchicalNetlist, activity: Activity, window_ns: np.ndarray, liberty: LibertyData,
                    *, top: str, macros: frozenset[str]) -> BlockEnergy:
    """activity: toggles of a gate-level VCD of the netlist with every instance's nets
    (count_toggles(..., hierarchical=True))."""
    output_layer = max(int(m.group(1)) for name in netlist.modules
                       if (m := re.fullmatch(rf"{re.escape(top)}\.layer(\d+)", name)))
    windows = activity.rises.shape[0]
    dynamic = defaultdict(lambda: np.zeros(windows))
    leakage = defaultdict(lambda: np.zeros(windows))
    models = {}
    for path, module_name in netlist.instances.items():
        if module_name not in models:
            models[module_name] = build_net_model(netlist.modules[module_name], liberty, macros=macros,
                                                  submodules=netlist.submodules)
        estimate = estimate_energy(models[module_name], _instance_activity(activity, ".".join(path)), window_ns)
        block = block_of(module_name, top=top, output_layer=output_layer)
        dynamic[block] += estimate.switching_pj + estimate.internal_pj
        leakage[block] += estimate.leakage_pj
    return BlockEnergy(dynamic_pj={b: dynamic[b] for b in BLOCKS}, leakage_pj={b: leakage[b] for b in BLOCKS})
