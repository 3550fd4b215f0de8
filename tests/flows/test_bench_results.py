"""bench/results.json: a benchmark run again replaces exactly the figures it wrote before, including
figures it publishes under another benchmark's prefix (aliases)."""

import json
from dataclasses import dataclass

import pytest

from flows.benchmarks import bench


@dataclass(frozen=True)
class Figures:
    """A benchmark whose figures are given (the bookkeeping under test, not a measurement)."""

    figures: dict
    kind: str = "measured"

    def run(self, name, work):
        return dict(self.figures), {key: self.kind for key in self.figures}


def test_rerunning_a_benchmark_replaces_only_its_own_figures(tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "BENCHMARKS", {
        "mnist": Figures({"mnist.cycles": 1.0, "mnist.old": 2.0}),
        "mnist_accuracy": Figures({"mnist_accuracy.seconds": 3.0, "mnist.accuracy_rtl_exact": 0.98}),
        "scaled": Figures({"scaled.nj": 7.0}, kind="estimated"),
    })
    assert bench.main(["--out", str(tmp_path)]) == 0
    monkeypatch.setitem(bench.BENCHMARKS, "mnist", Figures({"mnist.cycles": 5.0}))
    assert bench.main(["--out", str(tmp_path), "--only", "mnist"]) == 0
    results = json.loads((tmp_path / "results.json").read_text())["results"]
    assert results == {"mnist.cycles": 5.0, "mnist_accuracy.seconds": 3.0, "mnist.accuracy_rtl_exact": 0.98,
                       "scaled.nj": 7.0}
    markdown = (tmp_path / "results.md").read_text()
    assert "| mnist.accuracy_rtl_exact | 0.98 |" in markdown


def test_measured_and_estimated_figures_are_in_separate_sections(tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "BENCHMARKS", {"a": Figures({"a.nj": 1.0}), "b": Figures({"b.nj": 2.0}, "estimated")})
    assert bench.main(["--out", str(tmp_path)]) == 0
    markdown = (tmp_path / "results.md").read_text()
    measured, estimated = markdown.index("## Measured"), markdown.index("## Estimated")
    assert measured < markdown.index("| a.nj |") < estimated < markdown.index("| b.nj |")


def test_each_publication_merges_into_the_file_as_it_is_then(tmp_path):
    # Bench processes run side by side (each with its own --only) publish one after another: each
    # reads the file again under the lock, so it keeps what the others wrote meanwhile.
    bench.publish(tmp_path, "digits", {"digits.accuracy": 0.9}, {"digits.accuracy": "measured"}, "m")
    bench.publish(tmp_path, "mnist_conv", {"mnist_conv.cycles": 1.1}, {"mnist_conv.cycles": "measured"}, "m")
    bench.publish(tmp_path, "nmnist_conv", {"nmnist_conv.accuracy_rtl": 0.8}, {"nmnist_conv.accuracy_rtl": "measured"}, "m")
    results = json.loads((tmp_path / "results.json").read_text())["results"]
    assert results == {"digits.accuracy": 0.9, "mnist_conv.cycles": 1.1, "nmnist_conv.accuracy_rtl": 0.8}
    assert "nmnist_conv.accuracy_rtl" in (tmp_path / "results.md").read_text()


def test_a_resumed_flow_benchmark_reuses_the_finished_steps_with_their_measured_times(tmp_path):
    from flows.benchmarks.flow_benchmark import FlowBenchmark
    from flows.run_config import DataSettings, RunConfig, TrainingSettings

    entry = FlowBenchmark(RunConfig(data=DataSettings(test_images=40), training=TrainingSettings(epochs=1)),
                          until="quantize")
    first, _ = entry.run("digits", tmp_path)
    again, _ = entry.run("digits", tmp_path, resume=True)
    assert again["digits.seconds.train"] == first["digits.seconds.train"] > 0, "the train step was reused"
    assert again["digits.accuracy.quantized_torch"] == first["digits.accuracy.quantized_torch"]
    steps = sum(v for k, v in first.items() if k.startswith("digits.seconds.") and k != "digits.seconds.total")
    assert again["digits.seconds.total"] == pytest.approx(steps, abs=0.1), "the steps' times, not the resumed wall time"
    fresh, _ = entry.run("digits", tmp_path)
    assert fresh["digits.seconds.train"] != first["digits.seconds.train"], "without resume every step runs again"
