"""Gate-level simulation of the mapped netlist with Icarus Verilog: a generated Verilog testbench
replays encoded inferences at full speed (no Python per cycle), writes each result with its time,
and dumps the netlist's nets to a VCD for toggle counting."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hw.core import input_port_name, result_layout
from hw.verilog import TOP_NAME
from model.architecture import CoreArchitecture
from model.compiled import CompiledNetwork
from sim.port_codec import PortCodec

from flows.eda.liberty_library import CellLibrary
from sim.tools import ToolError, require_tool, run_tool

RESET_CYCLES = 3

TESTBENCH = """\
`timescale 1ns/10ps
module gate_level_tb;
  localparam EVENTS = {events};
  reg clk = 0;
  reg rst = 1;
  reg in_valid = 0;
  reg [{event_msb}:0] in_payload = 0;
  reg result__ready = 0;
  wire in_ready;
  wire result__valid;
  wire [{result_msb}:0] result__payload;
  reg [{event_msb}:0] entries [0:EVENTS-1];
  integer position = 0;
  integer results = 0;
  integer cycle = 0;
  integer out;

  {top} dut(.clk(clk), .rst(rst), .{port}__valid(in_valid), .{port}__payload(in_payload),
            .{port}__ready(in_ready), .result__valid(result__valid),
            .result__payload(result__payload), .result__ready(result__ready));

  always #{half_period} clk = ~clk;

  initial begin
    $readmemh("{events_file}", entries);
    out = $fopen("{results_file}", "w");
    repeat ({reset_cycles}) @(negedge clk);
    rst = 0;
    $dumpfile("{vcd_file}");
{dumpvars}
  end

  // Drive and sample on the falling edge; a transfer happens at the next rising edge.
  always @(negedge clk) if (!rst) begin
    cycle = cycle + 1;
    if (position < EVENTS) begin
      in_valid = 1;
      in_payload = entries[position];
      if (in_ready) position = position + 1;
    end else
      in_valid = 0;
    result__ready = result__valid;
    if (result__valid) begin
      $fwrite(out, "%0d %h\\n", $time, result__payload);
      results = results + 1;
      if (results == {images}) begin
        $fclose(out);
        $finish;
      end
    end
    if (cycle > {max_cycles}) begin
      $display("gate-level simulation did not finish in {max_cycles} cycles");
      $fclose(out);
      $finish;
    end
  end
endmodule
"""


@dataclass(frozen=True)
class MacroAccessCounts:
    """Per SRAM macro (by module name), the rising edges with its read enable (reads) and its write
    enable (writes) high after reset, per window: (B + 1,), the last window after the last result."""

    reads: dict[str, np.ndarray]
    writes: dict[str, np.ndarray]


@dataclass(frozen=True)
class GateLevelRun:
    vcd: Path | None  # None from the compiled simulation, which counts toggles itself
    result_times_ns: np.ndarray  # (B,) time each result was taken
    results: list[dict]
    clock_period_ns: float
    macro_accesses: MacroAccessCounts | None = None  # counted by the compiled simulation only


def _verilog_name(name: str) -> str:
    """An identifier as Verilog writes it: escaped (with its closing space) unless it is a simple one."""
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]*", name) else f"\\{name} "


def simulate_netlist(netlist: Path, network: CompiledNetwork, architecture: CoreArchitecture, inputs: np.ndarray,
                     *, library: CellLibrary, clock_period_ns: float, max_cycles: int, out_dir: Path,
                     macro_models: Path | None = None, instances: tuple[tuple[str, ...], ...] = ()) -> GateLevelRun:
    """Run the images of `inputs` (spike frames, or intensities for the on-chip encoder) through the
    netlist; the clock is `clock_period_ns`. macro_models: the behavioural models of the SRAM macros
    the netlist instantiates. The VCD holds the top module's nets, and those of the module `instances`
    of a hierarchical netlist (their paths of instance names, e.g. ("layer0", "weights"))."""
    require_tool("iverilog")
    require_tool("vvp")
    if not library.cell_models_path.is_file():
        raise ToolError(f"cell models {library.cell_models_path} not found: install Debian's {library.package}")
    out_dir.mkdir(parents=True, exist_ok=True)
    codec = PortCodec(network, architecture)
    entries, _ = codec.input_stream(inputs)
    np.savetxt(out_dir / "events.hex", entries, fmt="%x")
    half = clock_period_ns / 2
    tb = TESTBENCH.format(
        events=entries.size, port=input_port_name(architecture), event_msb=codec.input_width - 1, result_msb=result_layout(network).size - 1,
        top=TOP_NAME, half_period=f"{half:.3f}", events_file="events.hex", results_file="results.txt",
        vcd_file="activity.vcd", reset_cycles=RESET_CYCLES, images=inputs.shape[0], max_cycles=max_cycles,
        dumpvars="\n".join(f"    $dumpvars(1, {'.'.join(['dut', *map(_verilog_name, path)])});"
                           for path in ((), *instances)))
    (out_dir / "gate_level_tb.v").write_text(tb)
    run_tool(["iverilog", "-g2005", "-o", "gate_level.vvp", "-s", "gate_level_tb", "gate_level_tb.v",
              str(Path(netlist).resolve()), str(library.cell_models_path),
              *([str(Path(macro_models).resolve())] if macro_models is not None else [])],
             log=out_dir / "iverilog.log", cwd=out_dir)
    run_tool(["vvp", "-n", "gate_level.vvp"], log=out_dir / "vvp.log", cwd=out_dir)
    lines = (out_dir / "results.txt").read_text().split()
    times = np.array([float(t) for t in lines[0::2]])
    if times.size != inputs.shape[0]:
        raise ToolError(f"the gate-level simulation returned {times.size} of {inputs.shape[0]} results; "
                        f"see {out_dir / 'vvp.log'}")
    results = [codec.result(int(h, 16)) for h in lines[1::2]]
    return GateLevelRun(vcd=out_dir / "activity.vcd", result_times_ns=times, results=results,
                        clock_period_ns=clock_period_ns)
