"""bench/results.json: a benchmark run again replaces exactly the figures it wrote before, including
figures it publishes under another benchmark's prefix (aliases)."""

import json
from dataclasses import dataclass

from flows.benchmarks import bench


@dataclass(frozen=True)
class Figures:
    """A benchmark whose figures are given (the bookkeeping under test, not a measurement)."""

    figures: dict

    def run(self, name, work):
        return dict(self.figures)


def test_rerunning_a_benchmark_replaces_only_its_own_figures(tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "BENCHMARKS", {
        "mnist": Figures({"mnist.cycles": 1.0, "mnist.old": 2.0}),
        "mnist_accuracy": Figures({"mnist_accuracy.seconds": 3.0, "mnist.accuracy_rtl_exact": 0.98}),
    })
    assert bench.main(["--out", str(tmp_path)]) == 0
    monkeypatch.setitem(bench.BENCHMARKS, "mnist", Figures({"mnist.cycles": 5.0}))
    assert bench.main(["--out", str(tmp_path), "--only", "mnist"]) == 0
    results = json.loads((tmp_path / "results.json").read_text())["results"]
    assert results == {"mnist.cycles": 5.0, "mnist_accuracy.seconds": 3.0, "mnist.accuracy_rtl_exact": 0.98}
    assert "| mnist.accuracy_rtl_exact | 0.98 |" in (tmp_path / "results.md").read_text()
