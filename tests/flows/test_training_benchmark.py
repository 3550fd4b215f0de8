"""The training benchmark's guard rails (its figures come from `make bench`)."""

import pytest

from flows.benchmarks import training as training_benchmark


def test_an_unknown_framework_is_refused():
    with pytest.raises(ValueError, match="framework must be one of spikefab, snntorch-tutorial"):
        training_benchmark.measure_in_process("norse", threads=1, epochs=1)
