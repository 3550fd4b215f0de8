"""How much autograd keeps for the backward pass: the bytes of every tensor saved while a forward
pass runs (the memory a training method trades; the process's peak also holds data and buffers)."""

from __future__ import annotations

from typing import Callable

import torch


def saved_tensor_bytes(forward: Callable[[], torch.Tensor]) -> int:
    """Bytes autograd saves while `forward()` builds its graph (a tensor saved twice counts twice)."""
    total = 0

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        nonlocal total
        total += tensor.numel() * tensor.element_size()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        forward()
    return total
