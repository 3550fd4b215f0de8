"""Batch normalisation: float training normalises each spiking layer's current per channel on the
batch's statistics; evaluation, QAT and export fold the learned scale and shift and the running
statistics into the layer's weights and bias, so the core is unchanged and the reference equals
the quantized torch model."""

import numpy as np
import pytest
import torch

from digits_training import QUANTIZATION, folded_integer_weights, quantized_and_exported, trained_on_digits
from model.convolution import ConvShape
from model.datasets import load_dataset
from model.encoding import rate_encode
from model.network import SNNConfig, SpikingNetwork
from model.synapses import synaptic_current
from model.train import Backprop, TrainConfig, predict, train
from sim.reference import ref_run

CONV = SNNConfig(sizes=(64, 24, 10), timesteps=6, image=(1, 8, 8), batch_norm=True,
                 convolutions=(ConvShape(out_channels=6, kernel=3, stride=2, padding=1),))


@pytest.fixture(scope="module")
def trained():
    return trained_on_digits(CONV)


def test_each_spiking_layer_has_a_norm_per_output_channel():
    model = SpikingNetwork(config=CONV)
    assert [norm.num_features for norm in model.norms] == [6, 24], "conv maps by channel, dense by neuron"
    assert not SpikingNetwork(config=SNNConfig(sizes=(64, 24, 10), timesteps=6)).norms, "off by default"


def test_the_fold_computes_what_the_normalisation_does_with_its_running_statistics(trained):
    model, data = trained
    model.eval()
    spikes = torch.tensor(rate_encode(data.test_x[:32], CONV.timesteps, seed=3), dtype=torch.float32)
    layer, norm, geometry = model.layers[0], model.norms[0], model.geometries[0]
    raw = synaptic_current(spikes, layer.weight, layer.bias, geometry)
    normalised = norm(raw.reshape(-1, norm.num_features)).reshape(raw.shape)
    folded = synaptic_current(spikes, *model.effective_layer(0), geometry)
    assert not torch.allclose(raw, normalised, atol=1e-3), "the normalisation learned something to fold"
    torch.testing.assert_close(folded, normalised, rtol=1e-5, atol=1e-5)


def test_training_normalises_on_the_batch_and_updates_the_running_statistics():
    model = SpikingNetwork(config=CONV, seed=1)
    before = model.norms[0].running_mean.clone()
    spikes = (torch.rand(16, CONV.timesteps, 64, generator=torch.Generator().manual_seed(0)) < 0.4).float()
    model.train()
    training_readout = model(spikes).readout
    assert not torch.equal(model.norms[0].running_mean, before), "a training forward moves the running mean"
    model.eval()
    assert not torch.equal(model(spikes).readout, training_readout), "evaluation uses the running statistics"


def test_export_of_a_normalised_network_matches_the_reference_exactly(trained):
    model, data = trained
    spikes = rate_encode(data.test_x, CONV.timesteps, seed=2)
    assert (predict(model, spikes) == data.test_y).mean() > 0.8, "ten epochs learn digits"
    frozen = {k: v.clone() for k, v in model.norms.state_dict().items() if "running" in k}
    net = quantized_and_exported(model, data)
    for key, value in model.norms.state_dict().items():
        if key in frozen:
            assert torch.equal(value, frozen[key]), f"QAT trains through the fold and leaves {key} as it was"
    for k in range(2):  # the folded weights are what is quantized
        np.testing.assert_array_equal(net.layers[k].weights, folded_integer_weights(model, k))
    np.testing.assert_array_equal(ref_run(net, spikes).predicted, predict(model, spikes, quantization=QUANTIZATION))
    assert (predict(model, spikes, quantization=QUANTIZATION) == data.test_y).mean() > 0.8


@pytest.mark.parametrize("config, message", [
    (TrainConfig(backprop=Backprop.RATE), "rate-based backpropagation runs without batch normalisation"),
    (TrainConfig(processes=2), "batch normalisation is not data-parallel yet"),
])
def test_training_it_is_refused_where_the_normalisation_cannot_run(config, message):
    model = SpikingNetwork(config=CONV)
    with pytest.raises(ValueError, match=message):
        train(model, load_dataset("digits"), config)


def test_it_is_refused_beside_da_lif_and_must_be_a_bool():
    with pytest.raises(ValueError, match="use batch_norm"):
        SNNConfig(sizes=(4, 3, 2), timesteps=2, batch_norm=True, dual_adaptive=True)
    with pytest.raises(TypeError, match="batch_norm must be a bool"):
        SNNConfig(sizes=(4, 3, 2), timesteps=2, batch_norm=1)
