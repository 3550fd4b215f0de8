"""SEENN-I early-exit calibration on held-out images."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

from flows.engine.figures import measured, setting
from flows.engine.step import Artifact, Step, StepOutcome
from flows.steps.encode import DataConfig
from flows.steps.test_set import encode_test_set
from model.architecture import RateEncoder
from model.compiled import CompiledNetwork
from sim.early_exit_calibration import calibrate_early_exit


@dataclass(frozen=True, kw_only=True)
class ExitCalibrationConfig:
    data: DataConfig  # with hold_out: the calibration images are the ones training never saw
    encoder: RateEncoder | None = None  # the core's on-chip encoder: the rule is calibrated on its spikes
    tolerance: float  # accuracy the exit may cost on them, as a fraction (0.003 = 0.3 points)


@dataclass(frozen=True, kw_only=True)
class ExitCalibrationMetrics:
    min_steps: int = setting("the exit rule: stop after timestep t >= min_steps ...")
    margin: int = setting("... once top1 - top2 of the integer readout >= margin")
    confidence_equivalent: float = setting("the softmax confidence the margin guarantees (../shared/DESIGN.md)",
                                           "probability")
    tolerance: float = setting("accuracy the exit was allowed to cost on the held-out images", "fraction")
    validation_images: int = measured("", "held-out training images the rule was calibrated on")
    validation_accuracy_full: float = measured("fraction", "held-out accuracy with every timestep")
    validation_accuracy_exit: float = measured("fraction", "held-out accuracy with the rule")
    validation_timesteps_mean: float = measured("timesteps", "held-out mean timesteps with the rule")

class CalibrateExitStep(Step):
    """SEENN-I early exit: the integer rule (min_steps, margin) with the fewest average timesteps on
    held-out images whose accuracy there stays within the tolerance of full T."""

    id = "calibrate-exit"
    inputs = (Artifact.NETWORK,)
    outputs = (Artifact.NETWORK, Artifact.EXIT_CURVE)
    Metrics = ExitCalibrationMetrics

    def run(self, inputs, folder: Path) -> StepOutcome:
        cfg: ExitCalibrationConfig = self.config
        if not cfg.data.hold_out:
            raise ValueError("early-exit calibration needs held-out images: build the data config with hold_out")
        net = CompiledNetwork.load(inputs[Artifact.NETWORK])
        _, x, y = cfg.data.load().split_validation()
        # A seed of its own, so the held-out spikes are not the test set's draws.
        held_out = encode_test_set(x, y, net.class_names, timesteps=net.timesteps, seed=cfg.data.encoding_seed + 1,
                                   code=cfg.data.input_code).for_encoder(cfg.encoder)
        calibration = calibrate_early_exit(net, held_out.spikes, y, tolerance=cfg.tolerance)
        path = dataclasses.replace(net, early_exit=calibration.rule).save(folder / "network.npz")
        curve = folder / "exit_curve.json"
        curve.write_text(json.dumps({"full_timesteps": net.timesteps, "full_accuracy": calibration.full_accuracy,
                                     "front": [dataclasses.asdict(p) for p in calibration.curve]}, indent=2))
        return StepOutcome({Artifact.NETWORK: path, Artifact.EXIT_CURVE: curve}, ExitCalibrationMetrics(
            min_steps=calibration.rule.min_steps,
            margin=calibration.rule.margin,
            confidence_equivalent=calibration.confidence,
            tolerance=cfg.tolerance,
            validation_images=int(len(y)),
            validation_accuracy_full=calibration.full_accuracy,
            validation_accuracy_exit=calibration.chosen.accuracy,
            validation_timesteps_mean=calibration.chosen.avg_timesteps,
        ))
