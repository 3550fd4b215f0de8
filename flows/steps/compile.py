"""Verilog of the core, with and without the trace port."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from flows.engine.figures import measured, setting
from flows.engine.step import Artifact, Step, StepOutcome
from hw.verilog import TOP_NAME, write_core_verilog
from model.architecture import CoreArchitecture
from model.compiled import CompiledNetwork


@dataclass(frozen=True, kw_only=True)
class CompileMetrics:
    lanes: int = setting("neurons updated per cycle")
    words_per_layer: tuple[int, ...] = setting("membrane words per layer, ceil(n_out / lanes)")
    verilog_lines: int = measured("lines", "lines of the generated Verilog without the trace port")

class CompileStep(Step):
    """Verilog of the core: with the trace port for verification, without it for synthesis. Its config
    is the architecture (its trace setting is ignored: both are written)."""

    id = "compile"
    inputs = (Artifact.NETWORK,)
    outputs = (Artifact.VERILOG_TRACE, Artifact.VERILOG)
    Metrics = CompileMetrics

    def run(self, inputs, folder: Path) -> StepOutcome:
        arch: CoreArchitecture = self.config
        net = CompiledNetwork.load(inputs[Artifact.NETWORK])
        traced = write_core_verilog(net, dataclasses.replace(arch, trace=True), folder / f"{TOP_NAME}_trace.v")
        plain = write_core_verilog(net, dataclasses.replace(arch, trace=False), folder / f"{TOP_NAME}.v")
        return StepOutcome({Artifact.VERILOG_TRACE: traced, Artifact.VERILOG: plain}, CompileMetrics(
            lanes=arch.lanes,
            words_per_layer=arch.words(net),
            verilog_lines=len(plain.read_text().splitlines()),
        ))
