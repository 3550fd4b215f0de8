"""The VCD parser and the energy accounting on a netlist of a few cells, against toggles and energies
worked out by hand (the energies from the OSU 0.18 um liberty's own numbers)."""

import numpy as np
import pytest

from flows.eda.liberty_library import CellLibrary, read_liberty
from flows.eda.vcd_activity import Activity, count_toggles
from flows.energy.toggle_energy import INPUT_TRANSITION_NS, build_net_model, estimate_energy

VCD = """$timescale 1ns $end
$scope module tb $end
$var wire 1 ! clk $end
$scope module dut $end
$var wire 1 " a $end
$var wire 3 # bus [2:0] $end
$var wire 1 $ y $end
$upscope $end
$upscope $end
$enddefinitions $end
#0
$dumpvars
0"
b000 #
x$
$end
#5
1"
b101 #
0$
#12
0"
b1 #
1$
#25
1"
b110 #
#30
0"
"""


def test_toggles_are_counted_per_bit_and_window(tmp_path):
    vcd = tmp_path / "a.vcd"
    vcd.write_text(VCD)
    activity = count_toggles(vcd, np.array([10.0, 20.0]))
    assert activity.signals == [("a", 0), ("bus", 0), ("bus", 1), ("bus", 2), ("y", 0)]
    # a rises at 5 and 25, falls at 12 and 30. bus 000 -> 101 at 5 (bits 0 and 2 rise), -> 001 at 12
    # (bit 2 falls; the short value is padded with zeros), -> 110 at 25 (bits 1, 2 rise, bit 0 falls).
    # y goes x -> 0 at 5 (not a toggle), 0 -> 1 at 12. The dumpvars values count as none.
    np.testing.assert_array_equal(activity.rises, [[1, 1, 0, 1, 0], [0, 0, 0, 0, 1], [1, 0, 1, 1, 0]])
    np.testing.assert_array_equal(activity.falls, [[0, 0, 0, 0, 0], [1, 0, 0, 1, 0], [1, 1, 0, 0, 0]])
    assert (activity.start_ns, activity.end_ns) == (0.0, 30.0)


# in_a (port) -> INVX1 u1 -> n1 -> NAND2X1 u2 (A), with in_b on B -> n2 (output port y).
NETLIST = {
    "ports": {"in_a": {"direction": "input", "bits": [2]}, "in_b": {"direction": "input", "bits": [3]},
              "y": {"direction": "output", "bits": [5]}},
    "cells": {
        "u1": {"type": "INVX1", "port_directions": {"A": "input", "Y": "output"},
               "connections": {"A": [2], "Y": [4]}},
        "u2": {"type": "NAND2X1", "port_directions": {"A": "input", "B": "input", "Y": "output"},
               "connections": {"A": [4], "B": [3], "Y": [5]}},
    },
    "netnames": {"in_a": {"bits": [2]}, "in_b": {"bits": [3]}, "n1": {"bits": [4]}, "y": {"bits": [5]}},
}


def test_energy_is_toggles_times_the_liberty_energies_plus_leakage():
    liberty = read_liberty(CellLibrary.OSU018.require())
    inv, nand = liberty.cells["INVX1"], liberty.cells["NAND2X1"]
    model = build_net_model(NETLIST, liberty)
    signals = [("in_a", 0), ("in_b", 0), ("n1", 0), ("y", 0)]
    rises = np.array([[2, 1, 3, 0]])
    falls = np.array([[1, 0, 2, 1]])
    activity = Activity(signals=signals, rises=rises, falls=falls, start_ns=0.0, end_ns=100.0)
    estimate = estimate_energy(model, activity, np.array([100.0]))

    v2 = liberty.voltage_v ** 2
    cap = {"in_a": inv.pins["A"].capacitance_pf, "in_b": nand.pins["B"].capacitance_pf,
           "n1": nand.pins["A"].capacitance_pf, "y": 0.0}  # y drives nothing inside the module
    toggles = {name: int(r + f) for (name, _), r, f in zip(signals, rises[0], falls[0])}
    switching = sum(toggles[n] * 0.5 * cap[n] * v2 for n in cap)

    def table(pin, load, rise):
        tables = pin.rise_energy if rise else pin.fall_energy
        return float(np.mean([t.at(load_pf=load, transition_ns=INPUT_TRANSITION_NS) for t in tables]))

    # Internal energy: the driving output pin's table at the net's load (the ports are driven from
    # outside: none), per rise and fall; input pins here carry no energy tables of their own.
    internal = (3 * table(inv.pins["Y"], cap["n1"], True) + 2 * table(inv.pins["Y"], cap["n1"], False)
                + 0 * table(nand.pins["Y"], 0.0, True) + 1 * table(nand.pins["Y"], 0.0, False))
    assert estimate.switching_pj[0] == pytest.approx(switching)
    assert estimate.internal_pj[0] == pytest.approx(internal)
    assert estimate.leakage_nw == pytest.approx(inv.leakage_nw + nand.leakage_nw)
    assert estimate.leakage_pj[0] == pytest.approx((inv.leakage_nw + nand.leakage_nw) * 1e-9 * 100e-9 * 1e12)
    assert estimate.activity_coverage == 1.0 and estimate.toggled_share == 1.0
