"""OpenSTA on the mapped netlist: critical path and clock."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from flows.eda.liberty_library import read_liberty
from flows.eda.sta_timing import analyse_timing
from flows.energy.sram_macros import MacroSet
from flows.engine.figures import measured, setting
from flows.engine.step import Artifact, Step, StepOutcome
from flows.engine.typed_json import from_jsonable, to_jsonable
from flows.steps.synth import LibraryConfig
from hw.verilog import TOP_NAME


@dataclass(frozen=True, kw_only=True)
class TimingMetrics:
    critical_path_ns: float = measured("ns", "OpenSTA's worst path on the mapped netlist")
    fmax_mhz: float = measured("MHz", "1000 / critical_path_ns")
    clock_period_ns: float = setting("the clock every later figure uses (the critical path, rounded up)", "ns")
    clock_mhz: float = setting("1000 / clock_period_ns", "MHz")
    startpoint: str = measured("", "where the critical path starts")
    endpoint: str = measured("", "where it ends")
    corner: str = setting("the liberty's corner")
    assumptions: str = setting("what the timing leaves out")

    @classmethod
    def load(cls, path: Path) -> "TimingMetrics":
        return from_jsonable(cls, json.loads(Path(path).read_text()))


class TimingStep(Step):
    id = "timing"
    inputs = (Artifact.NETLIST, Artifact.MACROS)
    outputs = (Artifact.TIMING,)
    Metrics = TimingMetrics
    tools = ("sta",)

    def tool_files(self) -> dict[str, Path]:
        return {"liberty": self.config.library.require()}

    def run(self, inputs, folder: Path) -> StepOutcome:
        cfg: LibraryConfig = self.config
        result = analyse_timing(inputs[Artifact.NETLIST], top=TOP_NAME, library=cfg.library, out_dir=folder,
                                macro_liberty=MacroSet.load(inputs[Artifact.MACROS]).liberty)
        metrics = TimingMetrics(
            critical_path_ns=result.critical_path_ns,
            fmax_mhz=result.fmax_mhz,
            clock_period_ns=result.clock_period_ns,
            clock_mhz=1000.0 / result.clock_period_ns,
            startpoint=result.startpoint,
            endpoint=result.endpoint,
            corner=f"typical ({read_liberty(cfg.library.require()).voltage_v:g} V)",
            assumptions="ideal clock, zero input/output delay, no wire load (none in the liberty); "
                        "SRAM macros (if any) with the access and setup times of flows/energy/sram_macros.py; " + (
                            "high-fanout nets buffered and gates sized by ABC (buffer -p, upsize, dnsize)"
                            if cfg.buffering else
                            "no fanout buffering (plain Yosys mapping: high-fanout nets on single small drivers)"),
        )
        path = folder / "timing.json"
        path.write_text(json.dumps(to_jsonable(metrics, with_type=False), indent=2))
        return StepOutcome({Artifact.TIMING: path}, metrics)
