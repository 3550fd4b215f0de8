"""Spike functions: a Heaviside step forward (spike when x >= 0) and a chosen surrogate derivative
backward. x is (V - threshold) / threshold, so one width suits float and integer-unit membranes."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


class _Spike(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, surrogate: "Surrogate") -> torch.Tensor:
        ctx.save_for_backward(x)
        ctx.surrogate = surrogate
        return (x >= 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (x,) = ctx.saved_tensors
        return grad * ctx.surrogate.derivative(x), None


class _MembraneSpike(torch.autograd.Function):
    """H(v - threshold) of the membrane itself, the surrogate's derivative at (v - threshold) / threshold
    backwards: one comparison forward where normalizing first would cost a subtraction and a division
    (and their backward nodes) at every timestep; the training benchmark measures the difference."""

    @staticmethod
    def forward(ctx, v: torch.Tensor, threshold: float, surrogate: "Surrogate") -> torch.Tensor:
        ctx.save_for_backward(v)
        ctx.threshold, ctx.surrogate = threshold, surrogate
        return (v >= threshold).to(v.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (v,) = ctx.saved_tensors
        return grad * ctx.surrogate.membrane_slope(v, ctx.threshold), None, None


class Surrogate:
    """Base of the surrogate gradients: call it on x to spike; derivative(x) is the backward pass."""

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return _Spike.apply(x, self)

    def spike(self, v: torch.Tensor, threshold: float) -> torch.Tensor:
        """H(v - threshold), differentiated as self((v - threshold) / threshold) is, for a threshold > 0."""
        return _MembraneSpike.apply(v, threshold, self)

    def membrane_slope(self, v: torch.Tensor, threshold: float) -> torch.Tensor:
        """d spike / d membrane at membranes `v`: the derivative at (v - threshold) / threshold, over threshold."""
        x = v - threshold
        if threshold == 1.0:  # float training's threshold: dividing by it changes nothing
            return self.derivative(x)
        return self.derivative(x.div_(threshold)).div_(threshold)

    def derivative(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


@dataclass(frozen=True)
class StraightThrough(Surrogate):
    """STE of binarized networks: d spike / dx = 1 for |x| <= width, 0 outside."""

    width: float = 0.5

    def derivative(self, x):
        return (x.abs() <= self.width).to(x.dtype)


@dataclass(frozen=True)
class FastSigmoid(Surrogate):
    """d spike / dx = 1 / (1 + slope |x|)^2 (SuperSpike)."""

    slope: float = 10.0

    def derivative(self, x):
        return x.abs().mul_(self.slope).add_(1.0).pow_(-2)  # in place on the new |x|: one allocation


@dataclass(frozen=True)
class ArcTan(Surrogate):
    """d spike / dx = alpha / 2 / (1 + (pi alpha x / 2)^2)."""

    alpha: float = 2.0

    def derivative(self, x):
        return self.alpha / 2 / (1 + (math.pi / 2 * self.alpha * x) ** 2)


@dataclass(frozen=True)
class Triangle(Surrogate):
    """d spike / dx = max(0, 1 - |x| / width) / width."""

    width: float = 1.0

    def derivative(self, x):
        return torch.clamp(1 - x.abs() / self.width, min=0) / self.width


SURROGATES = {"straight-through": StraightThrough, "fast-sigmoid": FastSigmoid, "arctan": ArcTan,
              "triangle": Triangle}
