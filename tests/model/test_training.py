import numpy as np
import pytest
import torch

from model.compiled import Encoding, Integration, Readout, Reset
from model.convolution import ConvShape
from model.datasets import load_dataset
from model.encoding import rate_encode
from model.export import export_network
from model.network import SNNConfig, SpikingNetwork
from model.neuron import LIFParameters, lif_step
from model.quantize import QuantizationConfig
from model.surrogate import ArcTan, FastSigmoid, StraightThrough, Triangle
from model.train import Backprop, TrainConfig, predict, train
from sim.reference import ref_run


@pytest.mark.parametrize("surrogate", [StraightThrough(), FastSigmoid(), ArcTan(), Triangle()],
                         ids=lambda s: type(s).__name__)
def test_spikes_are_a_step_forward_and_the_surrogate_backward(surrogate):
    x = torch.tensor([-2.0, -0.1, 0.0, 0.1, 2.0], requires_grad=True)
    out = surrogate(x)
    assert out.tolist() == [0.0, 0.0, 1.0, 1.0, 0.0 + 1.0]
    out.sum().backward()
    expected = surrogate.derivative(x.detach())
    assert torch.equal(x.grad, expected)
    assert x.grad[2] == x.grad.max() > 0, "the surrogate peaks at the threshold"


@pytest.mark.parametrize("surrogate", [StraightThrough(), FastSigmoid(), ArcTan(), Triangle()],
                         ids=lambda s: type(s).__name__)
@pytest.mark.parametrize("threshold", [1.0, 37.0])
def test_the_membrane_spike_is_the_normalized_spike_forward_and_backward(surrogate, threshold):
    v = torch.tensor([-80.0, 0.0, 36.5, 37.0, 37.5, 1.0, 0.99, 120.0], requires_grad=True)
    direct = surrogate.spike(v, threshold)
    direct.sum().backward()
    fast = v.grad.clone()
    v.grad = None
    normalized = surrogate((v - threshold) / threshold)
    normalized.sum().backward()
    assert torch.equal(direct, normalized)
    assert torch.allclose(fast, v.grad, rtol=1e-6, atol=0)


@pytest.mark.parametrize("v", [-9.0, -1.0, 0.0, 5.0, 17.0])
def test_integer_leak_is_the_arithmetic_shift(v):
    p = LIFParameters(threshold=1000.0, leak_shift=2, integration=Integration.CONTINUOUS, reset=Reset.SUBTRACT,
                      spiking=True, surrogate=FastSigmoid())
    _, after, _ = lif_step(torch.tensor([0.0]), torch.tensor([v]), p, integer=True)
    assert after.item() == int(v) - (int(v) >> 2)


def test_quantization_aware_training_exports_exactly_what_it_trained():
    data = load_dataset("digits")
    cfg = SNNConfig(sizes=(64, 24, 10), timesteps=4, readout=Readout.MEMBRANE)
    model = SpikingNetwork(config=cfg, seed=0)
    train(model, data, TrainConfig(epochs=3, seed=0))
    q = QuantizationConfig(weight_bits=6)
    train(model, data, TrainConfig(epochs=1, learning_rate=5e-4, seed=1), quantization=q)
    spikes = rate_encode(data.test_x, cfg.timesteps, seed=2)
    torch_predicted = predict(model, spikes, quantization=q)
    net = export_network(model, q, encoding=Encoding.RATE)
    assert not net.can_saturate()
    assert all(np.abs(layer.weights).max() <= 31 for layer in net.layers)
    reference = ref_run(net, spikes)
    np.testing.assert_array_equal(reference.predicted, torch_predicted)
    assert (reference.predicted == data.test_y).mean() > 0.5, "three epochs already learn digits"


@pytest.mark.parametrize("backprop", list(Backprop), ids=lambda b: b.value)
def test_a_convolutional_network_trains_and_exports_exactly_what_it_trained(backprop):
    data = load_dataset("digits")  # 8x8 images, one channel
    cfg = SNNConfig(sizes=(64, 10), timesteps=4, readout=Readout.MEMBRANE, image=(1, 8, 8),
                    convolutions=(ConvShape(out_channels=8, kernel=3, stride=1, padding=1),
                                  ConvShape(out_channels=8, kernel=3, stride=2, padding=1)))
    model = SpikingNetwork(config=cfg, seed=0)
    assert [type(layer).__name__ for layer in model.layers] == ["Conv2d", "Conv2d", "Linear"]
    train(model, data, TrainConfig(epochs=6, seed=0, backprop=backprop))
    q = QuantizationConfig(weight_bits=6)
    train(model, data, TrainConfig(epochs=1, learning_rate=5e-4, seed=1, backprop=backprop), quantization=q)
    spikes = rate_encode(data.test_x, cfg.timesteps, seed=2)
    net = export_network(model, q, encoding=Encoding.RATE)
    assert [layer.conv is not None for layer in net.layers] == [True, True, False]
    assert net.layer_sizes == (64, 512, 128, 10)
    reference = ref_run(net, spikes)
    np.testing.assert_array_equal(reference.predicted, predict(model, spikes, quantization=q))
    assert (reference.predicted == data.test_y).mean() > 0.6, "six epochs learn digits (0.81 float measured at seed 0)"


def test_bad_network_settings_are_refused():
    with pytest.raises(ValueError, match="sizes must be two or more positive ints"):
        SNNConfig(sizes=(64,), timesteps=4)
    with pytest.raises(TypeError, match="surrogate must be a Surrogate object"):
        SNNConfig(sizes=(64, 10), timesteps=4, surrogate="fast-sigmoid")
    with pytest.raises(ValueError, match="convolutions need the image's .channels, height, width., whose product is the 64"):
        SNNConfig(sizes=(64, 10), timesteps=4, image=(1, 8, 7), convolutions=(ConvShape(out_channels=2, kernel=3),))
    with pytest.raises(ValueError, match="DA-LIF's per-neuron input scale cannot be folded"):
        SNNConfig(sizes=(64, 10), timesteps=4, image=(1, 8, 8), convolutions=(ConvShape(out_channels=2, kernel=3),),
                  dual_adaptive=True)
    with pytest.raises(ValueError, match="weight_bits must be 2..16 for training, not 1"):
        QuantizationConfig(weight_bits=1)
