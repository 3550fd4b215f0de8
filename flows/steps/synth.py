"""Yosys synthesis to the cell library, flat and by block, with the SRAM macros kept out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flows.eda.area_by_block import area_by_block
from flows.eda.liberty_library import CellLibrary, read_liberty
from flows.eda.synthesis import logic_verilog, synthesize
from flows.energy.sram_macros import MODEL_DESCRIPTION, describe_macros
from flows.engine.step import Step, StepOutcome
from flows.steps.core_config import CoreConfig, core_architecture
from hw.core import core_sram_macros
from hw.verilog import TOP_NAME
from model.compiled import CompiledNetwork


@dataclass(frozen=True, kw_only=True)
class LibraryConfig:
    library: CellLibrary
    buffering: bool = True  # ABC buffering and gate sizing in synthesis (flows/synthesis.py)


@dataclass(frozen=True, kw_only=True)
class SynthStepConfig:
    core: CoreConfig
    library: LibraryConfig


class SynthStep(Step):
    id = "synth"
    inputs = ("verilog", "network")
    outputs = ("netlist", "netlist_json", "macros", "hierarchical_netlist", "hierarchical_netlist_json")
    tools = ("yosys",)

    def tool_files(self) -> dict[str, Path]:
        return {"liberty": self.config.library.library.require()}

    def run(self, inputs, folder: Path) -> StepOutcome:
        cfg: SynthStepConfig = self.config
        library = cfg.library.library
        liberty = read_liberty(library.require())
        shapes = core_sram_macros(CompiledNetwork.load(inputs["network"]), core_architecture(cfg.core, trace=False))
        macros = describe_macros(shapes, feature_nm=library.feature_nm, supply_v=liberty.voltage_v, folder=folder)
        logic = logic_verilog(inputs["verilog"], macros.models, folder)
        result = synthesize(logic, top=TOP_NAME, library=library, out_dir=folder,
                            buffering=cfg.library.buffering, macro_models=macros.models)
        blocks = area_by_block(logic, top=TOP_NAME, library=library, out_dir=folder,
                               macros={name: m["area_um2"] for name, m in macros.macros.items()},
                               macro_models=macros.models)
        total = result.area_um2 + macros.area_um2
        memory_model = (MODEL_DESCRIPTION if shapes else
                        "flip-flops (weight and bias ROMs become logic; membranes are registers)")
        return StepOutcome({"netlist": result.netlist, "netlist_json": result.netlist_json,
                            "macros": macros.save(folder / "sram_macros.json"),
                            "hierarchical_netlist": blocks.netlist, "hierarchical_netlist_json": blocks.netlist_json}, {
            "by_block_um2": blocks.by_block_um2,
            "by_block_share": {k: v / blocks.hierarchical_total_um2 for k, v in blocks.by_block_um2.items()},
            "hierarchical_total_um2": blocks.hierarchical_total_um2,
            "library": library.liberty_path.name,
            "buffering": cfg.library.buffering,
            "total_um2": total,
            "logic_um2": result.area_um2,
            "sram_macros_um2": macros.area_um2,
            "sram_macros": macros.macros,
            "cells": result.cells,
            "cell_count": sum(result.cells.values()),
            "flip_flops": result.flip_flops,
            "flip_flop_area_share": result.flip_flop_area_um2 / total,
            "memory_style": cfg.core.memories.value,
            "memory_model": memory_model,
        })

