"""A fully connected spiking network: parameters in nn.Linear layers, dynamics from lif_step (via lif_sequence)."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from .compiled import Integration, Readout, Reset
from .lif_sequence import lif_sequence
from .neuron import LIFParameters
from .quantize import QuantizationConfig, integer_layer
from .surrogate import FastSigmoid, Surrogate

# Shifts tried when a float decay is mapped to hardware; 1 - 2^-15 is as close to no leak as matters.
MAX_LEAK_SHIFT = 15
# Spike-count readouts become logits as count / T times this gain (a count of T is confident).
SPIKE_COUNT_LOGIT_GAIN = 8.0


@dataclass(frozen=True, kw_only=True)
class SNNConfig:
    """sizes: (inputs, hidden..., classes). The hidden layers (and a spiking output layer) share the
    neuron settings; a MEMBRANE readout makes the output layer a leak-free accumulator.
    The decay is a hardware shift (leak_shift k: V -= V >> k), or, with leak_shift=None, a float
    factor beta (V = beta V) for float training, which the integer forward and export replace by the
    nearest shift (nearest_leak_shift)."""

    sizes: tuple[int, ...]
    timesteps: int
    leak_shift: int | None = 3
    integration: Integration = Integration.CONTINUOUS
    reset: Reset = Reset.SUBTRACT
    readout: Readout = Readout.MEMBRANE
    surrogate: Surrogate = field(default_factory=FastSigmoid)
    threshold: float = 1.0
    beta: float | None = None

    def __post_init__(self) -> None:
        if len(self.sizes) < 2 or not all(isinstance(n, int) and n >= 1 for n in self.sizes):
            raise ValueError(f"sizes must be two or more positive ints (inputs, ..., classes), not {self.sizes!r}")
        if not isinstance(self.timesteps, int) or self.timesteps < 1:
            raise ValueError(f"timesteps must be a positive int, not {self.timesteps!r}")
        if self.leak_shift is not None and (not isinstance(self.leak_shift, int) or self.leak_shift < 1):
            raise ValueError(f"leak_shift must be None or a positive int, not {self.leak_shift!r}")
        if not isinstance(self.surrogate, Surrogate):
            raise TypeError(f"surrogate must be a Surrogate object, not {self.surrogate!r}")
        if self.threshold <= 0:
            raise ValueError(f"threshold must be > 0, not {self.threshold}")
        if self.beta is not None:
            if not 0 < self.beta < 1:
                raise ValueError(f"beta must be in (0, 1), not {self.beta}")
            if self.leak_shift is not None:
                raise ValueError("give the decay as leak_shift or as beta (with leak_shift=None), not both")

    def neuron(self, layer: int, threshold: float, *, integer: bool) -> LIFParameters:
        """The layer's neuron; `integer` asks for the hardware's form (a shift for a beta decay)."""
        output = layer == len(self.sizes) - 2
        if output and self.readout is Readout.MEMBRANE:
            return LIFParameters(threshold=threshold, leak_shift=None, integration=Integration.CONTINUOUS,
                                 reset=self.reset, spiking=False, surrogate=self.surrogate)
        leak = {"leak_shift": self.leak_shift}
        if self.beta is not None:
            leak = {"leak_shift": nearest_leak_shift(self.beta)} if integer else {"leak_shift": None, "beta": self.beta}
        return LIFParameters(threshold=threshold, integration=self.integration, reset=self.reset, spiking=True,
                             surrogate=self.surrogate, **leak)


def nearest_leak_shift(beta: float) -> int:
    """The shift k whose decay 1 - 2^-k is nearest to beta."""
    return min(range(1, MAX_LEAK_SHIFT + 1), key=lambda k: abs(1.0 - 2.0 ** -k - beta))


@dataclass(frozen=True)
class SNNOutput:
    logits: torch.Tensor             # (B, C) for the loss
    readout: torch.Tensor            # (B, C) in membrane units (integers when quantized)
    spikes: tuple[torch.Tensor, ...]  # per layer (B, T, n_out); empty unless record_spikes


class SpikingMLP(nn.Module):
    def __init__(self, *, config: SNNConfig, seed: int = 0):
        super().__init__()
        if not isinstance(config, SNNConfig):
            raise TypeError(f"config must be an SNNConfig, not {type(config).__name__}")
        self.config = config
        generator_state = torch.random.get_rng_state()
        torch.manual_seed(seed)
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(config.sizes[:-1], config.sizes[1:]))
        torch.random.set_rng_state(generator_state)

    def forward(self, inputs: torch.Tensor, *, quantization: QuantizationConfig | None = None,
                record_spikes: bool = False) -> SNNOutput:
        """inputs: spike frames (B, T, n_inputs) of 0/1, or (B, n_inputs) values fed as a constant
        current every timestep. With `quantization`, every layer runs in integer units with the
        weights, biases and thresholds export will write (fake quantization)."""
        cfg = self.config
        layers, output_scale = [], 1.0
        for k, linear in enumerate(self.layers):
            if quantization is None:
                layers.append(LayerTensors(linear.weight, linear.bias, cfg.neuron(k, cfg.threshold, integer=False)))
            else:
                q = integer_layer(linear.weight, linear.bias, cfg.threshold, quantization)
                layers.append(LayerTensors(q.weight, q.bias, cfg.neuron(k, float(q.threshold), integer=True)))
                output_scale = q.scale
        return run_layers(inputs, layers, integer=quantization is not None, timesteps=cfg.timesteps,
                          output_scale=output_scale, record_spikes=record_spikes)


@dataclass(frozen=True)
class LayerTensors:
    weight: torch.Tensor  # (n_out, n_in)
    bias: torch.Tensor
    neuron: LIFParameters


def run_layers(inputs: torch.Tensor, layers: list[LayerTensors], *, integer: bool,
               timesteps: int | None = None, output_scale: float = 1.0, record_spikes: bool = False) -> SNNOutput:
    """Every layer over every timestep: current = x W^T + b, then the LIF dynamics (lif_sequence).

    inputs: spike frames (B, T, n), or (B, n) values held for `timesteps` steps (direct current into
    the first layer). A feed-forward layer needs only the previous layer's spikes, so the layers run
    one after another over all timesteps, each with one matrix product. The non-spiking readout
    layer never leaks or resets, so its membrane at the end is the sum of its currents.
    Logits: the output membrane x output_scale / T, or the spike count x gain / T.
    """
    steps = inputs.shape[1] if inputs.dim() == 3 else timesteps
    if steps is None:
        raise ValueError("direct-current inputs (B, n) need the number of timesteps")
    x = inputs
    recorded = []
    for layer in layers[:-1]:
        x = lif_sequence(x @ layer.weight.t() + layer.bias, layer.neuron, timesteps=steps, integer=integer)
        recorded.append(x.detach())
    last = layers[-1]
    if last.neuron.spiking:
        x = lif_sequence(x @ last.weight.t() + last.bias, last.neuron, timesteps=steps, integer=integer)
        recorded.append(x.detach())
        readout = x.sum(dim=1)
        logits = readout * (SPIKE_COUNT_LOGIT_GAIN / steps)
    else:
        total_input = x.sum(dim=1) if x.dim() == 3 else x * steps
        readout = total_input @ last.weight.t() + steps * last.bias
        recorded.append(torch.zeros(readout.shape[0], steps, readout.shape[1], dtype=readout.dtype))
        logits = readout * (output_scale / steps)
    return SNNOutput(logits=logits, readout=readout, spikes=tuple(recorded) if record_spikes else ())
