"""Verilog of the core, with and without the trace port."""

from __future__ import annotations

from pathlib import Path

from flows.engine.step import Step, StepOutcome
from flows.steps.core_config import core_architecture
from hw.verilog import TOP_NAME, write_core_verilog
from model.compiled import CompiledNetwork


class CompileStep(Step):
    """Verilog of the core: with the trace port for verification, without it for synthesis."""

    id = "compile"
    inputs = ("network",)
    outputs = ("verilog_trace", "verilog")

    def run(self, inputs, folder: Path) -> StepOutcome:
        net = CompiledNetwork.load(inputs["network"])
        traced = write_core_verilog(net, core_architecture(self.config, trace=True), folder / f"{TOP_NAME}_trace.v")
        plain = write_core_verilog(net, core_architecture(self.config, trace=False), folder / f"{TOP_NAME}.v")
        arch = core_architecture(self.config, trace=False)
        return StepOutcome({"verilog_trace": traced, "verilog": plain}, {
            "lanes": self.config.lanes,
            "words_per_layer": list(arch.words(net)),
            "verilog_lines": len(plain.read_text().splitlines()),
        })

