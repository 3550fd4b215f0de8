"""Area by block: a second, hierarchical synthesis in which every memory is its own module.

The headline area comes from the flattened synthesis (flows/synthesis.py), where Yosys optimises
across module boundaries. Here the design keeps its hierarchy and each memory (a layer's weights,
membranes, biases) is moved into a module of its own (Yosys `submod`) before mapping, so `stat`
gives each block's cells. The hierarchical total is larger than the flat one by the optimisation the
boundaries prevent; the report gives both, and the blocks' shares are read against the
hierarchical total.

Blocks: weight_memory, membrane_memory, bias_memory (all layers), datapath (the hidden layers'
engines), readout (the output layer's engine), encoder (the on-chip rate encoder and its pixel
scan), control (the top level: sequencer, spike scan, result).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from flows.eda.liberty_library import CellLibrary
from flows.eda.synthesis import read_macros_command
from sim.tools import ToolError, run_tool, yosys_path

MEMORIES = ("weights", "membranes", "biases")
MEMORY_BLOCKS = {"weights": "weight_memory", "membranes": "membrane_memory", "biases": "bias_memory"}
MEMORY_MODULE = re.compile(rf'(?:^|[._]|_\\")({"|".join(MEMORIES)})(?:\\"|_bank\d+)?(?:$|\.)')
BLOCKS = ("weight_memory", "membrane_memory", "bias_memory", "datapath", "readout", "encoder", "control")

HIERARCHICAL_SCRIPT = """\
read_verilog -sv {verilog}
{read_macros}
hierarchy -top {top}
proc
opt -fast
memory -nomap
{submod}
submod
synth -top {top}
dfflibmap -liberty {liberty}
abc -liberty {liberty}
opt_clean -purge
stat -liberty {liberty}
setundef -zero
splitnets -format __
opt_clean -purge
rename -enumerate
write_verilog -noattr -noexpr -nohex -nodec {netlist}
write_json {netlist_json}
"""
MODULE_AREA = re.compile(r"Chip area for module '\\(.+?)': ([0-9.]+)")


@dataclass(frozen=True)
class BlockAreas:
    by_block_um2: dict[str, float]
    hierarchical_total_um2: float
    modules_um2: dict[str, float]
    netlist: Path        # the hierarchical mapped netlist (what flows/block_energy.py simulates)
    netlist_json: Path


def block_of(module: str, *, top: str, output_layer: int) -> str:
    """The block a module of the hierarchical netlist belongs to."""
    local = module[len(top) + 1:] if module.startswith(top + ".") else module  # a macro: sram_layer{k}_<memory>
    # A memory's own module (layer0.weights, or a flip-flop memory's submod layer0_"weights"), the
    # modules inside it (a banked memory's banks), and its macros (sram_layer0_weights[_bank3]).
    memory = MEMORY_MODULE.search(local)
    if memory:
        return MEMORY_BLOCKS[memory.group(1)]
    if "encoder" in local or "next_pixel" in local:
        return "encoder"
    layer = re.fullmatch(r"layer(\d+)", local)
    if layer:
        return "readout" if int(layer.group(1)) == output_layer else "datapath"
    return "control"


def parse_module_areas(log_text: str) -> dict[str, float]:
    """Each module's own area from the last `stat -liberty` of a Yosys 0.23 log."""
    block = log_text[log_text.rindex("Printing statistics."):]
    return {name: float(area) for name, area in MODULE_AREA.findall(block)}


def area_by_block(verilog: Path, *, top: str, library: CellLibrary, out_dir: Path,
                  macros: dict[str, float] | None = None, macro_models: Path | None = None) -> BlockAreas:
    """macros: the SRAM macros' names and modelled areas (flows/sram_cost.py), and macro_models their
    models (`verilog` without them, as for synthesize), when the memories are macros: black boxes here,
    their areas added to their memory's block."""
    macros = macros or {}
    liberty = library.require()
    out_dir.mkdir(parents=True, exist_ok=True)
    submod = "\n".join(f'setattr -set submod "\\"{memory}\\"" t:$mem_v2 n:*{memory}* %i' for memory in MEMORIES)
    script = out_dir / "synth_hierarchical.ys"
    netlist, netlist_json = out_dir / "hierarchical_netlist.v", out_dir / "hierarchical_netlist.json"
    script.write_text(HIERARCHICAL_SCRIPT.format(verilog=yosys_path(verilog),
                                                 top=top, liberty=yosys_path(liberty), submod=submod,
                                                 read_macros=read_macros_command(macro_models),
                                                 netlist=yosys_path(netlist), netlist_json=yosys_path(netlist_json)))
    log = out_dir / "yosys_hierarchical.log"
    run_tool(["yosys", "-q", "-l", str(log), str(script)], log=out_dir / "yosys_hierarchical.stdout")
    modules = parse_module_areas(log.read_text())
    if top not in modules:
        raise ToolError(f"yosys reported no area for {top} in {log}")
    # The output layer is the last layer engine.
    output_layer = max(int(m.group(1)) for name in modules if (m := re.fullmatch(rf"{re.escape(top)}\.layer(\d+)", name)))
    modules |= macros
    by_block = dict.fromkeys(BLOCKS, 0.0)
    for module, area in modules.items():
        by_block[block_of(module, top=top, output_layer=output_layer)] += area
    return BlockAreas(by_block_um2=by_block, hierarchical_total_um2=sum(modules.values()), modules_um2=modules,
                      netlist=netlist, netlist_json=netlist_json)
