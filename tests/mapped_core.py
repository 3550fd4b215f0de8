"""A core synthesized to an OSU 0.18 um netlist, its SRAM macros described beside it: what the
gate-level tests simulate."""

from dataclasses import dataclass
from pathlib import Path

from flows.eda.liberty_library import CellLibrary, read_liberty
from flows.eda.synthesis import SynthesisResult, logic_verilog, synthesize
from flows.energy.sram_macros import MacroSet, describe_macros, inverter_leakage_nw
from hw.core import core_sram_macros
from hw.sram_macro import SramMacroShape
from hw.verilog import TOP_NAME, write_core_verilog
from model.architecture import CoreArchitecture
from model.compiled import CompiledNetwork


@dataclass(frozen=True)
class MappedCore:
    netlist: SynthesisResult         # .netlist (Verilog), .netlist_json (Yosys JSON)
    shapes: list[SramMacroShape]     # the macros it instantiates, with their contents
    macros: MacroSet                 # their liberty, behavioural models and costs


def mapped_core(folder: Path, net: CompiledNetwork, arch: CoreArchitecture,
                library: CellLibrary = CellLibrary.OSU018) -> MappedCore:
    verilog = write_core_verilog(net, arch, folder / f"{TOP_NAME}.v")
    shapes = core_sram_macros(net, arch)
    liberty = read_liberty(library.require())
    macros = describe_macros(shapes, feature_nm=library.feature_nm, supply_v=liberty.voltage_v,
                             inverter_leakage_nw=inverter_leakage_nw(liberty), folder=folder)
    netlist = synthesize(logic_verilog(verilog, macros.models, folder), top=TOP_NAME, library=library,
                         out_dir=folder / "synth", macro_models=macros.models)
    return MappedCore(netlist=netlist, shapes=shapes, macros=macros)
