"""A LIF layer over all timesteps: lif_step applied step by step, differentiated by autograd.

A hand-written adjoint of this recurrence lived here until the training benchmark compared it with
plain autograd doing the same work (first layer hoisted, accumulator readout; `make bench`,
training.*): autograd through the loop was faster (backward 5.4 ms against 12 ms per batch of 128 on
784-256-10, T=8), so the plain form stays and the hand-written one went.

    v[t] = leak(h[t-1]) + I[t]     (h[-1] = 0; discontinuous integration: v[t] = I[t])
    s[t] = H((v[t] - theta) / theta), with the surrogate's derivative backwards
    h[t] = v[t] - s[t] theta  (subtract)  or  v[t] (1 - s[t])  (zero); the reset is not differentiated
    subtract_after_leak: h[t] = v[t] and v[t] = leak(h[t-1]) - s[t-1] theta + I[t]
"""

from __future__ import annotations

import torch

from .neuron import LIFParameters, lif_step


def lif_sequence(currents: torch.Tensor, p: LIFParameters, *, timesteps: int, integer: bool) -> torch.Tensor:
    """Spikes (B, T, n) of a spiking LIF layer driven by `currents` (B, T, n), or by (B, n) held
    constant over the `timesteps` (direct-current input)."""
    if not p.spiking:
        raise ValueError("lif_sequence runs spiking layers; the non-spiking readout is the sum of its currents")
    if currents.dim() == 3 and currents.shape[1] != timesteps:
        raise ValueError(f"currents have {currents.shape[1]} timesteps, not {timesteps}")
    return run_lif_steps(currents, p, timesteps=timesteps, integer=integer, keep_membranes=False)[0]


def run_lif_steps(currents: torch.Tensor, p: LIFParameters, *, timesteps: int, integer: bool,
                  keep_membranes: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(spikes, membranes before fire or None), each (B, T, n): lif_step over every timestep, from rest."""
    constant = currents.dim() == 2
    v = torch.zeros_like(currents if constant else currents[:, 0])
    before_fire, spikes = [], []
    s = None
    for t in range(timesteps):
        s, v, before = lif_step(currents if constant else currents[:, t], v, p, integer=integer, fired_before=s)
        spikes.append(s)
        if keep_membranes:
            before_fire.append(before)
    return torch.stack(spikes, dim=1), torch.stack(before_fire, dim=1) if keep_membranes else None


def spike_slope(v: torch.Tensor, p: LIFParameters) -> torch.Tensor:
    """d spike / d membrane at membranes `v` before fire: the surrogate's derivative at (v - theta) / theta,
    over theta."""
    return p.surrogate.membrane_slope(v, p.threshold)
