"""The training input codes: what each one sends, and that a network learns through each."""

import numpy as np
import pytest
import torch

from model.compiled import Encoding, Readout
from model.datasets import load_dataset
from model.input_codes import DirectCurrent, EventFrames, LatencyCode, RateCode, RegularRateCode, code_for
from model.network import SNNConfig, SpikingNetwork, nearest_leak_shift
from model.train import TrainConfig, predict, train


def test_rate_code_spikes_with_the_intensity_as_probability():
    x = torch.tensor([[0.0, 0.25, 0.9, 1.0]])
    frames = RateCode()(x.expand(500, 4), 40, torch.Generator().manual_seed(0))
    assert frames.shape == (500, 40, 4) and set(frames.unique().tolist()) <= {0.0, 1.0}
    np.testing.assert_allclose(frames.mean(dim=(0, 1)).numpy(), x[0].numpy(), atol=0.01)
    again = RateCode()(x.expand(500, 4), 40, torch.Generator().manual_seed(0))
    assert torch.equal(frames, again), "the same generator seed gives the same spikes"


def test_latency_code_sends_one_spike_earlier_for_brighter_inputs():
    x = torch.tensor([[0.0, 0.2, 0.6, 1.0]])
    frames = LatencyCode()(x, 6, torch.Generator())
    assert frames.shape == (1, 6, 4)
    assert frames[0, :, 0].sum() == 0, "a dark input never spikes"
    first = frames[0, :, 1:].argmax(dim=0).tolist()
    assert frames[0, :, 1:].sum(dim=0).tolist() == [1, 1, 1] and first == [4, 2, 0]


def test_regular_rate_code_sends_round_x_t_spikes_evenly_and_without_noise():
    x = torch.tensor([[0.0, 0.25, 0.5, 0.8, 1.0]])
    frames = RegularRateCode()(x, 8, torch.Generator())
    assert frames.sum(dim=1)[0].tolist() == [0, 2, 4, 6, 8]  # round(8 x); 0.8 -> 6.4 -> 6
    assert frames[0, :, 2].tolist() == [1, 0, 1, 0, 1, 0, 1, 0], "spread evenly"
    np.testing.assert_array_equal(RegularRateCode().frames(x.numpy(), 8, seed=0), frames.numpy().astype(bool))
    assert RegularRateCode().frames(x.numpy(), 8, seed=0).dtype == bool


def test_codes_give_the_core_bool_frames_and_direct_current_is_refused():
    x = np.array([[0.0, 0.3, 0.9]])
    assert RateCode().frames(x, 5, seed=1).shape == (1, 5, 3)
    assert np.array_equal(RateCode().frames(x, 5, seed=1), RateCode().frames(x, 5, seed=1))
    assert LatencyCode().frames(x, 5, seed=0).sum() == 2
    with pytest.raises(ValueError, match="direct-current input is not spikes"):
        DirectCurrent().frames(x, 5, seed=0)


def test_direct_current_is_the_intensity_held_every_step():
    x = torch.rand(3, 5)
    assert torch.equal(DirectCurrent()(x, 8, torch.Generator()), x)
    assert not DirectCurrent().sends_spikes and RateCode().sends_spikes


@pytest.mark.parametrize("code", [RateCode(), RegularRateCode(), DirectCurrent(), LatencyCode()], ids=type)
def test_a_network_learns_digits_through_each_code(code):
    data = load_dataset("digits")
    model = SpikingNetwork(config=SNNConfig(sizes=(64, 32, 10), timesteps=6, readout=Readout.MEMBRANE), seed=0)
    history = train(model, data, TrainConfig(epochs=4, seed=0, input_code=code))
    assert history[-1].loss < history[0].loss
    inputs = code(torch.tensor(data.test_x), 6, torch.Generator().manual_seed(1)).numpy()
    # Chance is 0.1; the one-spike latency code learns slowest (0.58 after four epochs, seed 0).
    assert (predict(model, inputs) == data.test_y).mean() > 0.5, "four epochs already learn digits"


def test_a_float_decay_trains_and_maps_to_the_nearest_shift():
    data = load_dataset("digits")
    cfg = SNNConfig(sizes=(64, 32, 10), timesteps=6, leak_shift=None, beta=0.9)
    model = SpikingNetwork(config=cfg, seed=0)
    train(model, data, TrainConfig(epochs=3, seed=0, input_code=DirectCurrent()))
    assert (predict(model, data.test_x) == data.test_y).mean() > 0.7
    assert cfg.neuron(0, 1.0, hardware_decay=True).leak_shift == 3 == nearest_leak_shift(0.9)
    assert nearest_leak_shift(0.95) == 4 and nearest_leak_shift(0.5) == 1
    with pytest.raises(ValueError, match="not both"):
        SNNConfig(sizes=(4, 2), timesteps=2, beta=0.9)
    with pytest.raises(TypeError, match="input_code must be an InputCode"):
        TrainConfig(input_code="rate")


@pytest.mark.parametrize("code", [RateCode(), RegularRateCode(), LatencyCode(), EventFrames()],
                         ids=lambda c: type(c).__name__)
def test_a_network_file_records_each_spike_code_and_gives_it_back(code):
    assert code_for(code.recorded_encoding()) == code


def test_codes_a_network_file_cannot_record_are_refused():
    with pytest.raises(ValueError, match="not spikes"):
        DirectCurrent().recorded_encoding()
    with pytest.raises(ValueError, match="cutoff 0 only"):
        LatencyCode(cutoff=0.2).recorded_encoding()
    with pytest.raises(ValueError, match="does not record its input code"):
        code_for(Encoding.UNRECORDED)
