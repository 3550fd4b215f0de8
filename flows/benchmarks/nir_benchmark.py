"""The bring-your-own-network benchmark: an MNIST network trained in another framework, written by
that framework's NIR export, then imported, quantized, compiled and verified by `spikefab run --nir`.
The framework's own accuracy is measured on the very spike frames the run's reference and RTL take
(the run's encoded test set), so the two differ only by what the import and the quantization change."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from flows.benchmarks.flow_benchmark import FlowBenchmark, run_benchmark
from flows.benchmarks.framework_networks import FrameworkNetwork, TrainingRecipe
from flows.engine.figures import Kind
from flows.engine.step import Artifact
from flows.report.figure_paths import report_figure
from flows.run_config import RunConfig
from flows.steps.import_nir import NirSource
from flows.steps.test_set import EncodedTestSet
from model.datasets import load_dataset


@dataclass(frozen=True, kw_only=True)
class NirBenchmark:
    """`network()` trained by `recipe` on the training images of `config`'s data set, then run through
    `config` (its timesteps are the recipe's). Figures under `nir.<framework>.`, the issue's names."""

    network: Callable[[], FrameworkNetwork]
    recipe: TrainingRecipe
    config: RunConfig

    def run(self, name: str, work: Path) -> tuple[dict, dict]:
        data = load_dataset(self.config.data.dataset)
        network = self.network()
        seconds = network.train(data.train_x, data.train_y, self.recipe)
        folder = work / f"framework-{name}"
        folder.mkdir(parents=True, exist_ok=True)
        graph = network.write_nir(folder / f"{network.framework}.nir")
        config = dataclasses.replace(
            self.config, network=dataclasses.replace(self.config.network, timesteps=self.recipe.timesteps),
            nir=NirSource(path=str(graph), conventions=network.conventions()))
        prefix = f"nir.{network.framework}"
        aliases = {f"{prefix}.accuracy_rtl": report_figure(lambda r: r.accuracy.rtl),
                   f"{prefix}.verify.images": report_figure(lambda r: r.verify.images),
                   f"{prefix}.verify.mismatched_images": report_figure(lambda r: r.verify.mismatched_images),
                   f"{prefix}.accuracy_reference": report_figure(lambda r: r.accuracy.quantized_reference),
                   f"{prefix}.accuracy_float_import": report_figure(lambda r: r.accuracy.float_model)}
        results, kinds, records = run_benchmark(name, FlowBenchmark(config, until="verify", aliases=aliases), work)

        test = EncodedTestSet.load(records.artifacts[Artifact.TEST_SET])
        theirs = network.predict(test.spikes)
        ours = np.load(records.artifacts[Artifact.REFERENCE])["predicted"]
        verified = int(results[f"{prefix}.verify.images"])
        framework_accuracy = float((theirs == test.labels).mean())
        on_rtl_images = float((theirs[:verified] == test.labels[:verified]).mean())
        measured = {
            f"{prefix}.accuracy_framework": round(framework_accuracy, 4),
            f"{prefix}.accuracy_framework_on_rtl_images": round(on_rtl_images, 4),
            # RTL against the framework on the same images (the RTL's, all of the test set when it ran them all).
            f"{prefix}.rtl_minus_framework_points": round(100 * (results[f"{prefix}.accuracy_rtl"] - on_rtl_images), 2),
            f"{prefix}.reference_agrees_with_framework": round(float((ours == theirs).mean()), 4),
            f"{prefix}.test_images": int(test.labels.size),
            f"{prefix}.training_seconds": round(seconds, 1),
        }
        settings = {f"{prefix}.framework_version": network.version(), f"{prefix}.timesteps": self.recipe.timesteps,
                    f"{prefix}.epochs": self.recipe.epochs, f"{prefix}.loss_on": self.recipe.loss_on,
                    f"{prefix}.learning_rate": self.recipe.learning_rate,
                    f"{prefix}.dt_s": network.conventions().dt}
        results.update(measured | settings)
        kinds.update({key: Kind.MEASURED.value for key in measured} | {key: Kind.SETTING.value for key in settings})
        return results, kinds

