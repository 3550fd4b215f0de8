"""The training benchmark's guard rails (its figures come from `make bench`)."""

import pytest

from flows.benchmarks import training as training_benchmark


def test_a_missing_snntorch_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setattr(training_benchmark, "SNNTORCH_FOLDER", tmp_path / "absent")
    with pytest.raises(RuntimeError, match="snnTorch is not installed in .*make bench"):
        training_benchmark.measure_in_process("snntorch-same-work", threads=1, epochs=1)


def test_an_unknown_framework_is_refused():
    with pytest.raises(ValueError, match="framework must be one of spikefab, snntorch-tutorial"):
        training_benchmark.measure_in_process("norse", threads=1, epochs=1)
