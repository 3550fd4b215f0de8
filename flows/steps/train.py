"""Float training with surrogate gradients (and optional distillation from an ANN teacher)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from flows.engine.step import Step, StepOutcome
from flows.steps.encode import DataConfig
from flows.steps.test_set import EncodedTestSet
from flows.steps.test_set import accuracy as _accuracy
from model.distillation import DistillationConfig, Distiller, train_teacher
from model.network import SNNConfig, SpikingMLP
from model.train import TrainConfig, predict, train


@dataclass(frozen=True, kw_only=True)
class TrainStepConfig:
    data: DataConfig
    snn: SNNConfig
    training: TrainConfig
    distillation: DistillationConfig | None = None  # from an ANN teacher trained here first


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

