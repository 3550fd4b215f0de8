"""OpenSTA's own power estimate, as a labelled cross-check of the toggle-exact figure.

Debian's OpenSTA cannot read a VCD and lets activity be set on input ports only
(../shared/TOOLCHAIN.md): its propagation through the logic then decides every internal net's
activity. We give it the mean toggle rate the gate-level simulation measured on the core's data
input ports (toggles per clock period) and read `report_power`'s total; energy per inference is
that power times the inference's mean duration. Never the headline: the ratio to the toggle-exact
figure says how far propagated activity is from real activity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from flows.eda.liberty_library import CellLibrary
from sim.tools import ToolError, run_tool, tcl_path

STA_POWER_SCRIPT = """\
{read_liberties}
read_verilog {netlist}
link_design {top}
create_clock -name clk -period {period} [get_ports clk]
set_power_activity -input -activity {activity} -duty 0.5
report_power
exit
"""
TOTAL_ROW = re.compile(r"^Total\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)", re.MULTILINE)


@dataclass(frozen=True)
class StaPower:
    total_w: float
    input_activity: float  # transitions per clock period on every input port
    log: Path


def sta_report_power(netlist: Path, *, top: str, library: CellLibrary, clock_period_ns: float,
                     input_activity: float, out_dir: Path, macro_liberty: Path | None = None) -> StaPower:
    """macro_liberty as in flows/timing.py; the macros' own power is not in OpenSTA's figure."""
    script = out_dir / "sta_power.tcl"
    script.write_text(STA_POWER_SCRIPT.format(read_liberties=library.sta_read_commands(macro_liberty),
                                              netlist=tcl_path(netlist), top=top, period=clock_period_ns,
                                              activity=f"{input_activity:.6g}"))
    log = run_tool(["sta", "-no_splash", "-exit", script.name], log=out_dir / "sta_power.log", cwd=out_dir)
    total = TOTAL_ROW.search(log.read_text())
    if total is None:
        raise ToolError(f"OpenSTA's report_power printed no total; see {log}")
    return StaPower(total_w=float(total.group(4)), input_activity=input_activity, log=log)
