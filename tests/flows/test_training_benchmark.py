"""The training benchmark's guard rails (its figures come from `make bench`)."""

import pytest

from flows.benchmarks import training as training_benchmark


def test_an_unknown_framework_is_refused():
    with pytest.raises(ValueError, match="framework must be one of spikefab, snntorch-tutorial"):
        training_benchmark.measure_in_process("norse", threads=1, epochs=1)


def test_the_convolutional_trainers_compute_the_same_network():
    """spikefab (subtract after the leak) and snnTorch's default Leaky in the same structure: from the
    same initial weights, the same logits, so their throughputs compare like with like."""
    import torch

    ours, theirs = training_benchmark.spikefab_conv_model(), training_benchmark.snntorch_conv_model()
    assert all(torch.equal(a, b) for a, b in zip(
        [p for layer in ours.layers for p in (layer.weight, layer.bias)],
        [theirs.conv1.weight, theirs.conv1.bias, theirs.conv2.weight, theirs.conv2.bias, theirs.readout.weight,
         theirs.readout.bias]))
    x = torch.rand(6, 784, generator=torch.Generator().manual_seed(1)) * 3
    with torch.no_grad():
        torch.testing.assert_close(ours(x).logits, theirs(x), rtol=1e-4, atol=1e-4)
