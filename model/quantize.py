"""Quantization of a trained layer to the integers of the compiled network.

Per layer a scale s = max|W| / w_max maps float weights to integers W_int = round(W / s), and the
float threshold (1.0) to round(1 / s) in the same units, so the integer membrane is the float one
divided by s. The same function serves quantization-aware training (with straight-through rounding)
and export (plain integers), so what is trained is what is exported.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .compiled import MAX_WEIGHT_BITS, weight_range
from .neuron import round_ste


@dataclass(frozen=True, kw_only=True)
class QuantizationConfig:
    weight_bits: int = 8

    def __post_init__(self) -> None:
        if not isinstance(self.weight_bits, int) or isinstance(self.weight_bits, bool):
            raise TypeError(f"weight_bits must be an int, not {self.weight_bits!r}")
        if not 2 <= self.weight_bits <= MAX_WEIGHT_BITS:
            raise ValueError(f"weight_bits must be 2..{MAX_WEIGHT_BITS} for training, not {self.weight_bits}")


@dataclass(frozen=True)
class IntegerLayer:
    """Integer-valued tensors (float dtype, straight-through gradients) and the scale they share."""

    weight: torch.Tensor  # (n_out, n_in)
    bias: torch.Tensor    # (n_out,)
    threshold: int
    scale: float


def integer_layer(weight: torch.Tensor, bias: torch.Tensor, threshold: float, config: QuantizationConfig
                  ) -> IntegerLayer:
    lo, hi = weight_range(config.weight_bits)
    scale = float(weight.detach().abs().max().clamp(min=1e-8)) / hi
    w_int = torch.clamp(round_ste(weight / scale), lo, hi)
    b_int = round_ste(bias / scale)
    return IntegerLayer(weight=w_int, bias=b_int, threshold=max(1, round(threshold / scale)), scale=scale)
