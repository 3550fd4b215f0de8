"""The model side of the flow: encode the test set, train, quantize and export."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from model.architecture import RateEncoder
from model.compiled import CompiledNetwork
from model.datasets import Dataset, load_dataset
from model.distillation import DistillationConfig, Distiller, train_teacher
from model.export import export_network
from model.input_codes import InputCode, RateCode
from model.network import SNNConfig, SpikingMLP
from model.quantize import QuantizationConfig
from model.train import TrainConfig, predict, train
from sim.early_exit_calibration import calibrate_early_exit

from ..step import Step, StepOutcome
from ..test_set import EncodedTestSet, encode_test_set


@dataclass(frozen=True, kw_only=True)
class DataConfig:
    dataset: str
    data_path: str | None
    timesteps: int
    encoding_seed: int
    test_images: int | None
    encoder: RateEncoder | None = None  # on-chip: the test spikes are what the core's encoder draws
    hold_out: bool = False  # keep Dataset.split_validation's images out of training (for calibration)
    input_code: InputCode = field(default_factory=RateCode)  # how the host codes test images as events

    def load(self) -> Dataset:
        return load_dataset(self.dataset, self.data_path, timesteps=self.timesteps)

    def training_data(self) -> Dataset:
        data = self.load()
        return data.split_validation()[0] if self.hold_out else data


@dataclass(frozen=True, kw_only=True)
class TrainStepConfig:
    data: DataConfig
    snn: SNNConfig
    training: TrainConfig
    distillation: DistillationConfig | None = None  # from an ANN teacher trained here first


@dataclass(frozen=True, kw_only=True)
class QuantizeStepConfig:
    train: TrainStepConfig
    quantization: QuantizationConfig
    qat: TrainConfig | None  # None: export the post-training quantized network as it is


class EncodeStep(Step):
    """Rate-code the test set once: Bernoulli with a fixed seed, or as the on-chip encoder draws it."""

    id = "encode"
    outputs = ("test_set",)

    def run(self, inputs, folder: Path) -> StepOutcome:
        cfg: DataConfig = self.config
        data = cfg.load()
        x, y = data.test_x, data.test_y
        if cfg.test_images is not None:
            x, y = x[:cfg.test_images], y[:cfg.test_images]
        test = encode_test_set(x, y, data.class_names, timesteps=cfg.timesteps, seed=cfg.encoding_seed,
                               encoder=cfg.encoder, code=cfg.input_code)
        path = test.save(folder / "test_set.npz")
        return StepOutcome({"test_set": path}, {"images": int(len(y)), "input_spike_rate": float(test.spikes.mean()),
                                                "dataset": cfg.dataset})


def _accuracy(predicted: np.ndarray, labels: np.ndarray) -> float:
    return float((predicted == labels).mean())


class TrainStep(Step):
    """Float BPTT training with surrogate gradients on rate-coded input."""

    id = "train"
    inputs = ("test_set",)
    outputs = ("float_model",)

    def run(self, inputs, folder: Path) -> StepOutcome:
        cfg: TrainStepConfig = self.config
        data = cfg.data.training_data()
        model = SpikingMLP(config=cfg.snn, seed=cfg.training.seed)
        distiller, teacher_metrics = None, {}
        if cfg.distillation is not None:
            teacher, teacher_accuracy = train_teacher(data, hidden=cfg.distillation.teacher_hidden,
                                                      epochs=cfg.distillation.teacher_epochs, seed=cfg.training.seed)
            distiller = Distiller(teacher=teacher, config=cfg.distillation, student_hidden=cfg.snn.sizes[1])
            teacher_metrics = {"teacher_accuracy": teacher_accuracy,
                               "distillation_loss": type(cfg.distillation.output_loss).__name__}
        history = train(model, data, cfg.training, distiller=distiller)
        test = EncodedTestSet.load(inputs["test_set"])
        path = folder / "float_model.pt"
        torch.save(model.state_dict(), path)
        learned = {}
        if cfg.snn.dual_adaptive:  # what DA-LIF learned, and the shift each layer's decays map to
            decays = [model.decays(k).detach() for k in range(len(model.decay_logits))]
            learned = {"decay_mean_per_layer": [float(d.mean()) for d in decays],
                       "decay_spread_per_layer": [float(d.max() - d.min()) for d in decays],
                       "mapped_leak_shift_per_layer": [model.mapped_leak_shift(k) for k in range(len(decays))]}
        return StepOutcome({"float_model": path}, {
            **learned,
            **teacher_metrics,
            "accuracy_float": _accuracy(predict(model, test.spikes), test.labels),
            "final_train_accuracy": history[-1].train_accuracy,
            "epochs": len(history),
            "train_seconds": sum(r.seconds for r in history),
        })


class QuantizeStep(Step):
    """Quantization-aware fine-tuning through the integer forward pass, then export."""

    id = "quantize"
    inputs = ("float_model", "test_set")
    outputs = ("network", "torch_predictions")

    def run(self, inputs, folder: Path) -> StepOutcome:
        cfg: QuantizeStepConfig = self.config
        data = cfg.train.data.training_data()
        model = SpikingMLP(config=cfg.train.snn)
        model.load_state_dict(torch.load(inputs["float_model"]))
        test = EncodedTestSet.load(inputs["test_set"])
        mapped = {}
        if cfg.train.snn.dual_adaptive:  # the float model with the per-layer shifts: what the mapping costs
            mapped = {"accuracy_float_hardware_decays": _accuracy(predict(model, test.spikes, hardware_decays=True),
                                                                  test.labels)}
        before = _accuracy(predict(model, test.spikes, quantization=cfg.quantization), test.labels)
        history = [] if cfg.qat is None else train(model, data, cfg.qat, quantization=cfg.quantization)
        predicted = predict(model, test.spikes, quantization=cfg.quantization)
        network: CompiledNetwork = export_network(model, cfg.quantization, class_names=data.class_names)
        path = network.save(folder / "network.npz")
        predictions = folder / "torch_quantized_predictions.npy"
        np.save(predictions, predicted)
        return StepOutcome({"network": path, "torch_predictions": predictions}, {
            **mapped,
            "accuracy_post_training_quantization": before,
            "accuracy_quantized_torch": _accuracy(predicted, test.labels),
            "weight_bits": cfg.quantization.weight_bits,
            "membrane_bits": [layer.membrane_bits for layer in network.layers],
            "thresholds": [layer.threshold for layer in network.layers],
            "can_saturate": network.can_saturate(),
            "qat_seconds": sum(r.seconds for r in history),
        })


@dataclass(frozen=True, kw_only=True)
class ExitCalibrationConfig:
    data: DataConfig  # with hold_out: the calibration images are the ones training never saw
    tolerance: float  # accuracy the exit may cost on them, as a fraction (0.003 = 0.3 points)


class CalibrateExitStep(Step):
    """SEENN-I early exit: the integer rule (min_steps, margin) with the fewest average timesteps on
    held-out images whose accuracy there stays within the tolerance of full T."""

    id = "calibrate-exit"
    inputs = ("network",)
    outputs = ("network", "exit_curve")

    def run(self, inputs, folder: Path) -> StepOutcome:
        cfg: ExitCalibrationConfig = self.config
        if not cfg.data.hold_out:
            raise ValueError("early-exit calibration needs held-out images: build the data config with hold_out")
        net = CompiledNetwork.load(inputs["network"])
        _, x, y = cfg.data.load().split_validation()
        # A seed of its own, so the held-out spikes are not the test set's draws.
        held_out = encode_test_set(x, y, net.class_names, timesteps=net.timesteps, seed=cfg.data.encoding_seed + 1,
                                   encoder=cfg.data.encoder, code=cfg.data.input_code)
        calibration = calibrate_early_exit(net, held_out.spikes, y, tolerance=cfg.tolerance)
        path = dataclasses.replace(net, early_exit=calibration.rule).save(folder / "network.npz")
        curve = folder / "exit_curve.json"
        curve.write_text(json.dumps({"full_timesteps": net.timesteps, "full_accuracy": calibration.full_accuracy,
                                     "front": [dataclasses.asdict(p) for p in calibration.curve]}, indent=2))
        return StepOutcome({"network": path, "exit_curve": curve}, {
            "min_steps": calibration.rule.min_steps,
            "margin": calibration.rule.margin,
            "confidence_equivalent": calibration.confidence,
            "validation_images": int(len(y)),
            "validation_accuracy_full": calibration.full_accuracy,
            "validation_accuracy_exit": calibration.chosen.accuracy,
            "validation_timesteps_mean": calibration.chosen.avg_timesteps,
            "tolerance": cfg.tolerance,
        })
