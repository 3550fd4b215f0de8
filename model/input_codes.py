"""How training turns intensities into the network's input, chosen by object (TrainConfig.input_code).

Each code maps x (B, n) in [0, 1] to what SpikingMLP takes: spike frames (B, T, n) of 0/1, or the
intensities themselves as a current held over every timestep (direct coding).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


class InputCode:
    """Base of the input codes. `sends_spikes` says whether the core can take the result as events."""

    sends_spikes = True

    def __call__(self, x: torch.Tensor, timesteps: int, generator: torch.Generator) -> torch.Tensor:
        raise NotImplementedError


@dataclass(frozen=True)
class RateCode(InputCode):
    """Bernoulli rate code: input i spikes at each step with probability x[i] (fresh draws per batch)."""

    def __call__(self, x, timesteps, generator):
        return (torch.rand(x.shape[0], timesteps, x.shape[1], generator=generator) < x[:, None, :]).to(x.dtype)


@dataclass(frozen=True)
class DirectCurrent(InputCode):
    """The intensities as a constant current into the first layer every timestep (no encoding noise).
    The core takes binary events only, so a network trained this way runs in software, not on it."""

    sends_spikes = False

    def __call__(self, x, timesteps, generator):
        return x


@dataclass(frozen=True)
class LatencyCode(InputCode):
    """Time-to-first-spike: input i spikes once, at step round((1 - x[i]) (T - 1)), if x[i] > cutoff:
    brighter pixels spike earlier; dark ones never."""

    cutoff: float = 0.0

    def __call__(self, x, timesteps, generator):
        step = torch.round((1.0 - x) * (timesteps - 1)).long()
        frames = torch.nn.functional.one_hot(step.clamp(0, timesteps - 1), timesteps).to(x.dtype)  # (B, n, T)
        return (frames * (x > self.cutoff).to(x.dtype)[..., None]).transpose(1, 2)


@dataclass(frozen=True)
class EventFrames(InputCode):
    """Data that already is spike frames (B, T, n), e.g. binned event-camera recordings: sent as they are."""

    def __call__(self, x, timesteps, generator):
        if x.dim() != 3 or x.shape[1] != timesteps:
            raise ValueError(f"event frames must be (batch, {timesteps} timesteps, inputs), not {tuple(x.shape)}")
        return x
