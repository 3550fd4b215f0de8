"""A run's configuration is composed of its parts, and the CLI's defaults are theirs."""

import dataclasses

import pytest
import torch

from model.convolution import ConvShape
from model.distillation import DistillationConfig
from flows.cli import build_parser, run_config_from
from flows.run_config import (EarlyExitSettings, NetworkSettings, QuantizationSettings, RunConfig, TrainingSettings,
                              VerificationSettings)


def config_of(*flags):
    args = build_parser().parse_args(["run", *flags, "--out", "unused"])
    return run_config_from(args, timesteps=args.timesteps, weight_bits=args.weight_bits, lanes=args.lanes)


def test_no_flags_give_the_dataclasses_defaults():
    assert config_of() == RunConfig()


def test_each_flag_lands_in_its_part():
    config = config_of("--hidden", "12", "--epochs", "3", "--qat-epochs", "0", "--weight-bits", "4",
                       "--early-exit", "--exit-tolerance", "0.01", "--verify-images", "all", "--lanes", "2",
                       "--device", "auto", "--train-processes", "2")
    assert config == dataclasses.replace(
        RunConfig(), network=NetworkSettings(hidden=(12,)),
        training=TrainingSettings(epochs=3, device="auto", processes=2),
        quantization=QuantizationSettings(weight_bits=4, qat_epochs=0), early_exit=EarlyExitSettings(tolerance=0.01),
        verification=VerificationSettings(verify_images=None),
        architecture=dataclasses.replace(RunConfig().architecture, lanes=2))


@pytest.mark.parametrize("part, message", [
    (lambda: QuantizationSettings(weight_bits=17), "weight"),
    (lambda: NetworkSettings(timesteps=0), "timesteps must be 1..65536"),
    (lambda: VerificationSettings(energy_images=0), "energy_images must be a positive int"),
    (lambda: VerificationSettings(gate_simulator="spice"), "gate_simulator must be one of compiled, icarus"),
    (lambda: EarlyExitSettings(tolerance=1.5), "exit_tolerance must be in"),
], ids=["weight-bits", "timesteps", "energy-images", "gate-simulator", "tolerance"])
def test_each_part_checks_its_own_values(part, message):
    with pytest.raises(ValueError, match=message):
        part()


def test_the_train_step_gets_this_machines_device_and_the_processes():
    config = RunConfig(training=TrainingSettings(device="auto", processes=2))
    (train,) = [step for step in config.steps() if step.id == "train"]
    assert train.config.training.device == ("cuda" if torch.cuda.is_available() else "cpu")
    assert train.config.training.processes == 2


def test_parts_are_checked_together():
    with pytest.raises(ValueError, match="early exit needs at least two timesteps"):
        RunConfig(network=NetworkSettings(timesteps=1), early_exit=EarlyExitSettings())
    with pytest.raises(TypeError, match="training must be a TrainingSettings"):
        RunConfig(training=NetworkSettings())


def test_a_convolutional_network_is_distilled_through_its_dense_hidden_layer():
    convolution = (ConvShape(out_channels=8, kernel=3, stride=2, padding=1),)
    config = RunConfig(network=NetworkSettings(convolutions=convolution, hidden=(32,)),
                       training=TrainingSettings(distillation=DistillationConfig()))
    (train,) = [step for step in config.steps() if step.id == "train"]
    assert train.config.distillation == DistillationConfig() and train.config.snn.convolutions == convolution
    with pytest.raises(ValueError, match="decodes the first fully connected hidden layer"):
        RunConfig(network=NetworkSettings(convolutions=convolution, hidden=()),
                  training=TrainingSettings(distillation=DistillationConfig()))
    with pytest.raises(ValueError, match="decodes the first fully connected hidden layer"):  # dense alike
        RunConfig(network=NetworkSettings(hidden=()), training=TrainingSettings(distillation=DistillationConfig()))
    # Without the hidden path, the output path alone needs no hidden layer.
    RunConfig(network=NetworkSettings(convolutions=convolution, hidden=()),
              training=TrainingSettings(distillation=DistillationConfig(hidden_weight=0)))
