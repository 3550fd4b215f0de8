"""Rate-based backpropagation: the forward pass runs the full LIF dynamics, the backward pass goes
through the time-averaged (rate) relation between layers instead of through time.

Per spiking layer, with r_in the input rate (mean over timesteps of the input frames) and
i = r_in W^T + b the mean current:

    forward    the spikes s[t] of lif_step over all timesteps, without recording a graph;
               r_out = mean_t s[t] (the value the next layer sees, exactly as under BPTT)
    backward   d r_out / d i = mean_t surrogate'((v[t] - theta) / theta) / theta   (per neuron)

so the graph keeps, per layer, the input rates and one averaged derivative: memory that does not
grow with T, and a backward pass of one product per layer. A non-spiking readout layer sums its
currents, T (r_in W^T + b), which the rate path differentiates exactly. Forward values (and so
predictions and the integer semantics under quantization) are those of BPTT; only the gradients
are approximated.
"""

from __future__ import annotations

import torch

from .neuron import LIFParameters, lif_step


def rate_based_layer(frames: torch.Tensor, rate: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
                     neuron: LIFParameters, *, timesteps: int, integer: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """(output frames (B, T, n_out) without gradient, output rate (B, n_out) with the rate gradient).

    frames: the input spike frames (B, T, n_in), or (B, n_in) held constant; rate: their mean over
    time, carrying the gradient of the layers before."""
    with torch.no_grad():
        currents = frames @ weight.t() + bias
        v = torch.zeros(currents.shape[0], currents.shape[-1], dtype=currents.dtype)
        spikes, slope = [], torch.zeros_like(v)
        for t in range(timesteps):
            s, v_after, v_before = lif_step(currents if currents.dim() == 2 else currents[:, t], v, neuron,
                                            integer=integer)
            slope += neuron.surrogate.derivative((v_before - neuron.threshold) / neuron.threshold)
            spikes.append(s)
            v = v_after
        frames_out = torch.stack(spikes, dim=1)
        slope /= timesteps * neuron.threshold
    mean_current = rate @ weight.t() + bias
    linear = mean_current * slope
    return frames_out, frames_out.mean(dim=1) + (linear - linear.detach())
