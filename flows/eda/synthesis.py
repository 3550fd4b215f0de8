"""Logic synthesis with Yosys to an open standard-cell library: mapped netlist, area, cell counts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from flows.eda.liberty_library import CellLibrary, read_liberty
from sim.tools import ToolError, run_tool, yosys_path

# `rename -enumerate` gives Yosys's private wires short names before both netlists are written, so
# the Verilog (simulated, its nets in the VCD) and the JSON (read for loads and drivers) agree.
YOSYS_SCRIPT = """\
read_verilog -sv {verilog}
{read_macros}
synth -top {top} -flatten
dfflibmap -liberty {liberty}
abc {abc_options}-liberty {liberty}
opt_clean -purge
setundef -zero
splitnets -format __
opt_clean -purge
rename -enumerate
stat -liberty {liberty}
write_verilog -noattr -noexpr -nohex -nodec {netlist}
write_json {netlist_json}
"""


# Yosys 0.23 maps without buffering or sizing, leaving high-fanout nets (the lane enables, the
# sequencer's state) on single small drivers: the critical path is their load. This ABC script is
# Yosys's own mapping sequence followed by ABC's buffering and gate sizing against the liberty
# (buffer -p, upsize, dnsize). On the digits core it took the path from 35.8 to 17.1 ns for 5% area.
BUFFERING_ABC_SCRIPT = ("strash; &get -n; &fraig -x; &put; scorr; dc2; dretime; strash; &get -n; &dch -f; &nf; "
                        "&put; buffer -p; upsize; dnsize; stime -p\n")


@dataclass(frozen=True)
class SynthesisResult:
    netlist: Path
    netlist_json: Path
    area_um2: float
    cells: dict[str, int]
    flip_flops: int
    flip_flop_area_um2: float
    log: Path


STAT_CELL = re.compile(r"^\s+(\S+)\s+(\d+)\s*$")
STAT_AREA = re.compile(r"Chip area for module .*: ([0-9.]+)")


def parse_stat(log_text: str, library_cells: set[str]) -> tuple[float, dict[str, int]]:
    """Area and cell counts from Yosys 0.23's `stat -liberty` text (the last one in the log)."""
    block = log_text[log_text.rindex("Number of cells:"):]
    area = STAT_AREA.search(block)
    if area is None:
        raise ToolError("yosys printed no chip area: the liberty may lack areas")
    cells = {}
    for line in block[:area.start()].splitlines()[1:]:
        match = STAT_CELL.match(line)
        if match and match.group(1) in library_cells:
            cells[match.group(1)] = int(match.group(2))
    return float(area.group(1)), cells


def read_macros_command(macro_models: Path | None) -> str:
    """Yosys reads the SRAM macros' models as black boxes (-lib: their ports only, which also spares
    it the megabytes of initial contents it would otherwise process)."""
    return f"read_verilog -lib {yosys_path(macro_models)}" if macro_models is not None else ""


def logic_verilog(verilog: Path, macro_models: Path | None, out_dir: Path) -> Path:
    """The core's Verilog without the macros' models that follow it (hw/verilog.py writes them last):
    what both syntheses read, beside the models read as black boxes."""
    if macro_models is None:
        return Path(verilog)
    text, models = Path(verilog).read_text(), Path(macro_models).read_text()
    if not text.endswith(models):
        raise ToolError(f"{verilog} does not end with the macros' models of {macro_models}: compile the core again")
    path = out_dir / "core_logic.v"
    path.write_text(text[:len(text) - len(models)])
    return path


def synthesize(verilog: Path, *, top: str, library: CellLibrary, out_dir: Path,
               buffering: bool = True, macro_models: Path | None = None) -> SynthesisResult:
    """Map the design to the library. With `macro_models` (the models of the SRAM macros the Verilog
    instantiates; `verilog` without them, from logic_verilog), the macros stay black-box instances in
    the netlist, and their area is not in `area_um2`."""
    liberty = library.require()
    out_dir.mkdir(parents=True, exist_ok=True)
    netlist = out_dir / "netlist.v"
    netlist_json = out_dir / "netlist.json"
    # Inline (+, commas for blanks): ABC would split a script file's path at a blank.
    abc_options = f'-script "+{BUFFERING_ABC_SCRIPT.strip().replace("; ", ";").replace(" ", ",")}" ' if buffering else ""
    script = out_dir / "synth.ys"
    script.write_text(YOSYS_SCRIPT.format(verilog=yosys_path(verilog), top=top,
                                          liberty=yosys_path(liberty), read_macros=read_macros_command(macro_models),
                                          abc_options=abc_options, netlist=yosys_path(netlist),
                                          netlist_json=yosys_path(netlist_json)))
    log = run_tool(["yosys", "-q", "-l", str(out_dir / "yosys.log"), str(script)], log=out_dir / "yosys.stdout")
    log = out_dir / "yosys.log"
    lib = read_liberty(liberty)
    area, cells = parse_stat(log.read_text(), set(lib.cells))
    flops = {name: n for name, n in cells.items() if "DFF" in name or name == "LATCH"}
    return SynthesisResult(
        netlist=netlist, netlist_json=netlist_json, area_um2=area, cells=cells,
        flip_flops=sum(flops.values()),
        flip_flop_area_um2=sum(n * lib.cells[name].area_um2 for name, n in flops.items()),
        log=log)
