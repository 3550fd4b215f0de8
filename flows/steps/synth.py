"""Yosys synthesis to the cell library, flat and by block, with the SRAM macros kept out."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from flows.eda.area_by_block import area_by_block
from flows.eda.liberty_library import CellLibrary, read_liberty
from flows.eda.synthesis import logic_verilog, synthesize
from flows.energy.sram_macros import MODEL_DESCRIPTION, MacroCost, describe_macros, inverter_leakage_nw
from flows.engine.figures import measured, modelled, setting
from flows.engine.step import Artifact, Step, StepOutcome
from hw.core import core_sram_macros
from hw.verilog import TOP_NAME
from model.architecture import CoreArchitecture
from model.compiled import CompiledNetwork

FLIP_FLOP_MEMORIES = "flip-flops (weight and bias ROMs become logic; membranes are registers)"


@dataclass(frozen=True, kw_only=True)
class LibraryConfig:
    library: CellLibrary
    buffering: bool = True  # ABC buffering and gate sizing in synthesis (flows/eda/synthesis.py)


@dataclass(frozen=True, kw_only=True)
class SynthStepConfig:
    architecture: CoreArchitecture  # synthesized without the trace port whatever its trace setting
    library: LibraryConfig


@dataclass(frozen=True, kw_only=True)
class SynthMetrics:
    library: str = setting("the liberty file")
    buffering: bool = setting("ABC buffered high-fanout nets and sized gates")
    # A total with a modelled part is modelled (equal to logic_um2, which is measured, without macros).
    total_um2: float = modelled("um^2", "logic (Yosys stat -liberty on the mapped netlist) plus the SRAM macros "
                                "(modelled, see sram_macros_um2)")
    logic_um2: float = measured("um^2", "the mapped standard cells")
    sram_macros_um2: float = modelled("um^2", "the SRAM macros by the model of flows/energy/sram_macros.py")
    sram_macros: dict[str, MacroCost] = modelled("", "each macro's shape, area and access energies")
    cells: dict[str, int] = measured("", "cells by type")
    cell_count: int = measured("", "standard cells")
    flip_flops: int = measured("", "flip-flops")
    flip_flop_area_share: float = measured("fraction", "flip-flop area / logic_um2")
    memory_style: str = setting("flip-flops or sram-macros")
    memory_model: str = setting("how the memories' area and energy are counted")
    by_block_um2: dict[str, float] = measured("um^2", "area by block, from a second synthesis that keeps the "
                                              "hierarchy (macros added to their memory)")
    by_block_share: dict[str, float] = measured("fraction", "by_block_um2 / hierarchical_total_um2")
    hierarchical_total_um2: float = measured("um^2", "the hierarchical synthesis's total (not flattened, so it "
                                             "is not below total_um2)")

class SynthStep(Step):
    id = "synth"
    inputs = (Artifact.VERILOG, Artifact.NETWORK)
    outputs = (Artifact.NETLIST, Artifact.NETLIST_JSON, Artifact.MACROS, Artifact.HIERARCHICAL_NETLIST,
               Artifact.HIERARCHICAL_NETLIST_JSON)
    Metrics = SynthMetrics
    tools = ("yosys",)

    def tool_files(self) -> dict[str, Path]:
        return {"liberty": self.config.library.library.require()}

    def run(self, inputs, folder: Path) -> StepOutcome:
        cfg: SynthStepConfig = self.config
        library = cfg.library.library
        liberty = read_liberty(library.require())
        shapes = core_sram_macros(CompiledNetwork.load(inputs[Artifact.NETWORK]),
                                  dataclasses.replace(cfg.architecture, trace=False))
        macros = describe_macros(shapes, feature_nm=library.feature_nm, supply_v=liberty.voltage_v,
                                 inverter_leakage_nw=inverter_leakage_nw(liberty), folder=folder)
        logic = logic_verilog(inputs[Artifact.VERILOG], macros.models, folder)
        # The flat synthesis (the headline) and the hierarchical one (the split by block) are
        # independent Yosys runs with files of their own: side by side they take the longer one's time.
        with ThreadPoolExecutor(max_workers=2) as pool:
            flat = pool.submit(synthesize, logic, top=TOP_NAME, library=library, out_dir=folder,
                               buffering=cfg.library.buffering, macro_models=macros.models)
            hierarchical = pool.submit(area_by_block, logic, top=TOP_NAME, library=library, out_dir=folder,
                                       macros={name: m.area_um2 for name, m in macros.macros.items()},
                                       macro_models=macros.models)
            result, blocks = flat.result(), hierarchical.result()
        total = result.area_um2 + macros.area_um2
        return StepOutcome({
            Artifact.NETLIST: result.netlist, Artifact.NETLIST_JSON: result.netlist_json,
            Artifact.MACROS: macros.save(folder / "sram_macros.json"),
            Artifact.HIERARCHICAL_NETLIST: blocks.netlist, Artifact.HIERARCHICAL_NETLIST_JSON: blocks.netlist_json,
        }, SynthMetrics(
            library=library.liberty_path.name,
            buffering=cfg.library.buffering,
            total_um2=total,
            logic_um2=result.area_um2,
            sram_macros_um2=macros.area_um2,
            sram_macros=macros.macros,
            cells=result.cells,
            cell_count=sum(result.cells.values()),
            flip_flops=result.flip_flops,
            flip_flop_area_share=result.flip_flop_area_um2 / result.area_um2,
            memory_style=cfg.architecture.memories.value,
            memory_model=MODEL_DESCRIPTION if shapes else FLIP_FLOP_MEMORIES,
            by_block_um2=blocks.by_block_um2,
            by_block_share={k: v / blocks.hierarchical_total_um2 for k, v in blocks.by_block_um2.items()},
            hierarchical_total_um2=blocks.hierarchical_total_um2,
        ))
