"""The compiled gate-level simulation against Icarus on the same mapped netlists: the same results at
the same times, and the same rises and falls on every net name, window by window. The first window
differs in one known way: Icarus starts every state element at x and does not count x -> 0/1, the
compiled engine starts them at 0 and counts 0 -> 1 there."""

import json

import numpy as np
import pytest

from flows.eda.cell_logic import TruthTable, read_cell_logic
from flows.eda.compiled_gate_level import NetlistError, simulate_compiled
from flows.eda.flat_netlist import FlatNetlist
from flows.eda.gate_level import simulate_netlist
from flows.eda.liberty_library import CellLibrary
from flows.eda.vcd_activity import count_toggles
from hw.verilog import TOP_NAME
from model.architecture import CoreArchitecture, MemoryStyle
from mapped_core import mapped_core
from network_factory import NetworkSpec, random_network

LIBRARY = CellLibrary.OSU018
PERIOD_NS = 10.0


@pytest.mark.parametrize("function, inputs, expected", [
    ("(!((S A) + (!S B)))", ("A", "B", "S"), lambda a, b, s: 1 - (a if s else b)),
    ("(!((A B)+C))", ("A", "B", "C"), lambda a, b, c: 1 - ((a & b) | c)),
    ("((A^B)^C)", ("A", "B", "C"), lambda a, b, c: a ^ b ^ c),
    ("(((A B)+(B C))+(C A))", ("A", "B", "C"), lambda a, b, c: int(a + b + c >= 2)),
    ("A' + B * C", ("A", "B", "C"), lambda a, b, c: (1 - a) | (b & c)),
    ("!A ^ B", ("A", "B"), lambda a, b: (1 - a) ^ b),
])
def test_liberty_functions_become_truth_tables(function, inputs, expected):
    table = TruthTable.of(function, order=inputs)
    for k in range(1 << len(inputs)):
        values = [k >> i & 1 for i in range(len(inputs))]
        assert table.table >> k & 1 == expected(*values), (function, values)


def test_the_library_cells_it_can_run_and_those_it_leaves_out():
    logic = read_cell_logic(LIBRARY.require())
    flop = logic["DFFPOSX1"]
    assert flop.sequential and flop.clock_pin == "CLK" and flop.next_state.inputs == ("D",)
    assert flop.outputs["Q"].inputs == (flop.state,) and flop.outputs["Q"].table == 0b10
    assert set(logic["FAX1"].outputs) == {"YC", "YS"}
    # Set/reset flip-flops, latches and three-state buffers are not represented: a netlist using one is refused.
    assert not {"DFFSR", "LATCH", "TBUFX1", "DFFNEGX1"} & set(logic)
    # Every cell the synthesis maps to is represented.
    assert {"AND2X2", "AOI21X1", "AOI22X1", "BUFX2", "INVX1", "MUX2X1", "NAND2X1", "NAND3X1", "NOR2X1",
            "NOR3X1", "OAI21X1", "OAI22X1", "OR2X2", "XNOR2X1", "XOR2X1", "HAX1", "CLKBUF1"} <= set(logic)


def _module(ports: dict, cells: dict, netnames: dict | None = None) -> dict:
    return {"ports": ports, "cells": cells, "netnames": netnames or {}}


def test_an_instance_that_passes_an_input_through_joins_its_parents_nets(tmp_path):
    # child: output y is its input a (one net); the parent's nets on a and y are one net.
    child = _module({"a": {"direction": "input", "bits": [2]}, "y": {"direction": "output", "bits": [2]}}, {},
                    {"a": {"bits": [2]}})
    top = _module({"i": {"direction": "input", "bits": [2]}, "o": {"direction": "output", "bits": [3]}},
                  {"u": {"type": "child", "connections": {"a": [2], "y": [3]}}},
                  {"i": {"bits": [2]}, "o": {"bits": [3]}})
    path = tmp_path / "n.json"
    path.write_text(json.dumps({"modules": {"top": top, "child": child}}))
    flat = FlatNetlist.load(path, top="top")
    assert flat.ports["i"] == flat.ports["o"]
    nets = dict(zip(flat.signals, flat.signal_nets))
    assert nets[("u/a", 0)] == nets[("i", 0)] == nets[("o", 0)]


