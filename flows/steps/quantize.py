"""Quantization-aware fine-tuning through the integer forward pass, then export to a CompiledNetwork."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from flows.engine.figures import measured, setting
from flows.engine.step import Artifact, Step, StepOutcome
from flows.steps.test_set import EncodedTestSet, accuracy
from flows.steps.train import TrainStepConfig
from model.compiled import CompiledNetwork
from model.export import export_network
from model.network import SpikingNetwork
from model.quantize import QuantizationConfig
from model.train import TrainConfig, predict, train


@dataclass(frozen=True, kw_only=True)
class QuantizeStepConfig:
    train: TrainStepConfig
    quantization: QuantizationConfig
    qat: TrainConfig | None  # None: export the post-training quantized network as it is


@dataclass(frozen=True, kw_only=True)
class QuantizeMetrics:
    accuracy_post_training_quantization: float = measured(
        "fraction", "the float model's weights quantized, before quantization-aware training, every timestep")
    accuracy_quantized_torch: float = measured("fraction", "the exported integers run in torch, every timestep")
    weight_bits: int = setting("bits per weight")
    membrane_bits: tuple[int, ...] = setting("membrane bits per layer, sized so that it cannot saturate")
    thresholds: tuple[int, ...] = setting("integer firing threshold per layer")
    can_saturate: bool = setting("whether any membrane can reach its limits (the semantics hold either way)")
    qat_seconds: float = measured("s", "wall time of quantization-aware training")
    accuracy_float_hardware_decays: float | None = measured(
        "fraction", "DA-LIF or an imported graph's decay only: the float model with its decays mapped to one "
        "leak shift per layer",
        default=None)

class QuantizeStep(Step):
    """Quantization-aware fine-tuning through the integer forward pass, then export."""

    id = "quantize"
    inputs = (Artifact.FLOAT_MODEL, Artifact.TEST_SET)
    outputs = (Artifact.NETWORK, Artifact.TORCH_PREDICTIONS)
    Metrics = QuantizeMetrics

    def run(self, inputs, folder: Path) -> StepOutcome:
        cfg: QuantizeStepConfig = self.config
        data = cfg.train.data.training_data()
        model = SpikingNetwork(config=cfg.train.snn)
        model.load_state_dict(torch.load(inputs[Artifact.FLOAT_MODEL]))
        test = EncodedTestSet.load(inputs[Artifact.TEST_SET])
        mapped = None
        # DA-LIF's learned decays and an imported graph's decay become shifts: what the mapping costs.
        if cfg.train.snn.dual_adaptive or cfg.train.snn.beta is not None:
            mapped = accuracy(predict(model, test.spikes, hardware_decays=True), test.labels)
        before = accuracy(predict(model, test.spikes, quantization=cfg.quantization), test.labels)
        history = [] if cfg.qat is None else train(model, data, cfg.qat, quantization=cfg.quantization)
        predicted = predict(model, test.spikes, quantization=cfg.quantization)
        network: CompiledNetwork = export_network(
            model, cfg.quantization, encoding=cfg.train.data.input_code.recorded_encoding(), class_names=data.class_names)
        path = network.save(folder / "network.npz")
        predictions = folder / "torch_quantized_predictions.npy"
        np.save(predictions, predicted)
        return StepOutcome({Artifact.NETWORK: path, Artifact.TORCH_PREDICTIONS: predictions}, QuantizeMetrics(
            accuracy_post_training_quantization=before,
            accuracy_quantized_torch=accuracy(predicted, test.labels),
            weight_bits=cfg.quantization.weight_bits,
            membrane_bits=tuple(layer.membrane_bits for layer in network.layers),
            thresholds=tuple(layer.threshold for layer in network.layers),
            can_saturate=network.can_saturate(),
            qat_seconds=sum(r.seconds for r in history),
            accuracy_float_hardware_decays=mapped,
        ))

