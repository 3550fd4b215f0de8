"""Gate-level activity in seconds instead of hours: the mapped netlist flattened, its cells reduced to
truth tables from the liberty (flows/eda/cell_logic.py), its SRAM macros given their contents, and a
small C engine (flows/eda/gate_level_engine.c) that simulates it cycle by cycle and counts each net's
rises and falls per inference. The same zero-delay, glitch-free toggles the Icarus simulation and its
VCD give (flows/eda/gate_level.py, kept as the cross-check), without a VCD: tested equal to them."""

from __future__ import annotations

import hashlib
import struct
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from flows.eda.cell_logic import MAX_INPUTS, CellLogic, read_cell_logic
from flows.eda.flat_netlist import FlatNetlist, LeafCell
from flows.eda.gate_level import RESET_CYCLES, GateLevelRun, MacroAccessCounts
from flows.eda.liberty_library import CellLibrary
from flows.eda.vcd_activity import Activity
from hw.core import input_port_name
from hw.sram_macro import SramMacroShape
from model.architecture import CoreArchitecture
from model.compiled import CompiledNetwork
from sim.port_codec import PortCodec
from sim.tools import ToolError, require_tool, run_tool

ENGINE_SOURCE = Path(__file__).with_name("gate_level_engine.c")
# The engine's build: optimised, and named by its source's hash so that a changed engine is rebuilt.
COMPILE_FLAGS = ("-O2", "-std=c99")


class NetlistError(ValueError):
    """A netlist the compiled simulation cannot run, with what to do instead."""


def engine_binary(folder: Path) -> Path:
    """The engine built into `folder` (named by its source and flags, so a changed engine is rebuilt)."""
    require_tool("gcc")
    digest = hashlib.sha256(ENGINE_SOURCE.read_bytes() + " ".join(COMPILE_FLAGS).encode()).hexdigest()[:16]
    binary = folder / f"gate_level_engine_{digest}"
    if not binary.exists():
        folder.mkdir(parents=True, exist_ok=True)
        partial = binary.with_suffix(".partial")
        run_tool(["gcc", *COMPILE_FLAGS, "-o", str(partial), str(ENGINE_SOURCE)], log=folder / "engine_build.log")
        partial.rename(binary)
    return binary


@dataclass(frozen=True, eq=False)
class _Design:
    """The netlist as the engine's tables."""

    nets: int
    comb: list[tuple[tuple[int, ...], int, int]]   # (inputs, output, table), in evaluation order
    flip_flops: list[tuple[tuple[int, ...], int, int]]  # (next-state inputs, state net, table)
    macros: list[tuple[SramMacroShape, LeafCell]]


def _table_inputs(cell: LeafCell, names: tuple[str, ...], state_net: int | None = None,
                  state: str | None = None) -> tuple[int, ...]:
    nets = []
    for name in names:
        if name == state:
            nets.append(state_net)
        elif name in cell.connections:
            nets.append(cell.connections[name][0])
        else:
            raise NetlistError(f"cell {cell.name} ({cell.type}) leaves input {name} unconnected")
    return tuple(nets)


def _clock_nets(netlist: FlatNetlist, logic: dict[str, CellLogic]) -> set[int]:
    """The clock port's net and every net a buffer chain drives from it."""
    clock = set(netlist.ports["clk"])
    grew = True
    while grew:
        grew = False
        for cell in netlist.cells:
            cell_logic = logic.get(cell.type)
            if cell_logic is None or cell_logic.sequential or len(cell_logic.outputs) != 1:
                continue
            (pin, table), = cell_logic.outputs.items()
            if len(table.inputs) == 1 and table.table == 0b10:  # a buffer: output = its input
                source, out = cell.connections[table.inputs[0]][0], cell.connections[pin][0]
                if source in clock and out not in clock:
                    clock.add(out)
                    grew = True
    return clock


