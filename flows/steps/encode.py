"""Encode the test set once, as every later step sees it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from flows.engine.figures import measured, setting
from flows.engine.step import Artifact, Step, StepOutcome
from flows.steps.test_set import encode_test_set
from model.datasets import Dataset, load_dataset
from model.input_codes import InputCode, RateCode


@dataclass(frozen=True, kw_only=True)
class DataConfig:
    dataset: str
    data_path: str | None
    timesteps: int
    encoding_seed: int
    test_images: int | None
    hold_out: bool = False  # keep Dataset.split_validation's images out of training (for calibration)
    input_code: InputCode = field(default_factory=RateCode)  # how the host codes test images as events

    def load(self) -> Dataset:
        return load_dataset(self.dataset, self.data_path, timesteps=self.timesteps)

    def training_data(self) -> Dataset:
        data = self.load()
        return data.split_validation()[0] if self.hold_out else data


@dataclass(frozen=True, kw_only=True)
class EncodeMetrics:
    dataset: str = setting("the data set's name")
    images: int = measured("", "test images encoded (the reference runs all of them)")
    input_spike_rate: float = measured("spikes/input/step", "mean input spikes per input neuron per timestep, "
                                       "as the host codes them")

class EncodeStep(Step):
    """Code the test set once as the host sends it (the input code, with a fixed seed), keeping the
    images' 8-bit intensities for a core with the on-chip encoder."""

    id = "encode"
    outputs = (Artifact.TEST_SET,)
    Metrics = EncodeMetrics

    def run(self, inputs, folder: Path) -> StepOutcome:
        cfg: DataConfig = self.config
        data = cfg.load()
        x, y = data.test_x, data.test_y
        if cfg.test_images is not None:
            x, y = x[:cfg.test_images], y[:cfg.test_images]
        test = encode_test_set(x, y, data.class_names, timesteps=cfg.timesteps, seed=cfg.encoding_seed,
                               code=cfg.input_code)
        path = test.save(folder / "test_set.npz")
        return StepOutcome({Artifact.TEST_SET: path}, EncodeMetrics(
            dataset=cfg.dataset, images=int(len(y)), input_spike_rate=float(test.spikes.mean())))

