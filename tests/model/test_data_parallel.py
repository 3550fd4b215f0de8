"""Data-parallel training: two processes (torch.distributed, gloo) take the step one process takes on
the same global batch, and every row of a batch is computed by exactly one process."""

import dataclasses

import pytest
import torch

from model.data_parallel import Shard
from model.datasets import load_dataset
from model.network import SNNConfig, SpikingNetwork
from model.quantize import QuantizationConfig
from model.train import TrainConfig, train, training_device


@pytest.mark.parametrize("batch_size, world", [(10, 2), (7, 3), (2, 4), (128, 1)])
def test_the_shards_split_a_batch_into_its_rows_once_each(batch_size, world):
    rows = [Shard(rank=r, world=world).rows(batch_size) for r in range(world)]
    covered = [i for s in rows for i in range(batch_size)[s]]
    assert covered == list(range(batch_size))
    assert sum(Shard(rank=r, world=world).share(batch_size) for r in range(world)) == pytest.approx(1.0)


def test_a_place_outside_the_group_is_refused():
    with pytest.raises(ValueError, match="is not a place in the group"):
        Shard(rank=2, world=2)


@pytest.mark.parametrize("batch_size, quantization", [(96, None), (95, None), (96, QuantizationConfig(weight_bits=8))],
                         ids=["even", "odd", "quantization-aware"])
def test_two_processes_take_the_step_one_process_takes_on_the_same_global_batch(batch_size, quantization):
    data = load_dataset("digits")
    one_batch = dataclasses.replace(data, train_x=data.train_x[:batch_size], train_y=data.train_y[:batch_size])
    config = SNNConfig(sizes=(64, 16, 10), timesteps=4)
    weights = {}
    for processes in (1, 2):
        model = SpikingNetwork(config=config, seed=3)
        before = {k: v.clone() for k, v in model.state_dict().items()}
        history = train(model, one_batch, TrainConfig(epochs=1, batch_size=batch_size, processes=processes),
                        quantization=quantization)
        weights[processes] = model.state_dict()
        assert history[0].train_accuracy > 0 and history[0].loss > 0
    assert any(not torch.equal(before[k], weights[1][k]) for k in before), "the step changed nothing"
    for name, value in weights[1].items():
        # The same step up to the order of floating-point additions in the gradient sums.
        torch.testing.assert_close(weights[2][name], value, rtol=1e-5, atol=1e-6, msg=name)


def test_a_missing_cuda_device_is_named_with_what_to_do():
    if torch.cuda.is_available():
        assert training_device("cuda") == "cuda" and training_device("auto") == "cuda"
    else:
        assert training_device("auto") == "cpu"
        with pytest.raises(ValueError, match="no CUDA device .* train with --device cpu or auto"):
            training_device("cuda")