def _build(netlist: FlatNetlist, logic: dict[str, CellLogic], macro_shapes: dict[str, SramMacroShape],
           library: CellLibrary) -> _Design:
    nets = netlist.nets
    comb: list[tuple[tuple[int, ...], int, int]] = []
    flip_flops = []
    macros = []
    clock = _clock_nets(netlist, logic)
    for cell in netlist.cells:
        if cell.type in macro_shapes:
            macros.append((macro_shapes[cell.type], cell))
            continue
        cell_logic = logic.get(cell.type)
        if cell_logic is None:
            raise NetlistError(f"cell {cell.name}: {cell.type} is neither a combinational cell nor a rising-edge "
                               f"flip-flop without set/reset in {library.liberty_path}, nor a known SRAM macro; "
                               "simulate this netlist with the Icarus gate-level simulation instead")
        state_net = None
        if cell_logic.sequential:
            if cell.connections[cell_logic.clock_pin][0] not in clock:
                raise NetlistError(f"flip-flop {cell.name} is clocked by a net other than the clock port's tree: "
                                   "the compiled simulation has one clock")
            state_net = nets
            nets += 1
            next_state = cell_logic.next_state
            flip_flops.append((_table_inputs(cell, next_state.inputs), state_net, next_state.table))
        for pin, table in cell_logic.outputs.items():
            if pin in cell.connections:
                comb.append((_table_inputs(cell, table.inputs, state_net, cell_logic.state),
                             cell.connections[pin][0], table.table))
    return _Design(nets=nets, comb=_topological(comb), flip_flops=flip_flops, macros=macros)


def _topological(comb):
    """The combinational cells in an order where each cell comes after the drivers of its inputs."""
    driver = {}
    for index, (_, out, _) in enumerate(comb):
        if out in driver:
            raise NetlistError(f"net {out} has two drivers")
        driver[out] = index
    waiting = [0] * len(comb)
    readers = defaultdict(list)
    for index, (inputs, _, _) in enumerate(comb):
        for net in set(inputs):
            if net in driver:
                waiting[index] += 1
                readers[net].append(index)
    ready = [index for index, count in enumerate(waiting) if count == 0]
    order = []
    while ready:
        index = ready.pop()
        order.append(index)
        for reader in readers[comb[index][1]]:
            waiting[reader] -= 1
            if waiting[reader] == 0:
                ready.append(reader)
    if len(order) != len(comb):
        raise NetlistError(f"{len(comb) - len(order)} cells form a combinational loop: the compiled simulation "
                           "needs an acyclic netlist")
    return [comb[index] for index in order]


def _ints(values) -> bytes:
    return np.asarray(list(values), dtype="<i4").tobytes()


def _padded(inputs: tuple[int, ...]) -> tuple[int, ...]:
    return inputs + (0,) * (MAX_INPUTS - len(inputs))


def _write_design(design: _Design, netlist: FlatNetlist, architecture: CoreArchitecture, entries: np.ndarray,
                  payload_bits: int, images: int, max_cycles: int, path: Path) -> None:
    port = input_port_name(architecture)
    ports = netlist.ports
    out = [struct.pack("<i", design.nets), struct.pack("<i", len(design.comb)),
           _ints(len(inputs) for inputs, _, _ in design.comb),
           _ints(net for inputs, _, _ in design.comb for net in _padded(inputs)),
           _ints(output for _, output, _ in design.comb),
           np.array([table for _, _, table in design.comb], dtype="<u8").tobytes(),
           struct.pack("<i", len(design.flip_flops)),
           _ints(len(inputs) for inputs, _, _ in design.flip_flops),
           _ints(net for inputs, _, _ in design.flip_flops for net in _padded(inputs)),
           _ints(state for _, state, _ in design.flip_flops),
           np.array([table for _, _, table in design.flip_flops], dtype="<u8").tobytes(),
           struct.pack("<i", len(design.macros))]
    for shape, cell in design.macros:
        c = cell.connections
        words = np.zeros(shape.depth, dtype=object)
        words[:len(shape.init)] = list(shape.init)
        bits = np.array([[word >> b & 1 for b in range(shape.width)] for word in words], dtype=np.uint8)
        out += [_ints([shape.width, shape.depth, int(shape.writable), shape.address_bits, c["read_en"][0]]),
                _ints(c["read_addr"]), _ints(c["read_data"]),
                _ints([c["write_en"][0] if shape.writable else 0]),
                _ints(c["write_addr"] if shape.writable else [0] * shape.address_bits),
                _ints(c["write_data"] if shape.writable else [0] * shape.width), bits.tobytes()]
    payload = ports[f"{port}__payload"]
    if len(payload) != payload_bits:
        raise NetlistError(f"the netlist's {port}__payload has {len(payload)} bits, the network's entries {payload_bits}")
    entry_bits = ((entries[:, None].astype(object) >> np.arange(payload_bits)) & 1).astype(np.uint8)
    out += [_ints([ports["clk"][0], ports["rst"][0], ports[f"{port}__valid"][0], ports[f"{port}__ready"][0],
                   payload_bits]), _ints(payload),
            _ints([ports["result__valid"][0], ports["result__ready"][0], len(ports["result__payload"])]),
            _ints(ports["result__payload"]), struct.pack("<i", len(entries)), entry_bits.tobytes(),
            _ints([RESET_CYCLES, images, min(max_cycles, 2**31 - 1)])]
    path.write_bytes(b"".join(out))


