"""The LIF neuron as a pure step function, in float units for training and in integer units for
quantization-aware training (the integer form is ../shared/DESIGN.md's semantics exactly)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .compiled import Integration, Reset
from .surrogate import Surrogate


def round_ste(x: torch.Tensor) -> torch.Tensor:
    """round(x) forward, identity backward (straight-through estimator)."""
    return x + (torch.round(x) - x).detach()


def floor_ste(x: torch.Tensor) -> torch.Tensor:
    """floor(x) forward, identity backward."""
    return x + (torch.floor(x) - x).detach()


@dataclass(frozen=True, kw_only=True, eq=False)
class LIFParameters:
    """threshold is in membrane units (1.0 in float training, an integer under quantization);
    leak_shift k gives the decay V -= V / 2^k (float) or V -= V >> k (integer). beta, in float
    training only, replaces the shift by V = beta V: a number, or a per-neuron tensor (DA-LIF's
    learnable temporal decay); export maps it to a shift."""

    threshold: float
    leak_shift: int | None
    integration: Integration
    reset: Reset
    spiking: bool
    surrogate: Surrogate
    beta: float | torch.Tensor | None = None

    def __post_init__(self) -> None:
        if self.beta is not None and self.leak_shift is not None:
            raise ValueError("give the decay as leak_shift (hardware) or as beta (float training), not both")


def lif_step(current: torch.Tensor, v: torch.Tensor, p: LIFParameters, *, integer: bool,
             fired_before: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One timestep: V = leak(V) + current; s = H(V - threshold); V = reset(V, s).

    current includes the bias. Returns (spikes, membrane after reset, membrane before fire); a
    non-spiking layer returns no spikes and keeps its membrane (the readout accumulator).
    In integer mode the leak is V - floor(V / 2^k), the arithmetic shift of the hardware; the
    additions are exact as long as the membrane cannot saturate, which export guarantees by sizing.
    Reset.SUBTRACT_AFTER_LEAK leaves the membrane as it was at the spike and subtracts the threshold
    after the next step's leak, from `fired_before` (the previous step's spikes; None at the first).
    """
    if p.integration is Integration.DISCONTINUOUS:
        v = torch.zeros_like(current)
    elif p.beta is not None:
        if integer:
            raise ValueError("a float decay (beta) has no integer form: map it to a leak shift first")
        v = p.beta * v
    elif p.leak_shift is not None:
        decay = v / (1 << p.leak_shift)
        v = v - (floor_ste(decay) if integer else decay)
    if p.reset is Reset.SUBTRACT_AFTER_LEAK and fired_before is not None:
        v = v.sub(fired_before.detach(), alpha=p.threshold)
    v = v + current
    if not p.spiking:
        return torch.zeros_like(v), v, v
    s = p.surrogate.spike(v, p.threshold)
    fired = s.detach()
    if p.reset is Reset.SUBTRACT:
        after = v.sub(fired, alpha=p.threshold)  # v - fired * threshold in one operation
    elif p.reset is Reset.SUBTRACT_AFTER_LEAK:
        after = v  # the threshold comes off after the next leak
    else:
        after = v * (1 - fired)
    return s, after, v
