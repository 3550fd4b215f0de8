"""A spiking network of convolution and fully connected layers: parameters in nn.Conv2d and nn.Linear
layers, currents from model/synapses.py, dynamics from lif_step (via lif_sequence)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from .compiled import MAX_MEMBRANE_BITS, Integration, Readout, Reset
from .convolution import ConvGeometry, ConvShape, chain_geometries
from .lif_sequence import lif_sequence
from .neuron import LIFParameters
from .rate_backprop import rate_based_layer
from .quantize import IntegerLayer, QuantizationConfig, integer_layer
from .surrogate import FastSigmoid, Surrogate
from .synapses import synaptic_current

# Shifts tried when a float decay is mapped to hardware; 1 - 2^-15 is as close to no leak as matters.
MAX_LEAK_SHIFT = 15
# Spike-count readouts become logits as count / T times this gain (a count of T is confident).
SPIKE_COUNT_LOGIT_GAIN = 8.0


@dataclass(frozen=True, kw_only=True)
class SNNConfig:
    """sizes: (inputs, hidden..., classes). With `convolutions` (on an `image` of (channels, height,
    width), inputs = channels * height * width in channel-last order), the convolutions come first and
    the fully connected layers sizes[1:] follow, the first taking the last convolution's output.
    The hidden layers (and a spiking output layer) share the neuron settings; a MEMBRANE readout makes the output layer a leak-free accumulator.
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
    dual_adaptive: bool = False  # DA-LIF: learnable temporal decay and input scale per hidden neuron
    # Batch normalisation of each spiking layer's current per output channel, over the batch, the
    # timesteps and a map's positions, in float training only: the core has no such unit, so the
    # learned scale and shift and the running statistics are folded into the layer's weights and
    # bias (effective_layer) for evaluation, QAT and export.
    batch_norm: bool = False
    image: tuple[int, int, int] | None = None
    convolutions: tuple[ConvShape, ...] = ()

    def __post_init__(self) -> None:
        if len(self.sizes) < 2 or not all(isinstance(n, int) and n >= 1 for n in self.sizes):
            raise ValueError(f"sizes must be two or more positive ints (inputs, ..., classes), not {self.sizes!r}")
        if self.convolutions:
            if self.image is None or len(self.image) != 3 or self.image[0] * self.image[1] * self.image[2] != self.sizes[0]:
                raise ValueError(f"convolutions need the image's (channels, height, width), whose product is the "
                                 f"{self.sizes[0]} inputs; not {self.image!r}")
            chain_geometries(self.image, self.convolutions)  # raises on sizes that do not fit
            if self.dual_adaptive:
                raise ValueError("DA-LIF's per-neuron input scale cannot be folded into a convolution's shared "
                                 "weights: train convolutional networks without dual_adaptive")
        if not isinstance(self.timesteps, int) or self.timesteps < 1:
            raise ValueError(f"timesteps must be a positive int, not {self.timesteps!r}")
        if self.leak_shift is not None and (not isinstance(self.leak_shift, int) or
                                            not 1 <= self.leak_shift < MAX_MEMBRANE_BITS):
            raise ValueError(f"leak_shift must be None or 1..{MAX_MEMBRANE_BITS - 1} (narrower than the widest "
                             f"membrane), not {self.leak_shift!r}")
        if not isinstance(self.surrogate, Surrogate):
            raise TypeError(f"surrogate must be a Surrogate object, not {self.surrogate!r}")
        if self.threshold <= 0:
            raise ValueError(f"threshold must be > 0, not {self.threshold}")
        if self.beta is not None:
            if not 0 < self.beta < 1:
                raise ValueError(f"beta must be in (0, 1), not {self.beta}")
            if self.leak_shift is not None:
                raise ValueError("give the decay as leak_shift or as beta (with leak_shift=None), not both")
        if not isinstance(self.batch_norm, bool):
            raise TypeError(f"batch_norm must be a bool, not {self.batch_norm!r}")
        if self.batch_norm and self.dual_adaptive:
            raise ValueError("batch normalisation learns each neuron's input scale itself: use batch_norm "
                             "(--batch-norm) or dual_adaptive (DA-LIF, --da-lif), not both")
        if self.dual_adaptive and self.integration is not Integration.CONTINUOUS:
            raise ValueError("DA-LIF learns how the membrane decays across timesteps: it needs continuous integration")

    def geometries(self) -> list[ConvGeometry | None]:
        """Per layer, its convolution (None for a fully connected layer)."""
        convs = chain_geometries(self.image, self.convolutions) if self.convolutions else []
        return [*convs, *([None] * (len(self.sizes) - 1))]

    def layer_sizes(self) -> list[tuple[int, int]]:
        """Per layer, (n_in, n_out)."""
        convs = self.geometries()[:len(self.convolutions)]
        dense_in = convs[-1].n_out if convs else self.sizes[0]
        return [(g.n_in, g.n_out) for g in convs] + list(zip((dense_in, *self.sizes[1:-1]), self.sizes[1:]))

    @property
    def n_layers(self) -> int:
        return len(self.convolutions) + len(self.sizes) - 1

    def spiking(self, layer: int) -> bool:
        """Whether the layer's neurons spike (all but a MEMBRANE readout)."""
        return layer < self.n_layers - 1 or self.readout is Readout.SPIKE_COUNT

    def channels(self, layer: int) -> int:
        """The layer's output channels: a convolution's maps, else its neurons."""
        geometry = self.geometries()[layer]
        return self.layer_sizes()[layer][1] if geometry is None else geometry.out_channels

    @property
    def initial_decay(self) -> float:
        """The decay a DA-LIF neuron starts from: beta, or the shift's 1 - 2^-k, or 0.95 without a leak."""
        if self.beta is not None:
            return self.beta
        return 1.0 - 2.0 ** -self.leak_shift if self.leak_shift is not None else 0.95

    def neuron(self, layer: int, threshold: float, *, hardware_decay: bool) -> LIFParameters:
        """The layer's neuron; `hardware_decay` asks for the core's decay (a shift for a beta decay),
        which the integer forward always uses."""
        output = layer == self.n_layers - 1
        if output and self.readout is Readout.MEMBRANE:
            return LIFParameters(threshold=threshold, leak_shift=None, integration=Integration.CONTINUOUS,
                                 reset=self.reset, spiking=False, surrogate=self.surrogate)
        leak = {"leak_shift": self.leak_shift}
        if self.beta is not None:
            leak = ({"leak_shift": nearest_leak_shift(self.beta)} if hardware_decay
                    else {"leak_shift": None, "beta": self.beta})
        return LIFParameters(threshold=threshold, integration=self.integration, reset=self.reset, spiking=True,
                             surrogate=self.surrogate, **leak)


