"""Float training with surrogate gradients (and optional distillation from an ANN teacher)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from flows.engine.figures import measured, setting
from flows.engine.step import Artifact, Step, StepOutcome
from flows.steps.encode import DataConfig
from flows.steps.test_set import EncodedTestSet, accuracy
from model.distillation import DistillationConfig, Distiller, train_teacher
from model.network import SNNConfig, SpikingNetwork
from model.train import TrainConfig, predict, train


@dataclass(frozen=True, kw_only=True)
class TrainStepConfig:
    data: DataConfig
    snn: SNNConfig
    training: TrainConfig
    distillation: DistillationConfig | None = None  # from an ANN teacher trained here first


@dataclass(frozen=True, kw_only=True)
class DecaysLearned:
    """What DA-LIF learned per hidden layer, and the leak shift each layer's decays map to."""

    decay_mean_per_layer: tuple[float, ...] = measured("", "mean learned membrane decay per hidden layer")
    decay_spread_per_layer: tuple[float, ...] = measured("", "max - min learned decay per hidden layer")
    mapped_leak_shift_per_layer: tuple[int | None, ...] = measured("", "the leak shift each layer's decays map to")


@dataclass(frozen=True, kw_only=True)
class TrainMetrics:
    accuracy_float: float = measured("fraction", "the float model on the encoded test set, every timestep")
    final_train_accuracy: float = measured("fraction", "training accuracy in the last epoch")
    epochs: int = setting("training epochs run")
    train_seconds: float = measured("s", "wall time of the training loop")
    teacher_accuracy: float | None = measured("fraction", "the ANN teacher's test accuracy (distillation only)",
                                              default=None)
    distillation_loss: str | None = setting("the distillation output loss (distillation only)", default=None)
    decays: DecaysLearned | None = measured("", "DA-LIF only", default=None)

class TrainStep(Step):
    """Float BPTT training with surrogate gradients on rate-coded input."""

    id = "train"
    inputs = (Artifact.TEST_SET,)
    outputs = (Artifact.FLOAT_MODEL,)
    Metrics = TrainMetrics

    def run(self, inputs, folder: Path) -> StepOutcome:
        cfg: TrainStepConfig = self.config
        data = cfg.data.training_data()
        model = SpikingNetwork(config=cfg.snn, seed=cfg.training.seed)
        distiller, teacher_accuracy = None, None
        if cfg.distillation is not None:
            teacher, teacher_accuracy = train_teacher(data, student=cfg.snn, hidden=cfg.distillation.teacher_hidden,
                                                      epochs=cfg.distillation.teacher_epochs, seed=cfg.training.seed,
                                                      augmentation=cfg.training.augmentation)
            distiller = Distiller(teacher=teacher, config=cfg.distillation, student=cfg.snn)
        history = train(model, data, cfg.training, distiller=distiller)
        test = EncodedTestSet.load(inputs[Artifact.TEST_SET])
        path = folder / "float_model.pt"
        torch.save(model.state_dict(), path)
        decays = None
        if cfg.snn.dual_adaptive:
            learned = [model.decays(k).detach() for k in range(len(model.decay_logits))]
            decays = DecaysLearned(
                decay_mean_per_layer=tuple(float(d.mean()) for d in learned),
                decay_spread_per_layer=tuple(float(d.max() - d.min()) for d in learned),
                mapped_leak_shift_per_layer=tuple(model.mapped_leak_shift(k) for k in range(len(learned))))
        return StepOutcome({Artifact.FLOAT_MODEL: path}, TrainMetrics(
            accuracy_float=accuracy(predict(model, test.spikes), test.labels),
            final_train_accuracy=history[-1].train_accuracy,
            epochs=len(history),
            train_seconds=sum(r.seconds for r in history),
            teacher_accuracy=teacher_accuracy,
            distillation_loss=None if cfg.distillation is None else type(cfg.distillation.output_loss).__name__,
            decays=decays,
        ))
