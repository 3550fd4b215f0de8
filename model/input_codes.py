"""How intensities become the network's input, chosen by object (TrainConfig.input_code).

Each code maps x (B, n) in [0, 1] to what SpikingNetwork takes: spike frames (B, T, n) of 0/1, or the
intensities themselves as a current held over every timestep (direct coding). __call__ codes
training batches in torch; frames() codes a test set in numpy, seeded, as the flow sends it to the
reference and the RTL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch

from .compiled import Encoding
from .encoding import rate_encode


class InputCode:
    """Base of the input codes. `sends_spikes` says whether the core can take the result as events."""

    sends_spikes = True
    encoding: ClassVar[Encoding | None] = None  # what a compiled network records about its input

    def recorded_encoding(self) -> Encoding:
        """The Encoding a network trained on this code records, or an error if the file cannot say it."""
        if self.encoding is None:
            raise ValueError(f"{type(self).__name__} is not spikes: a network trained on it cannot be compiled")
        return self.encoding

    def __call__(self, x: torch.Tensor, timesteps: int, generator: torch.Generator) -> torch.Tensor:
        raise NotImplementedError

    def frames(self, x: np.ndarray, timesteps: int, seed: int) -> np.ndarray:
        """Spike frames (B, T, n) bool for the core; the seed serves the random codes."""
        return self(torch.tensor(np.asarray(x, dtype=np.float32)), timesteps,
                    torch.Generator().manual_seed(seed)).numpy().astype(bool)


@dataclass(frozen=True)
class RateCode(InputCode):
    """Bernoulli rate code: input i spikes at each step with probability x[i] (fresh draws per batch)."""

    encoding = Encoding.RATE

    def __call__(self, x, timesteps, generator):
        return (torch.rand(x.shape[0], timesteps, x.shape[1], generator=generator) < x[:, None, :]).to(x.dtype)

    def frames(self, x, timesteps, seed):
        return rate_encode(x, timesteps, seed=seed)


@dataclass(frozen=True)
class RegularRateCode(InputCode):
    """Deterministic rate code: input i spikes round(x[i] T) times, spread evenly, at the steps t
    (0-based) where floor((t + 1) x + 1/2) > floor(t x + 1/2). The same events as a Bernoulli code
    on average, without its sampling noise; the core takes them like any events."""

    encoding = Encoding.REGULAR_RATE

    def __call__(self, x, timesteps, generator):
        return regular_rate_frames(x, timesteps)


def regular_rate_frames(x: torch.Tensor, timesteps: int) -> torch.Tensor:
    steps = torch.arange(timesteps + 1, dtype=x.dtype)[None, :, None]
    crossings = torch.floor(steps * x[:, None, :] + 0.5)
    return crossings[:, 1:] - crossings[:, :-1]


@dataclass(frozen=True)
class DirectCurrent(InputCode):
    """The intensities as a constant current into the first layer every timestep (no encoding noise).
    The core takes binary events only, so a network trained this way runs in software, not on it."""

    sends_spikes = False

    def __call__(self, x, timesteps, generator):
        return x

    def frames(self, x, timesteps, seed):
        raise ValueError("direct-current input is not spikes: the core takes events (use a rate or latency code)")


@dataclass(frozen=True, kw_only=True)
class LatencyCode(InputCode):
    """Time-to-first-spike: input i spikes once, at step round((1 - x[i]) (T - 1)), if x[i] > cutoff:
    brighter pixels spike earlier; dark ones never."""

    cutoff: float = 0.0
    encoding = Encoding.LATENCY

    def recorded_encoding(self) -> Encoding:
        if self.cutoff != 0.0:
            raise ValueError(f"a network file records the latency code with cutoff 0 only, not {self.cutoff}")
        return self.encoding

    def __call__(self, x, timesteps, generator):
        step = torch.round((1.0 - x) * (timesteps - 1)).long()
        frames = torch.nn.functional.one_hot(step.clamp(0, timesteps - 1), timesteps).to(x.dtype)  # (B, n, T)
        return (frames * (x > self.cutoff).to(x.dtype)[..., None]).transpose(1, 2)


@dataclass(frozen=True)
class EventFrames(InputCode):
    """Data that already is spike frames (B, T, n), e.g. binned event-camera recordings: sent as they are."""

    encoding = Encoding.EVENTS

    def __call__(self, x, timesteps, generator):
        if x.dim() != 3 or x.shape[1] != timesteps:
            raise ValueError(f"event frames must be (batch, {timesteps} timesteps, inputs), not {tuple(x.shape)}")
        return x

    def frames(self, x, timesteps, seed):
        x = np.asarray(x)
        if x.ndim != 3 or x.shape[1] != timesteps:
            raise ValueError(f"event frames must be (images, {timesteps} timesteps, inputs), not {x.shape}")
        return x.astype(bool)


INPUT_CODES = {"rate": RateCode, "regular-rate": RegularRateCode, "latency": LatencyCode}


def code_for(encoding: Encoding) -> InputCode:
    """The input code that feeds a network as its file says."""
    codes = {code.encoding: code for code in (*INPUT_CODES.values(), EventFrames)}
    if encoding not in codes:
        raise ValueError("this network file does not record its input code (a version-1 file): "
                         f"give it with --input-code ({', '.join(INPUT_CODES)})")
    return codes[encoding]()
