"""Quantization-aware fine-tuning through the integer forward pass, then export to a CompiledNetwork."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from flows.engine.step import Step, StepOutcome
from flows.steps.test_set import EncodedTestSet
from flows.steps.test_set import accuracy as _accuracy
from flows.steps.train import TrainStepConfig
from model.compiled import CompiledNetwork
from model.export import export_network
from model.network import SpikingMLP
from model.quantize import QuantizationConfig
from model.train import TrainConfig, predict, train


@dataclass(frozen=True, kw_only=True)
class QuantizeStepConfig:
    train: TrainStepConfig
    quantization: QuantizationConfig
    qat: TrainConfig | None  # None: export the post-training quantized network as it is


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
        network: CompiledNetwork = export_network(
            model, cfg.quantization, encoding=cfg.train.data.input_code.recorded_encoding(), class_names=data.class_names)
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

