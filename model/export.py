"""Export a trained, quantization-aware SpikingNetwork to a CompiledNetwork, and run a compiled network
in torch (the integer forward pass QAT trains, applied to the exported integers)."""

from __future__ import annotations

import numpy as np
import torch

from .compiled import CompiledNetwork, EarlyExit, Encoding, sized_layer
from .network import LayerTensors, SNNOutput, SpikingNetwork, run_layers
from .quantize import QuantizationConfig
from .surrogate import StraightThrough
from .synapses import kernel_matrix, kernel_tensor


def export_network(model: SpikingNetwork, quantization: QuantizationConfig, *, encoding: Encoding,
                   class_names: tuple[str, ...] = (), early_exit: EarlyExit | None = None) -> CompiledNetwork:
    """The integer network; `encoding` records the input code it was trained with (InputCode.recorded_encoding)."""
    cfg = model.config
    layers = []
    with torch.no_grad():
        for (q, neuron), conv in zip(model.integer_layers(quantization), model.geometries):
            weights = q.weight.t() if conv is None else kernel_matrix(q.weight)
            layers.append(sized_layer(
                weights=weights.numpy().astype(np.int64),
                bias=q.bias.numpy().astype(np.int64),
                weight_bits=quantization.weight_bits,
                threshold=q.threshold,
                timesteps=cfg.timesteps,
                leak_shift=neuron.leak_shift,
                reset=neuron.reset,
                integration=neuron.integration,
                spiking=neuron.spiking,
                conv=conv,
            ))
    return CompiledNetwork(layers=tuple(layers), timesteps=cfg.timesteps, readout=cfg.readout,
                           encoding=encoding, early_exit=early_exit, class_names=class_names)


def compiled_forward(net: CompiledNetwork, spikes: np.ndarray) -> SNNOutput:
    """The exported integers run through the same torch code as quantization-aware training
    (float64, so sums stay exact for any membrane width)."""
    from .neuron import LIFParameters

    layers = []
    for layer in net.layers:
        neuron = LIFParameters(threshold=float(layer.threshold), leak_shift=layer.leak_shift,
                               integration=layer.integration, reset=layer.reset, spiking=layer.spiking,
                               surrogate=StraightThrough())
        weights = torch.tensor(layer.weights, dtype=torch.float64)
        weights = weights.t() if layer.conv is None else kernel_tensor(weights, layer.conv)
        layers.append(LayerTensors(weights, torch.tensor(layer.bias, dtype=torch.float64), neuron, conv=layer.conv))
    with torch.no_grad():
        return run_layers(torch.tensor(spikes, dtype=torch.float64), layers, integer=True,
                          record_spikes=True)
