"""Energy from real activity: per-net toggles of a gate-level simulation turned into energy with the
liberty's own data (Debian's OpenSTA cannot read a VCD; ../shared/TOOLCHAIN.md).

For every toggle of a net:
  switching  1/2 C_load V^2, C_load = the input-pin capacitances the net drives (the OSU liberty
             has no wire-load model, so wires add nothing: a stated underestimate)
  internal   the driving cell's rise/fall energy table at (C_load, input transition), averaged over
             the table's related pins (a VCD does not say which input caused the toggle), plus the
             input-pin energy tables (clock and data pins of flip-flops) of the cells it drives
leakage     the sum of cell leakage powers x the simulated time.
Zero-delay simulation: glitches are not counted, another stated underestimate.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from flows.eda.liberty_library import LibertyData
from flows.energy.sram_macros import INPUT_PIN_CAPACITANCE_PF
from flows.eda.vcd_activity import Activity

INPUT_TRANSITION_NS = 0.1  # stated slew for every table look-up (mid-range of the OSU018 tables)


@dataclass(frozen=True, eq=False)
class NetModel:
    """Per net bit id: load capacitance and the energies one rise / one fall cost (pJ)."""

    bit_of_signal: dict[tuple[str, int], int]
    rise_energy_pj: dict[int, float]
    fall_energy_pj: dict[int, float]
    switching_pj: dict[int, float]
    leakage_nw: float
    driven_bits: int


@dataclass(frozen=True, eq=False)
class EnergyEstimate:
    """Per window (inference): switching and internal energy (pJ), and the totals."""

    switching_pj: np.ndarray
    internal_pj: np.ndarray
    leakage_pj: np.ndarray
    activity_coverage: float   # share of the netlist's driven nets whose toggles the VCD gave
    toggled_share: float       # share of driven nets that toggled at least once
    leakage_nw: float

    @property
    def total_pj(self) -> np.ndarray:
        return self.switching_pj + self.internal_pj + self.leakage_pj


def _average(tables, load_pf: float) -> float:
    if not tables:
        return 0.0
    return float(np.mean([t.at(load_pf=load_pf, transition_ns=INPUT_TRANSITION_NS) for t in tables]))


def build_net_model(module: dict, liberty: LibertyData, *, macros: frozenset[str] = frozenset(),
                    submodules: frozenset[str] = frozenset()) -> NetModel:
    """module: a module of the mapped netlist as Yosys writes it in JSON. Cells whose type is one of
    `macros` (SRAM macros, costed per access elsewhere) load their input nets with the stated pin
    capacitance of flows/sram_cost.py and drive their outputs with no internal energy here. Instances
    of `submodules` (a hierarchical netlist's own modules) count in their own module's model."""
    load = defaultdict(float)
    sink_rise = defaultdict(float)
    sink_fall = defaultdict(float)
    drivers: dict[int, tuple[str, str]] = {}
    leakage = 0.0
    for cell in module["cells"].values():
        if cell["type"] in submodules:
            continue
        if cell["type"] in macros:
            for pin, bits in cell["connections"].items():
                for bit in (b for b in bits if isinstance(b, int)):
                    if cell["port_directions"][pin] == "input":
                        load[bit] += INPUT_PIN_CAPACITANCE_PF
                    else:
                        drivers[bit] = ("", "")  # switching of its load only
            continue
        data = liberty.cells.get(cell["type"])
        if data is None:
            raise ValueError(f"netlist cell {cell['type']} is not in {liberty.path}")
        leakage += data.leakage_nw
        for pin, bits in cell["connections"].items():
            pin_data = data.pins[pin]
            for bit in bits:
                if not isinstance(bit, int):
                    continue  # a constant
                if pin_data.direction == "input":
                    load[bit] += pin_data.capacitance_pf
                    sink_rise[bit] += _average(pin_data.rise_energy, 0.0)
                    sink_fall[bit] += _average(pin_data.fall_energy, 0.0)
                else:
                    drivers[bit] = (cell["type"], pin)
    for port in module["ports"].values():
        if port["direction"] == "input":
            for bit in port["bits"]:
                if isinstance(bit, int):
                    drivers.setdefault(bit, ("", ""))  # driven from outside: switching only
    v2 = liberty.voltage_v ** 2
    rise, fall, switching = {}, {}, {}
    for bit in set(drivers) | set(load):
        c = load.get(bit, 0.0)
        cell_type, pin = drivers.get(bit, ("", ""))
        internal_rise = internal_fall = 0.0
        if cell_type:
            pin_data = liberty.cells[cell_type].pins[pin]
            internal_rise = _average(pin_data.rise_energy, c)
            internal_fall = _average(pin_data.fall_energy, c)
        switching[bit] = 0.5 * c * v2
        rise[bit] = internal_rise + sink_rise.get(bit, 0.0)
        fall[bit] = internal_fall + sink_fall.get(bit, 0.0)
    bit_of_signal = {}
    for name, net in module["netnames"].items():
        # A one-bit net split out of a vector keeps its offset here but is a scalar in the VCD.
        offset = net.get("offset", 0) if len(net["bits"]) > 1 else 0
        for k, bit in enumerate(net["bits"]):
            if isinstance(bit, int):
                bit_of_signal[(name, offset + k)] = bit
    return NetModel(bit_of_signal=bit_of_signal, rise_energy_pj=rise, fall_energy_pj=fall, switching_pj=switching,
                    leakage_nw=leakage, driven_bits=len(drivers))


def estimate_energy(model: NetModel, activity: Activity, window_ns: np.ndarray) -> EnergyEstimate:
    """window_ns: (windows,) duration of each window, for leakage."""
    rise_cost = np.zeros(len(activity.signals))
    fall_cost = np.zeros(len(activity.signals))
    switch_cost = np.zeros(len(activity.signals))
    seen = set()
    driven_columns = []  # one VCD column per driven net bit
    for i, signal in enumerate(activity.signals):
        bit = model.bit_of_signal.get(signal)
        if bit is None or bit in seen:
            continue
        seen.add(bit)
        if bit in model.switching_pj:
            driven_columns.append(i)
        rise_cost[i] = model.rise_energy_pj.get(bit, 0.0)
        fall_cost[i] = model.fall_energy_pj.get(bit, 0.0)
        switch_cost[i] = model.switching_pj.get(bit, 0.0)
    toggles = activity.rises + activity.falls
    internal = activity.rises @ rise_cost + activity.falls @ fall_cost
    switching = toggles @ switch_cost
    driven = len(model.switching_pj)
    toggled = int(np.count_nonzero(toggles[:, driven_columns].sum(axis=0)))
    leakage_pj = model.leakage_nw * 1e-9 * np.asarray(window_ns) * 1e-9 * 1e12
    return EnergyEstimate(
        switching_pj=switching, internal_pj=internal, leakage_pj=leakage_pj,
        activity_coverage=len(driven_columns) / max(1, driven),
        toggled_share=toggled / max(1, driven), leakage_nw=model.leakage_nw)
