"""Rate-based backpropagation: BPTT's forward values, BPTT's gradients where they must coincide
(one timestep), a graph whose size does not grow with T, and a network that learns."""

import pytest
import torch

from model.compiled import Integration, Readout
from model.datasets import load_dataset
from model.encoding import rate_encode
from model.graph_memory import saved_tensor_bytes
from model.network import SNNConfig, SpikingNetwork
from model.quantize import QuantizationConfig
from model.train import Backprop, TrainConfig, predict, train


def frames(timesteps, seed=0):
    return (torch.rand(6, timesteps, 20, generator=torch.Generator().manual_seed(seed)) < 0.4).float()


@pytest.mark.parametrize("readout", list(Readout))
@pytest.mark.parametrize("quantized", [False, True], ids=["float", "integer"])
def test_the_forward_values_are_those_of_bptt(readout, quantized):
    model = SpikingNetwork(config=SNNConfig(sizes=(20, 16, 12, 5), timesteps=7, readout=readout), seed=1)
    q = QuantizationConfig(weight_bits=6) if quantized else None
    x = frames(7)
    through_time, by_rate = model(x, quantization=q), model(x, quantization=q, rate_based=True)
    torch.testing.assert_close(by_rate.readout, through_time.readout, rtol=0, atol=1e-5)
    assert through_time.readout.abs().sum() > 0


def test_with_one_timestep_the_gradients_are_bptts():
    config = SNNConfig(sizes=(20, 16, 5), timesteps=1, integration=Integration.DISCONTINUOUS,
                       readout=Readout.MEMBRANE)
    grads = []
    for rate_based in (False, True):
        model = SpikingNetwork(config=config, seed=2)
        model(frames(1), rate_based=rate_based).logits.square().sum().backward()
        grads.append([p.grad.clone() for p in model.parameters()])
    for a, b in zip(*grads):
        torch.testing.assert_close(b, a)
    assert any(g.abs().sum() > 0 for g in grads[0])


def saved_bytes(model, x, rate_based):
    return saved_tensor_bytes(lambda: model(x, rate_based=rate_based).logits.sum())


def test_the_rate_graph_does_not_grow_with_timesteps():
    sizes = {}
    for timesteps in (4, 32):
        model = SpikingNetwork(config=SNNConfig(sizes=(20, 16, 5), timesteps=timesteps), seed=3)
        x = frames(timesteps)
        sizes[timesteps] = (saved_bytes(model, x, rate_based=False), saved_bytes(model, x, rate_based=True))
    assert sizes[32][0] > 4 * sizes[4][0], "BPTT keeps every timestep"
    assert sizes[32][1] == sizes[4][1], "the rate path keeps one rate per layer"


def test_rate_based_training_learns_digits():
    data = load_dataset("digits")
    model = SpikingNetwork(config=SNNConfig(sizes=(64, 48, 10), timesteps=8, readout=Readout.MEMBRANE), seed=0)
    train(model, data, TrainConfig(epochs=6, seed=0, backprop=Backprop.RATE))
    # BPTT on the same settings reaches about 0.9 too (0.933 and 0.922 after ten epochs, 64-64-10).
    assert (predict(model, rate_encode(data.test_x, 8, seed=2)) == data.test_y).mean() > 0.8


def test_rate_based_training_refuses_da_lif():
    model = SpikingNetwork(config=SNNConfig(sizes=(64, 8, 10), timesteps=2, dual_adaptive=True))
    with pytest.raises(ValueError, match="no gradient for DA-LIF"):
        train(model, load_dataset("digits"), TrainConfig(epochs=1, backprop=Backprop.RATE))
