"""OpenSTA on the mapped netlist: critical path and clock."""

from __future__ import annotations

import json
from pathlib import Path

from flows.eda.liberty_library import read_liberty
from flows.eda.sta_timing import analyse_timing
from flows.energy.sram_macros import MacroSet
from flows.engine.step import Step, StepOutcome
from hw.verilog import TOP_NAME


class TimingStep(Step):
    id = "timing"
    inputs = ("netlist", "macros")
    outputs = ("timing",)
    tools = ("sta",)

    def tool_files(self) -> dict[str, Path]:
        return {"liberty": self.config.library.require()}

    def run(self, inputs, folder: Path) -> StepOutcome:
        result = analyse_timing(inputs["netlist"], top=TOP_NAME, library=self.config.library, out_dir=folder,
                                macro_liberty=MacroSet.load(inputs["macros"]).liberty)
        metrics = {
            "critical_path_ns": result.critical_path_ns,
            "fmax_mhz": result.fmax_mhz,
            "clock_period_ns": result.clock_period_ns,
            "clock_mhz": 1000.0 / result.clock_period_ns,
            "startpoint": result.startpoint,
            "endpoint": result.endpoint,
            "corner": f"typical ({read_liberty(self.config.library.require()).voltage_v:g} V)",
            "assumptions": "ideal clock, zero input/output delay, no wire load (none in the liberty); "
                           "SRAM macros (if any) with the access and setup times of flows/sram_cost.py; " + (
                "high-fanout nets buffered and gates sized by ABC (buffer -p, upsize, dnsize)" if self.config.buffering
                else "no fanout buffering (plain Yosys mapping: high-fanout nets on single small drivers)"),
        }
        path = folder / "timing.json"
        path.write_text(json.dumps(metrics, indent=2))
        return StepOutcome({"timing": path}, metrics)