def nearest_leak_shift(beta: float) -> int:
    """The shift k whose decay 1 - 2^-k is nearest to beta."""
    return min(range(1, MAX_LEAK_SHIFT + 1), key=lambda k: abs(1.0 - 2.0 ** -k - beta))


@dataclass(frozen=True)
class SNNOutput:
    logits: torch.Tensor             # (B, C) for the loss
    readout: torch.Tensor            # (B, C) in membrane units (integers when quantized)
    spikes: tuple[torch.Tensor, ...]  # per layer (B, T, n_out), with gradient; empty unless record_spikes


class SpikingNetwork(nn.Module):
    """Convolution (nn.Conv2d, channel-last spike maps) and linear layers with LIF neurons. With config.dual_adaptive (DA-LIF), every spiking hidden layer
    also learns per neuron a temporal decay beta = sigmoid(decay_logit) and a spatial (input) scale
    alpha = exp(log_input_scale): V[t] = beta H[t-1] + alpha (x[t] W^T + b).

    The core has integer weights and one leak shift per layer, so the integer forward (and export)
    folds alpha into the layer's weights and bias (alpha_j scales row j: the same current, exactly)
    and replaces the betas by the shift nearest to their mean (the one approximation; its cost is the
    float accuracy before and after it, which the quantize step reports)."""

    def __init__(self, *, config: SNNConfig, seed: int = 0):
        super().__init__()
        if not isinstance(config, SNNConfig):
            raise TypeError(f"config must be an SNNConfig, not {type(config).__name__}")
        self.config = config
        generator_state = torch.random.get_rng_state()
        torch.manual_seed(seed)
        self.geometries = config.geometries()
        self.layers = nn.ModuleList(
            nn.Linear(n_in, n_out) if g is None else
            nn.Conv2d(g.in_channels, g.out_channels, g.kernel, stride=g.stride, padding=g.padding)
            for (n_in, n_out), g in zip(config.layer_sizes(), self.geometries))
        torch.random.set_rng_state(generator_state)
        adaptive = [n for k, (_, n) in enumerate(config.layer_sizes()) if config.dual_adaptive and config.spiking(k)]
        logit = math.log(config.initial_decay / (1.0 - config.initial_decay))
        self.decay_logits = nn.ParameterList(nn.Parameter(torch.full((n,), logit)) for n in adaptive)
        self.log_input_scales = nn.ParameterList(nn.Parameter(torch.zeros(n)) for n in adaptive)
        # The spiking layers come first, so norms[k] is layer k's.
        self.norms = nn.ModuleList(nn.BatchNorm1d(config.channels(k)) for k in range(config.n_layers)
                                   if config.batch_norm and config.spiking(k))

    def decays(self, layer: int) -> torch.Tensor | None:
        """DA-LIF's per-neuron temporal decays of a layer (None for a plain LIF layer)."""
        return torch.sigmoid(self.decay_logits[layer]) if layer < len(self.decay_logits) else None

    def effective_layer(self, layer: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The layer's weight and bias with DA-LIF's input scale, or its batch normalisation (with the
        running statistics), folded in: what the core computes."""
        linear = self.layers[layer]
        if layer < len(self.log_input_scales):
            alpha = torch.exp(self.log_input_scales[layer])
            return linear.weight * alpha[:, None], linear.bias * alpha
        if layer < len(self.norms):
            norm = self.norms[layer]
            scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
            per_output = scale.reshape(-1, *([1] * (linear.weight.dim() - 1)))
            return linear.weight * per_output, (linear.bias - norm.running_mean) * scale + norm.bias
        return linear.weight, linear.bias

    def _float_layer(self, layer: int, *, hardware_decays: bool) -> LayerTensors:
        """The layer for the float forward: in training, batch normalisation runs on the batch's
        statistics (and updates the running ones); otherwise it is folded in (effective_layer)."""
        neuron = self.neuron(layer, self.config.threshold, hardware_decay=hardware_decays)
        conv = self.geometries[layer]
        if self.training and layer < len(self.norms):
            linear, norm = self.layers[layer], self.norms[layer]
            return LayerTensors(linear.weight, linear.bias, neuron, conv=conv,
                                normalize=lambda current: norm(current.reshape(-1, norm.num_features)
                                                               ).reshape(current.shape))
        return LayerTensors(*self.effective_layer(layer), neuron, conv=conv)

    def mapped_leak_shift(self, layer: int) -> int | None:
        """The hardware shift a DA-LIF layer's decays map to (nearest to their mean)."""
        decays = self.decays(layer)
        return None if decays is None else nearest_leak_shift(float(decays.detach().mean()))

    def neuron(self, layer: int, threshold: float, *, hardware_decay: bool) -> LIFParameters:
        neuron = self.config.neuron(layer, threshold, hardware_decay=hardware_decay)
        decays = self.decays(layer)
        if decays is None:
            return neuron
        if hardware_decay:
            return dataclasses.replace(neuron, leak_shift=self.mapped_leak_shift(layer), beta=None)
        return dataclasses.replace(neuron, leak_shift=None, beta=decays)

    def integer_layers(self, quantization: QuantizationConfig) -> list[tuple[IntegerLayer, LIFParameters]]:
        """What the core runs: each layer's integers (straight-through gradients) and its neuron."""
        out = []
        for k in range(len(self.layers)):
            weight, bias = self.effective_layer(k)
            q = integer_layer(weight, bias, self.config.threshold, quantization)
            out.append((q, self.neuron(k, float(q.threshold), hardware_decay=True)))
        return out

    def forward(self, inputs: torch.Tensor, *, quantization: QuantizationConfig | None = None,
                record_spikes: bool = False, rate_based: bool = False, hardware_decays: bool = False) -> SNNOutput:
        """inputs: spike frames (B, T, n_inputs) of 0/1, or (B, n_inputs) values fed as a constant
        current every timestep. With `quantization`, every layer runs in integer units with the
        weights, biases and thresholds export will write (fake quantization). hardware_decays runs
        the float model with the decays the core will have (what mapping DA-LIF's decays costs)."""
        cfg = self.config
        if quantization is None:
            layers = [self._float_layer(k, hardware_decays=hardware_decays) for k in range(len(self.layers))]
            output_scale = 1.0
        else:
            integer = self.integer_layers(quantization)
            layers = [LayerTensors(q.weight, q.bias, neuron, conv=g) for (q, neuron), g in zip(integer, self.geometries)]
            output_scale = integer[-1][0].scale
        return run_layers(inputs, layers, integer=quantization is not None, timesteps=cfg.timesteps,
                          output_scale=output_scale, record_spikes=record_spikes, rate_based=rate_based)


@dataclass(frozen=True)
class LayerTensors:
    weight: torch.Tensor  # (n_out, n_in); a convolution's torch kernel (out, in, k, k)
    bias: torch.Tensor    # (n_out,); a convolution's (out_channels,)
    neuron: LIFParameters
    conv: ConvGeometry | None = None
    # Applied to the current (B, T, n_out) before the neurons: batch normalisation in float training.
    normalize: Callable[[torch.Tensor], torch.Tensor] | None = None


def run_layers(inputs: torch.Tensor, layers: list[LayerTensors], *, integer: bool,
               timesteps: int | None = None, output_scale: float = 1.0, record_spikes: bool = False,
               rate_based: bool = False) -> SNNOutput:
    """Every layer over every timestep: current = x W^T + b, then the LIF dynamics (lif_sequence).

    inputs: spike frames (B, T, n), or (B, n) values held for `timesteps` steps (direct current into
    the first layer). A feed-forward layer needs only the previous layer's spikes, so the layers run
    one after another over all timesteps, each with one matrix product. The non-spiking readout
    layer never leaks or resets, so its membrane at the end is the sum of its currents.
    Logits: the output membrane x output_scale / T, or the spike count x gain / T.
    rate_based: the same forward values, gradients through the layers' rates (model/rate_backprop.py).
    """
    steps = inputs.shape[1] if inputs.dim() == 3 else timesteps
    if steps is None:
        raise ValueError("direct-current inputs (B, n) need the number of timesteps")
    # x: the frames a layer receives; counts: their sum over time, which the readout needs and
    # through which the rate-based gradient flows.
    x = inputs
    spiking = layers if layers[-1].neuron.spiking else layers[:-1]
    # Made here only where a layer needs the input's counts (the spiking layers' loop replaces them).
    counts = None if spiking and not rate_based else inputs.sum(dim=1) if inputs.dim() == 3 else inputs * steps
    recorded = []
    for layer in spiking:
        if rate_based:
            if layer.normalize is not None:
                raise ValueError("rate-based backpropagation runs without batch normalisation: train through time")
            x, counts = rate_based_layer(x, counts, layer.weight, layer.bias, layer.neuron, timesteps=steps,
                                         integer=integer, conv=layer.conv)
        else:
            current = synaptic_current(x, layer.weight, layer.bias, layer.conv)
            if layer.normalize is not None:
                current = layer.normalize(current)
            x = lif_sequence(current, layer.neuron, timesteps=steps, integer=integer)
            counts = x.sum(dim=1)
        recorded.append(x)  # with gradient: distillation's intermediate path trains through it
    if layers[-1].neuron.spiking:
        readout = counts
        logits = readout * (SPIKE_COUNT_LOGIT_GAIN / steps)
    else:
        last = layers[-1]
        readout = synaptic_current(counts, last.weight, steps * last.bias, last.conv)
        recorded.append(torch.zeros(readout.shape[0], steps, readout.shape[1], dtype=readout.dtype))
        logits = readout * (output_scale / steps)
    return SNNOutput(logits=logits, readout=readout, spikes=tuple(recorded) if record_spikes else ())
