"""Static timing with OpenSTA on the mapped netlist: critical path, slack, Fmax, and the clock the
energy estimate then uses (one the design meets)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from flows.eda.liberty_library import CellLibrary
from sim.tools import ToolError, run_tool, tcl_path

# A period far beyond any path here, so the slack measures the path: min period = period - slack.
PROBE_PERIOD_NS = 1000.0
# The clock for energy: the minimum period rounded up to this grid.
CLOCK_GRID_NS = 1.0

STA_SCRIPT = """\
{read_liberties}
read_verilog {netlist}
link_design {top}
create_clock -name clk -period {period} [get_ports clk]
set_input_delay 0 -clock clk [delete_from_list [all_inputs] [get_ports clk]]
set_output_delay 0 -clock clk [all_outputs]
report_checks -path_delay max -digits 3
exit
"""


@dataclass(frozen=True)
class TimingResult:
    critical_path_ns: float   # data arrival + setup of the worst register-to-register/port path
    fmax_mhz: float
    clock_period_ns: float    # the clock the rest of the flow uses (meets timing)
    startpoint: str
    endpoint: str
    log: Path


def analyse_timing(netlist: Path, *, top: str, library: CellLibrary, out_dir: Path,
                   macro_liberty: Path | None = None) -> TimingResult:
    """macro_liberty: the SRAM macros' cells (flows/sram_cost.py) when the netlist instantiates them."""
    out_dir.mkdir(parents=True, exist_ok=True)
    script = out_dir / "sta.tcl"
    script.write_text(STA_SCRIPT.format(read_liberties=library.sta_read_commands(macro_liberty),
                                        netlist=tcl_path(netlist), top=top, period=PROBE_PERIOD_NS))
    log = run_tool(["sta", "-no_splash", "-exit", script.name], log=out_dir / "sta.log", cwd=out_dir)
    text = log.read_text()
    slack = re.search(r"(-?[0-9.]+)\s+slack \((MET|VIOLATED)\)", text)
    start = re.search(r"Startpoint: (\S+)", text)
    end = re.search(r"Endpoint: (\S+)", text)
    if slack is None or start is None or end is None:
        said = "printed nothing" if not text.strip() else "reported no timing path"
        raise ToolError(f"OpenSTA (sta) {said} for {script}; see {log}")
    if "port 'clk' not found" in text:
        raise ToolError(f"OpenSTA (sta) found no clk port in {netlist}: its timing figure would be meaningless; "
                        f"see {log}")
    critical = PROBE_PERIOD_NS - float(slack.group(1))
    if not critical > 0:
        raise ToolError(f"OpenSTA (sta) reported a critical path of {critical} ns for {netlist}, no figure a "
                        f"clock can be set from; see {log}")
    period = math.ceil(critical / CLOCK_GRID_NS) * CLOCK_GRID_NS
    return TimingResult(critical_path_ns=critical, fmax_mhz=1000.0 / critical, clock_period_ns=period,
                        startpoint=start.group(1), endpoint=end.group(1), log=log)
