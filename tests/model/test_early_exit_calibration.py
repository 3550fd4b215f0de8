"""SEENN-I calibration: the rule it picks does on the reference exactly what it predicted, within
the accuracy tolerance, with fewer timesteps; margins and confidences map both ways."""

import dataclasses

import numpy as np
import pytest

from model.compiled import Encoding, Readout
from model.datasets import load_dataset
from model.encoding import rate_encode
from model.export import export_network
from model.network import SNNConfig, SpikingNetwork
from model.quantize import QuantizationConfig
from model.train import TrainConfig, train
from network_factory import NetworkSpec, random_network, random_spikes
from sim.early_exit_calibration import (calibrate_early_exit, confidence_of_margin, exit_points,
                                        margin_for_confidence)
from sim.reference import ref_run

TIMESTEPS = 8


@pytest.fixture(scope="module")
def digits_network():
    data = load_dataset("digits")
    model = SpikingNetwork(config=SNNConfig(sizes=(64, 48, 10), timesteps=TIMESTEPS, readout=Readout.MEMBRANE), seed=0)
    train(model, data, TrainConfig(epochs=8, seed=0))
    quantization = QuantizationConfig(weight_bits=8)
    train(model, data, TrainConfig(epochs=1, learning_rate=5e-4, seed=1), quantization=quantization)
    return export_network(model, quantization, encoding=Encoding.RATE), data


@pytest.mark.parametrize("tolerance", [0.0, 0.003, 0.02])
def test_the_chosen_rule_does_on_the_reference_what_the_calibration_predicted(digits_network, tolerance):
    net, data = digits_network
    held_out = rate_encode(data.train_x[-300:], TIMESTEPS, seed=5)
    labels = data.train_y[-300:]
    calibration = calibrate_early_exit(net, held_out, labels, tolerance=tolerance)
    assert calibration.chosen.accuracy >= calibration.full_accuracy - tolerance
    assert calibration.chosen.avg_timesteps < TIMESTEPS, "trained digits need fewer steps for some images"
    with_exit = ref_run(dataclasses.replace(net, early_exit=calibration.rule), held_out)
    assert with_exit.timesteps_used.mean() == pytest.approx(calibration.chosen.avg_timesteps, abs=1e-12)
    assert (with_exit.predicted == labels).mean() == pytest.approx(calibration.chosen.accuracy, abs=1e-12)
    front = calibration.curve
    assert all(a.avg_timesteps <= b.avg_timesteps and a.accuracy < b.accuracy for a, b in zip(front, front[1:]))


def test_a_looser_tolerance_never_needs_more_timesteps(digits_network):
    net, data = digits_network
    held_out = rate_encode(data.train_x[-300:], TIMESTEPS, seed=5)
    steps = [calibrate_early_exit(net, held_out, data.train_y[-300:], tolerance=t).chosen.avg_timesteps
             for t in (0.0, 0.01, 0.05)]
    assert steps[0] >= steps[1] >= steps[2]


def test_exit_points_follow_the_rule_on_a_hand_made_readout():
    # Two images, three steps, three classes: image 0 is sure after step 1, image 1 only at the end.
    readout = np.array([[[9, 1, 0], [15, 2, 1], [20, 3, 1]],
                        [[2, 3, 1], [4, 3, 4], [3, 9, 1]]])
    points = {(p.min_steps, p.margin): p for p in exit_points(readout, np.array([0, 1]), np.array([1, 5]))}
    assert points[1, 5].avg_timesteps == (1 + 3) / 2 and points[1, 5].accuracy == 1.0
    # Margin 1 stops image 1 after step 1 on class 1 (3 - 2 = 1): right.
    assert points[1, 1].avg_timesteps == 1.0 and points[1, 1].accuracy == 1.0
    # From step 2, margin 1: image 1's tie (4, 3, 4) has margin 0, so it goes on to step 3.
    assert points[2, 1].avg_timesteps == (2 + 3) / 2


@pytest.mark.parametrize("confidence", [0.5, 0.9, 0.99])
@pytest.mark.parametrize("tau", [1.0, 37.0])
def test_a_margin_guarantees_the_confidence_it_was_made_for(confidence, tau):
    margin = margin_for_confidence(confidence, tau, classes=10)
    assert confidence_of_margin(margin, tau, 10) >= confidence
    assert margin == 1 or confidence_of_margin(margin - 1, tau, 10) < confidence


def test_bad_calibration_settings_are_refused():
    net = random_network(NetworkSpec(sizes=(6, 4, 3), timesteps=1, seed=3))
    with pytest.raises(ValueError, match="at least two timesteps"):
        calibrate_early_exit(net, random_spikes(net, images=4, rate=0.5, seed=3), np.zeros(4), tolerance=0.01)
    with pytest.raises(ValueError, match="tolerance must be in"):
        calibrate_early_exit(net, random_spikes(net, images=4, rate=0.5, seed=3), np.zeros(4), tolerance=1.5)
    with pytest.raises(ValueError, match="confidence must be in"):
        margin_for_confidence(1.0, 1.0, 10)
