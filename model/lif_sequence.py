"""A LIF layer over all timesteps at once, with its backward pass written out.

Autograd through a loop of lif_step records a dozen small operations per timestep and replays them
backwards; for the small layers of these networks that bookkeeping, not arithmetic, is most of a
training step. Here the forward pass is the lif_step loop itself (run without recording), and the
backward pass is the adjoint of the same recurrence, which keeps only the membranes before fire:

    v[t] = leak(h[t-1]) + I[t]     (h[-1] = 0; discontinuous integration: v[t] = I[t])
    s[t] = H((v[t] - theta) / theta), with the surrogate's derivative backwards
    h[t] = v[t] - s[t] theta  (subtract)  or  v[t] (1 - s[t])  (zero); the reset is not differentiated

    dL/dv[t] = dL/ds[t] * surrogate'((v[t] - theta) / theta) / theta + dL/dh[t] * dh[t]/dv[t]
    dL/dh[t] = decay * dL/dv[t+1]      (decay = beta, 1 - 2^-k for a shift k, 1 without leak)
    dL/dI[t] = dL/dv[t];   dL/dbeta = sum over t and the batch of dL/dv[t] * h[t-1]

The shift leak's floor has a straight-through gradient in lif_step, so its adjoint uses 1 - 2^-k in
integer mode too. tests/model/test_lif_sequence.py checks these gradients against autograd through
the lif_step loop in every mode.
"""

from __future__ import annotations

import torch

from .compiled import Integration, Reset
from .neuron import LIFParameters, lif_step


def lif_sequence(currents: torch.Tensor, p: LIFParameters, *, timesteps: int, integer: bool) -> torch.Tensor:
    """Spikes (B, T, n) of a spiking LIF layer driven by `currents` (B, T, n), or by (B, n) held
    constant over the `timesteps` (direct-current input). Equals lif_step applied step by step."""
    if not p.spiking:
        raise ValueError("lif_sequence runs spiking layers; the non-spiking readout is the sum of its currents")
    if currents.dim() == 3 and currents.shape[1] != timesteps:
        raise ValueError(f"currents have {currents.shape[1]} timesteps, not {timesteps}")
    beta = p.beta if isinstance(p.beta, torch.Tensor) else None
    return _LIFSequence.apply(currents, beta, p, timesteps, integer)


def run_lif_steps(currents: torch.Tensor, p: LIFParameters, *, timesteps: int, integer: bool
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """(spikes, membranes before fire), each (B, T, n): lif_step over every timestep, from rest."""
    constant = currents.dim() == 2
    v = torch.zeros_like(currents if constant else currents[:, 0])
    before_fire, spikes = [], []
    for t in range(timesteps):
        s, v, before = lif_step(currents if constant else currents[:, t], v, p, integer=integer)
        before_fire.append(before)
        spikes.append(s)
    return torch.stack(spikes, dim=1), torch.stack(before_fire, dim=1)


def spike_slope(v: torch.Tensor, p: LIFParameters) -> torch.Tensor:
    """d spike / d membrane at membranes `v` before fire: the surrogate's derivative at (v - theta) / theta,
    over theta."""
    return p.surrogate.derivative((v - p.threshold) / p.threshold) / p.threshold


def _leak_factor(p: LIFParameters) -> float | torch.Tensor:
    """d leak(h) / dh: the decay the adjoint carries back one timestep."""
    if p.integration is Integration.DISCONTINUOUS:
        return 0.0
    if p.beta is not None:
        return p.beta.detach() if isinstance(p.beta, torch.Tensor) else p.beta
    if p.leak_shift is not None:
        return 1.0 - 2.0 ** -p.leak_shift
    return 1.0


class _LIFSequence(torch.autograd.Function):
    @staticmethod
    def forward(ctx, currents, beta, p: LIFParameters, timesteps: int, integer: bool):
        spikes, before_fire = run_lif_steps(currents, p, timesteps=timesteps, integer=integer)
        ctx.save_for_backward(before_fire)
        ctx.p, ctx.constant = p, currents.dim() == 2
        return spikes

    @staticmethod
    def backward(ctx, grad_spikes):
        (v,) = ctx.saved_tensors
        p: LIFParameters = ctx.p
        theta = p.threshold
        fired = (v >= theta).to(v.dtype)
        through_fire = grad_spikes * spike_slope(v, p)
        through_reset = 1.0 - fired if p.reset is Reset.ZERO else None
        decay = _leak_factor(p)
        grad_v = torch.empty_like(v)
        carried = torch.zeros_like(v[:, 0])  # dL/dh[t]
        for t in range(v.shape[1] - 1, -1, -1):
            g = through_fire[:, t] + (carried if through_reset is None else carried * through_reset[:, t])
            grad_v[:, t] = g
            carried = decay * g
        grad_beta = None
        if ctx.needs_input_grad[1] and p.integration is Integration.DISCONTINUOUS:
            grad_beta = torch.zeros_like(p.beta)  # the membrane never carries over: no decay to learn
        elif ctx.needs_input_grad[1]:
            after = v - fired * theta if p.reset is Reset.SUBTRACT else v * (1.0 - fired)
            grad_beta = (grad_v[:, 1:] * after[:, :-1]).sum(dim=(0, 1))
        grad_currents = grad_v.sum(dim=1) if ctx.constant else grad_v
        return grad_currents, grad_beta, None, None, None
