"""Rate-based backpropagation: the forward pass runs the full LIF dynamics, the backward pass goes
through the time-averaged (rate) relation between layers instead of through time.

Per spiking layer, with r_in the input rate (mean over timesteps of the input frames) and
i = r_in W^T + b the mean current:

    forward    the spikes s[t] of lif_step over all timesteps, without recording a graph;
               r_out = mean_t s[t] (the value the next layer sees, exactly as under BPTT)
    backward   d r_out / d i = mean_t surrogate'((v[t] - theta) / theta) / theta   (per neuron)

so the graph keeps, per layer, the input rates and one averaged derivative: memory that does not
grow with T, and a backward pass of one product per layer. The rates travel as spike counts
(T r), the quantities the readout sums. A non-spiking readout layer sums its currents,
T r_in W^T + T b, which the rate path differentiates exactly. Forward values (and so
predictions and the integer semantics under quantization) are those of BPTT; only the gradients
are approximated.
"""

from __future__ import annotations

import torch

from .lif_sequence import run_lif_steps, spike_slope
from .convolution import ConvGeometry
from .neuron import LIFParameters
from .synapses import synaptic_current


def rate_based_layer(frames: torch.Tensor, counts: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
                     neuron: LIFParameters, *, timesteps: int, integer: bool, conv: ConvGeometry | None = None
                     ) -> tuple[torch.Tensor, torch.Tensor]:
    """(output frames (B, T, n_out) without gradient, output spike counts (B, n_out) with the rate
    gradient). Counts (rates times T) keep the forward values exact integers under quantization.

    frames: the input spike frames (B, T, n_in), or (B, n_in) held constant; counts: their sum over
    time, carrying the gradient of the layers before."""
    with torch.no_grad():
        frames_out, before_fire = run_lif_steps(synaptic_current(frames, weight, bias, conv), neuron, timesteps=timesteps,
                                                integer=integer)
        slope = spike_slope(before_fire, neuron).mean(dim=1)
    mean_current = synaptic_current(counts / timesteps, weight, bias, conv)
    linear = timesteps * mean_current * slope  # d counts / d mean current = T x the mean slope
    return frames_out, frames_out.sum(dim=1) + (linear - linear.detach())
