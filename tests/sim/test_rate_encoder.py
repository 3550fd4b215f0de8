import numpy as np
import pytest

from model.architecture import DRAW_STEPS, LFSR_BITS, RateEncoder, lfsr_step
from sim.rate_encoder import encode_on_chip, encoder_draws, quantize_intensities


def test_the_lfsr_has_maximal_period():
    state, seen = 1, set()
    while state not in seen:
        seen.add(state)
        state = lfsr_step(state)
    assert len(seen) == (1 << LFSR_BITS) - 1 and 0 not in seen


def test_a_draw_is_the_low_byte_after_draw_steps_lfsr_steps():
    encoder = RateEncoder(lanes=3, seed=7)
    draws = encoder_draws(encoder, n_inputs=5, timesteps=2)  # 2 groups of 3 lanes per timestep
    state = encoder.lane_seed(1)
    expected = []
    for _ in range(4):  # lane 1 draws for group 0 and 1 at t=0, then again at t=1
        for _ in range(DRAW_STEPS):
            state = lfsr_step(state)
        expected.append(state & 0xFF)
    assert [draws[0, 1], draws[0, 4], draws[1, 1], draws[1, 4]] == expected


@pytest.mark.parametrize("lanes", [1, 8, 16])
def test_spike_rates_follow_the_intensities(lanes):
    intensities = np.repeat(np.array([[0, 64, 128, 192, 255]]), 40, axis=1)  # 200 inputs, 40 of each
    spikes = encode_on_chip(RateEncoder(lanes=lanes, seed=3), intensities, timesteps=64)
    rates = spikes[0].reshape(64, 5, 40).transpose(1, 0, 2).reshape(5, -1).mean(axis=1)
    assert rates[0] == 0.0
    np.testing.assert_allclose(rates[1:], [64 / 256, 128 / 256, 192 / 256, 255 / 256], atol=0.04)


def test_the_same_image_always_gives_the_same_spikes_and_seeds_differ():
    image = quantize_intensities(np.linspace(0, 1, 30))[None, :]
    a = encode_on_chip(RateEncoder(lanes=4, seed=1), np.repeat(image, 2, axis=0), timesteps=5)
    b = encode_on_chip(RateEncoder(lanes=4, seed=2), image, timesteps=5)
    assert np.array_equal(a[0], a[1]) and not np.array_equal(a[0], b[0])
    assert len({RateEncoder(lanes=16, seed=1).lane_seed(p) for p in range(16)}) == 16


@pytest.mark.parametrize("bad, message", [(np.full((1, 3), 256), "0..255"), (np.zeros(3, dtype=int), "2-D")])
def test_intensities_out_of_range_are_refused(bad, message):
    with pytest.raises(ValueError, match=message):
        encode_on_chip(RateEncoder(), bad, timesteps=2)
