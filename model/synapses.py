"""The synaptic current of a layer, dense or convolutional, on spike frames in the contract's channel-last
layout (model/convolution.py), and the conversions between torch's kernel tensor and the contract's
kernel matrix. Training, the integer forward and export all go through here, so they agree on layout."""

from __future__ import annotations

import torch
from torch.nn import functional as F

from .convolution import ConvGeometry


def synaptic_current(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, conv: ConvGeometry | None
                     ) -> torch.Tensor:
    """x (..., n_in) -> x W^T + b (..., n_out). A convolution: weight is torch's (out, in, k, k) kernel,
    and x and the result are flat channel-last maps."""
    if conv is None:
        return F.linear(x, weight, bias)
    lead = x.shape[:-1]
    maps = x.reshape(-1, conv.in_height, conv.in_width, conv.in_channels).permute(0, 3, 1, 2)
    out = F.conv2d(maps, weight, bias, stride=conv.stride, padding=conv.padding)
    return out.permute(0, 2, 3, 1).reshape(*lead, conv.n_out)


def kernel_matrix(kernel: torch.Tensor) -> torch.Tensor:
    """torch's (out, in, k, k) kernel as the contract's (k * k * in, out) matrix, row (ky * k + kx) * in + c."""
    out_channels, in_channels, k, _ = kernel.shape
    return kernel.permute(2, 3, 1, 0).reshape(k * k * in_channels, out_channels)


def kernel_tensor(matrix: torch.Tensor, conv: ConvGeometry) -> torch.Tensor:
    """The inverse of kernel_matrix."""
    k = conv.kernel
    return matrix.reshape(k, k, conv.in_channels, conv.out_channels).permute(3, 2, 0, 1)