def simulate_compiled(netlist_json: Path, network: CompiledNetwork, architecture: CoreArchitecture,
                      inputs: np.ndarray, *, top: str, library: CellLibrary, clock_period_ns: float, max_cycles: int,
                      out_dir: Path, macros: list[SramMacroShape] = ()) -> tuple[GateLevelRun, Activity]:
    """The images of `inputs` (spike frames, or intensities for the on-chip encoder) through the netlist
    of `netlist_json` (flat or hierarchical); macros: the SRAM macros it instantiates, with their
    contents. Returns the results with their times and each macro's reads and writes per inference,
    and every net name's rises and falls per inference (the last window, after the last result, is
    empty)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    netlist = FlatNetlist.load(netlist_json, top=top)
    design = _build(netlist, read_cell_logic(library.require()), {shape.name: shape for shape in macros}, library)
    codec = PortCodec(network, architecture)
    entries, _ = codec.input_stream(inputs)
    design_path = out_dir / "design.bin"
    _write_design(design, netlist, architecture, np.asarray(entries), codec.input_width, inputs.shape[0], max_cycles,
                  design_path)
    engine = engine_binary(out_dir)
    results_path, counts_path, accesses_path = out_dir / "results.txt", out_dir / "counts.bin", out_dir / "accesses.bin"
    try:
        run_tool([str(engine), str(design_path), str(results_path), str(counts_path), str(accesses_path)],
                 log=out_dir / "engine.log")
    except ToolError as exc:
        raise ToolError(f"the compiled gate-level simulation of {netlist_json} did not finish: {exc}") from exc
    design_path.unlink()
    lines = results_path.read_text().split()
    falling_edges = np.array([int(k) for k in lines[0::2]])
    if falling_edges.size != inputs.shape[0]:
        raise ToolError(f"the compiled gate-level simulation returned {falling_edges.size} of {inputs.shape[0]} results")
    results = [codec.result(int(h, 16)) for h in lines[1::2]]
    counts = np.fromfile(counts_path, dtype="<u4").reshape(-1, 2, design.nets)
    counts_path.unlink()
    accesses = np.fromfile(accesses_path, dtype="<u4").astype(np.int64)
    accesses = accesses.reshape(-1, 2, len(design.macros)) if design.macros else np.zeros((0, 2, 0), dtype=np.int64)
    accesses_path.unlink()
    reads: dict[str, np.ndarray] = {}
    writes: dict[str, np.ndarray] = {}
    for k, (shape, _) in enumerate(design.macros):
        reads[shape.name] = reads.get(shape.name, 0) + accesses[:, 0, k]
        writes[shape.name] = writes.get(shape.name, 0) + accesses[:, 1, k]
    columns = np.array(netlist.signal_nets, dtype=np.int64)
    # Falling edge k after reset is at (RESET_CYCLES + k) periods, as in the Icarus testbench.
    start_ns = RESET_CYCLES * clock_period_ns
    times = start_ns + falling_edges * clock_period_ns
    activity = Activity(signals=list(netlist.signals), rises=counts[:, 0, columns].astype(np.int64),
                        falls=counts[:, 1, columns].astype(np.int64), start_ns=start_ns, end_ns=float(times[-1]))
    run = GateLevelRun(vcd=None, result_times_ns=times, results=results, clock_period_ns=clock_period_ns,
                       macro_accesses=MacroAccessCounts(reads=reads, writes=writes))
    return run, activity
