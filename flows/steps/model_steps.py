"""The model side of the flow: encode the test set, train, quantize and export."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from model.architecture import RateEncoder
from model.compiled import CompiledNetwork
from model.datasets import load_dataset
from model.export import export_network
from model.network import SNNConfig, SpikingMLP
from model.quantize import QuantizationConfig
from model.train import TrainConfig, predict, train

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


@dataclass(frozen=True, kw_only=True)
class TrainStepConfig:
    data: DataConfig
    snn: SNNConfig
    training: TrainConfig


@dataclass(frozen=True, kw_only=True)
class QuantizeStepConfig:
    train: TrainStepConfig
    quantization: QuantizationConfig
    qat: TrainConfig


class EncodeStep(Step):
    """Rate-code the test set once: Bernoulli with a fixed seed, or as the on-chip encoder draws it."""

    id = "encode"
    outputs = ("test_set",)

    def run(self, inputs, folder: Path) -> StepOutcome:
        cfg: DataConfig = self.config
        data = load_dataset(cfg.dataset, cfg.data_path)
        x, y = data.test_x, data.test_y
        if cfg.test_images is not None:
            x, y = x[:cfg.test_images], y[:cfg.test_images]
        test = encode_test_set(x, y, data.class_names, timesteps=cfg.timesteps, seed=cfg.encoding_seed,
                               encoder=cfg.encoder)
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
        data = load_dataset(cfg.data.dataset, cfg.data.data_path)
        model = SpikingMLP(config=cfg.snn, seed=cfg.training.seed)
        history = train(model, data, cfg.training)
        test = EncodedTestSet.load(inputs["test_set"])
        path = folder / "float_model.pt"
        torch.save(model.state_dict(), path)
        return StepOutcome({"float_model": path}, {
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
        data = load_dataset(cfg.train.data.dataset, cfg.train.data.data_path)
        model = SpikingMLP(config=cfg.train.snn)
        model.load_state_dict(torch.load(inputs["float_model"]))
        test = EncodedTestSet.load(inputs["test_set"])
        before = _accuracy(predict(model, test.spikes, quantization=cfg.quantization), test.labels)
        history = train(model, data, cfg.qat, quantization=cfg.quantization)
        predicted = predict(model, test.spikes, quantization=cfg.quantization)
        network: CompiledNetwork = export_network(model, cfg.quantization, class_names=data.class_names)
        path = network.save(folder / "network.npz")
        predictions = folder / "torch_quantized_predictions.npy"
        np.save(predictions, predicted)
        return StepOutcome({"network": path, "torch_predictions": predictions}, {
            "accuracy_post_training_quantization": before,
            "accuracy_quantized_torch": _accuracy(predicted, test.labels),
            "weight_bits": cfg.quantization.weight_bits,
            "membrane_bits": [layer.membrane_bits for layer in network.layers],
            "thresholds": [layer.threshold for layer in network.layers],
            "can_saturate": network.can_saturate(),
            "qat_seconds": sum(r.seconds for r in history),
        })
