"""A float network trained on digits, then taken through QAT and export: the shared start and end
of the tests that check what export folds into a network's weights."""

from __future__ import annotations

import numpy as np
import torch

from model.compiled import CompiledNetwork, Encoding
from model.dataset import Dataset
from model.datasets import load_dataset
from model.export import export_network
from model.network import SNNConfig, SpikingNetwork
from model.quantize import QuantizationConfig
from model.synapses import kernel_matrix
from model.train import TrainConfig, train

QUANTIZATION = QuantizationConfig(weight_bits=8)


def trained_on_digits(config: SNNConfig, *, epochs: int = 10) -> tuple[SpikingNetwork, Dataset]:
    data = load_dataset("digits")
    model = SpikingNetwork(config=config, seed=0)
    train(model, data, TrainConfig(epochs=epochs, seed=0))
    return model, data


def quantized_and_exported(model: SpikingNetwork, data: Dataset) -> CompiledNetwork:
    """One epoch of QAT at 8 bits, then the network export writes (rate-coded input)."""
    train(model, data, TrainConfig(epochs=1, learning_rate=5e-4, seed=1), quantization=QUANTIZATION)
    return export_network(model, QUANTIZATION, encoding=Encoding.RATE)


def folded_integer_weights(model: SpikingNetwork, layer: int) -> np.ndarray:
    """What export should write for a layer at 8 bits: its weights with everything folded in
    (effective_layer), scaled so the largest is 127 and rounded, in the network file's (n_in, n_out)
    layout (a convolution's kernel matrix)."""
    weight = model.effective_layer(layer)[0].detach()
    matrix = kernel_matrix(weight) if model.geometries[layer] is not None else weight.T
    return torch.round(matrix / (float(weight.abs().max()) / 127)).numpy()