def test_a_cell_it_cannot_simulate_is_refused_with_what_to_do(tmp_path):
    net = random_network(NetworkSpec(sizes=(4, 3), seed=3))
    arch = CoreArchitecture(lanes=1)
    module = _module({"clk": {"direction": "input", "bits": [2]}},
                     {"l": {"type": "LATCH", "connections": {"CLK": [2], "D": [3], "Q": [4]}}})
    path = tmp_path / "n.json"
    path.write_text(json.dumps({"modules": {TOP_NAME: module}}))
    with pytest.raises(NetlistError, match="LATCH is neither .* simulate this netlist with the Icarus"):
        simulate_compiled(path, net, arch, np.zeros((1, net.timesteps, net.n_inputs), dtype=bool), top=TOP_NAME,
                          library=LIBRARY, clock_period_ns=PERIOD_NS, max_cycles=100, out_dir=tmp_path / "sim")


def _both(tmp_path, arch: CoreArchitecture, spec: NetworkSpec, images: int):
    net = random_network(spec)
    rng = np.random.default_rng(spec.seed)
    inputs = rng.random((images, net.timesteps, net.n_inputs)) < 0.4
    core = mapped_core(tmp_path, net, arch, LIBRARY)
    netlist, shapes, macros = core.netlist, core.shapes, core.macros
    budget = 10**6
    icarus = simulate_netlist(netlist.netlist, net, arch, inputs, library=LIBRARY, clock_period_ns=PERIOD_NS,
                              max_cycles=budget, out_dir=tmp_path / "icarus", macro_models=macros.models)
    icarus_activity = count_toggles(icarus.vcd, icarus.result_times_ns)
    compiled, compiled_activity = simulate_compiled(netlist.netlist_json, net, arch, inputs, top=TOP_NAME,
                                                    library=LIBRARY, clock_period_ns=PERIOD_NS, max_cycles=budget,
                                                    out_dir=tmp_path / "compiled", macros=shapes)
    return icarus, icarus_activity, compiled, compiled_activity


@pytest.mark.parametrize("memories", [MemoryStyle.FLIP_FLOPS, MemoryStyle.SRAM_MACROS])
def test_the_compiled_engine_counts_what_icarus_counts(tmp_path, memories):
    arch = CoreArchitecture(lanes=2, memories=memories)
    icarus, icarus_activity, compiled, compiled_activity = _both(
        tmp_path, arch, NetworkSpec(sizes=(10, 6, 3), seed=5, timesteps=3), images=3)
    assert compiled.results == icarus.results
    np.testing.assert_array_equal(compiled.result_times_ns, icarus.result_times_ns)
    assert compiled_activity.start_ns == icarus_activity.start_ns
    column = {signal: k for k, signal in enumerate(compiled_activity.signals)}
    assert set(icarus_activity.signals) <= set(column), "every net the VCD names, the engine names"
    order = np.array([column[signal] for signal in icarus_activity.signals])
    rises, falls = compiled_activity.rises[:, order], compiled_activity.falls[:, order]
    assert icarus_activity.rises[1:].sum() > 0
    np.testing.assert_array_equal(rises[1:], icarus_activity.rises[1:])
    np.testing.assert_array_equal(falls[1:], icarus_activity.falls[1:])
    # The first window: where Icarus still had x (state not yet loaded, and the logic it feeds) the
    # engine's power-up 0s count transitions Icarus does not; it never counts fewer, and the extra is small.
    icarus_first = icarus_activity.rises[0] + icarus_activity.falls[0]
    extra = (rises[0] + falls[0]) - icarus_first
    print(f"first window: {extra.sum()} extra toggles on {np.count_nonzero(extra)} nets, of {icarus_first.sum()}")
    assert extra.min() >= 0 and extra.sum() < 0.05 * icarus_first.sum()
