"""An analytical cross-check of the energy: counted operations times per-operation energies derived
from the same liberty, beside the gate-level estimate, with the ratio between the two.

Per-operation energies (pJ), each a cell's internal-energy tables at a fanout-of-two load and the
stated input transition, plus the switching energy 1/2 C V^2 of that load:
  clock      one cycle of a flip-flop's clock pin (rise and fall), for every flip-flop every cycle
             (the core has no clock gating)
  register   one toggle of a flip-flop's output
  adder bit  one toggle of a full adder's sum and half a toggle of its carry
  mux level  one toggle of a 2:1 multiplexer output
Counts from the reference: synaptic operations (a weight read and added to a membrane), neuron
updates (compare, fire, reset, write back: one per neuron per executed timestep) and cycles.
Activity assumption: half of the bits of an operand toggle per operation (random data).

  synaptic op    v_bits (adder bit + register) / 2 + w_bits log2(rows) mux level / 2
  neuron update  v_bits (adder bit + register) / 2
  per cycle      flip-flops x clock

The model leaves out the control logic's own toggles and the spike scan, and the weight ROMs'
decoding beyond a mux tree; the ratio to the gate-level figure shows how much that is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from model.compiled import CompiledNetwork

from flows.energy.toggle_energy import INPUT_TRANSITION_NS
from flows.eda.liberty_library import CellData, LibertyData

FLIP_FLOP, FULL_ADDER, MUX = "DFFPOSX1", "FAX1", "MUX2X1"
TOGGLE_SHARE = 0.5   # bits of an operand that toggle per operation
FANOUT = 2           # inputs an output drives in the per-operation energies


@dataclass(frozen=True)
class OperationEnergies:
    clock_pj: float
    register_pj: float
    adder_bit_pj: float
    mux_level_pj: float


def _toggle_pj(cell: CellData, pin: str, liberty: LibertyData, load_pf: float) -> float:
    """One output toggle: the mean of rise and fall internal energy plus 1/2 C V^2 of the load."""
    data = cell.pins[pin]
    internal = [t.at(load_pf=load_pf, transition_ns=INPUT_TRANSITION_NS) for t in (*data.rise_energy,
                                                                                 *data.fall_energy)]
    return (sum(internal) / len(internal) if internal else 0.0) + 0.5 * load_pf * liberty.voltage_v ** 2


def operation_energies(liberty: LibertyData) -> OperationEnergies:
    missing = [name for name in (FLIP_FLOP, FULL_ADDER, MUX) if name not in liberty.cells]
    if missing:
        raise ValueError(f"{liberty.path} lacks {', '.join(missing)}, which the analytical model prices")
    flop, adder, mux = liberty.cells[FLIP_FLOP], liberty.cells[FULL_ADDER], liberty.cells[MUX]
    load = FANOUT * flop.pins["D"].capacitance_pf
    clock_pin = flop.pins["CLK"]
    clock = sum(t.at(load_pf=0.0, transition_ns=INPUT_TRANSITION_NS) for t in (*clock_pin.rise_energy,
                                                                               *clock_pin.fall_energy))
    clock += clock_pin.capacitance_pf * liberty.voltage_v ** 2  # its clock net charged and discharged
    return OperationEnergies(
        clock_pj=clock,
        register_pj=_toggle_pj(flop, "Q", liberty, load),
        adder_bit_pj=_toggle_pj(adder, "YS", liberty, load) + 0.5 * _toggle_pj(adder, "YC", liberty, load),
        mux_level_pj=_toggle_pj(mux, "Y", liberty, load))


def analytical_energy_nj(net: CompiledNetwork, *, energies: OperationEnergies, flip_flops: int,
                         cycles: float, synaptic_ops: float, neuron_updates: float) -> dict[str, float]:
    """Per inference (mean counts given): the terms and their sum in nJ."""
    widest_membrane = max(layer.membrane_bits for layer in net.layers)
    rows = max(layer.n_in for layer in net.layers)
    update_pj = widest_membrane * (energies.adder_bit_pj + energies.register_pj) * TOGGLE_SHARE
    read_pj = net.layers[0].weight_bits * math.ceil(math.log2(max(2, rows))) * energies.mux_level_pj * TOGGLE_SHARE
    terms = {
        "clock": cycles * flip_flops * energies.clock_pj / 1000,
        "synaptic_ops": synaptic_ops * (update_pj + read_pj) / 1000,
        "neuron_updates": neuron_updates * update_pj / 1000,
    }
    return {**terms, "total": sum(terms.values())}
