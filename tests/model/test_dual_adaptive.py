"""DA-LIF: per-neuron decays and input scales are learned, and export maps them to what the core
has (input scales folded into the weights, one leak shift per layer) with the reference equal to
the quantized torch model."""

import numpy as np
import pytest
import torch

from digits_training import QUANTIZATION, folded_integer_weights, quantized_and_exported, trained_on_digits
from model.compiled import Integration, Readout
from model.encoding import rate_encode
from model.network import SNNConfig, nearest_leak_shift
from model.train import predict
from sim.reference import ref_run

CONFIG = SNNConfig(sizes=(64, 32, 24, 10), timesteps=6, readout=Readout.MEMBRANE, dual_adaptive=True)


@pytest.fixture(scope="module")
def trained():
    return trained_on_digits(CONFIG)


def test_decays_and_input_scales_are_learned_per_neuron(trained):
    model, _ = trained
    assert len(model.decay_logits) == 2 and len(model.log_input_scales) == 2, "both hidden layers adapt"
    for k in range(2):
        decays = model.decays(k).detach()
        assert decays.shape == (CONFIG.sizes[k + 1],)
        assert not torch.allclose(decays, torch.full_like(decays, CONFIG.initial_decay)), "the decays moved"
        assert decays.std() > 0, "each neuron has its own decay"
        assert torch.exp(model.log_input_scales[k]).detach().std() > 0
    assert model.decays(2) is None, "the accumulator readout has no decay to learn"


def test_the_float_model_runs_with_the_decays_the_core_will_have(trained):
    model, data = trained
    spikes = rate_encode(data.test_x, CONFIG.timesteps, seed=2)
    learned = model(torch.tensor(spikes[:64], dtype=torch.float32)).readout
    mapped = model(torch.tensor(spikes[:64], dtype=torch.float32), hardware_decays=True).readout
    assert not torch.equal(learned, mapped), "per-neuron decays against one shift per layer"
    mapped_accuracy = (predict(model, spikes, hardware_decays=True) == data.test_y).mean()
    assert mapped_accuracy > 0.5


def test_export_folds_the_input_scale_and_maps_the_decays_to_a_shift(trained):
    model, data = trained
    net = quantized_and_exported(model, data)
    for k in range(2):
        assert net.layers[k].leak_shift == nearest_leak_shift(float(model.decays(k).detach().mean()))
        np.testing.assert_array_equal(net.layers[k].weights, folded_integer_weights(model, k))
    spikes = rate_encode(data.test_x, CONFIG.timesteps, seed=2)
    np.testing.assert_array_equal(ref_run(net, spikes).predicted, predict(model, spikes, quantization=QUANTIZATION))
    assert (predict(model, spikes) == data.test_y).mean() > 0.7, "ten epochs learn digits"


def test_da_lif_needs_continuous_integration():
    with pytest.raises(ValueError, match="needs continuous integration"):
        SNNConfig(sizes=(4, 3, 2), timesteps=2, integration=Integration.DISCONTINUOUS, dual_adaptive=True)
