"""The geometry of a 2-D convolution layer in the compiled network, and what it implies: the dense
matrix it stands for (the reference's view) and each input's number of taps (the cycle model's view).

numpy only, like compiled.py. Layouts (fixed by the contract, so the core, the reference and every
front end agree):
  inputs   flat index i = (y * in_width + x) * in_channels + c            (height, width, channel)
  outputs  flat index j = (oy * out_width + ox) * out_channels + o         (height, width, channel)
  weights  a (kernel * kernel * in_channels, out_channels) matrix; row r = (ky * kernel + kx) * in_channels + c
Output (oy, ox) sees input (oy * stride + ky - padding, ox * stride + kx - padding); taps that fall in
the zero padding add nothing. Channel-last keeps one position's channels in one membrane word, so the
core's lanes run across output channels and a spike map word names a position (hw/conv_taps.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np


class ConvGeometryError(ValueError):
    """A convolution whose sizes do not fit together."""


@dataclass(frozen=True, kw_only=True)
class ConvGeometry:
    in_channels: int
    in_height: int
    in_width: int
    out_channels: int
    kernel: int
    stride: int = 1
    padding: int = 0

    def __post_init__(self) -> None:
        for name in ("in_channels", "in_height", "in_width", "out_channels", "kernel", "stride"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConvGeometryError(f"convolution {name} must be a positive int, not {value!r}")
        if not isinstance(self.padding, int) or isinstance(self.padding, bool) or not 0 <= self.padding < self.kernel:
            raise ConvGeometryError(f"convolution padding must be 0..kernel-1 ({self.kernel - 1}), not {self.padding!r}")
        if self.stride > self.kernel:
            raise ConvGeometryError(
                f"convolution stride {self.stride} exceeds the kernel {self.kernel}: some inputs would reach no output"
            )
        if self.kernel > min(self.in_height, self.in_width) + 2 * self.padding:
            raise ConvGeometryError(
                f"a {self.kernel}x{self.kernel} kernel does not fit a {self.in_height}x{self.in_width} input with "
                f"padding {self.padding}"
            )

    @property
    def out_height(self) -> int:
        return (self.in_height + 2 * self.padding - self.kernel) // self.stride + 1

    @property
    def out_width(self) -> int:
        return (self.in_width + 2 * self.padding - self.kernel) // self.stride + 1

    @property
    def n_in(self) -> int:
        return self.in_height * self.in_width * self.in_channels

    @property
    def n_out(self) -> int:
        return self.out_height * self.out_width * self.out_channels

    @property
    def taps(self) -> int:
        """Rows of the weight matrix: kernel * kernel * in_channels."""
        return self.kernel * self.kernel * self.in_channels

    def as_dict(self) -> dict:
        return {"in_channels": self.in_channels, "in_height": self.in_height, "in_width": self.in_width,
                "out_channels": self.out_channels, "kernel": self.kernel, "stride": self.stride,
                "padding": self.padding}

    def output_range(self, coordinate: int, out_size: int) -> tuple[int, int]:
        """The outputs (first, last) along one axis that input `coordinate` reaches; empty if first > last.
        Output o sees coordinate o * stride + k - padding for k in 0..kernel-1."""
        shifted = coordinate + self.padding
        first = max(0, -(-(shifted - self.kernel + 1) // self.stride))
        return first, min(out_size - 1, shifted // self.stride)

    @cached_property
    def _pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Every (input position, kernel position, output position) that a tap joins, as flat arrays:
        input y * W + x, kernel ky * K + kx, output oy * W_out + ox."""
        k, s, p = self.kernel, self.stride, self.padding
        oy, ox, ky, kx = np.meshgrid(np.arange(self.out_height), np.arange(self.out_width), np.arange(k), np.arange(k),
                                     indexing="ij")
        y, x = oy * s + ky - p, ox * s + kx - p
        inside = (y >= 0) & (y < self.in_height) & (x >= 0) & (x < self.in_width)
        return ((y * self.in_width + x)[inside], (ky * k + kx)[inside], (oy * self.out_width + ox)[inside],
                inside.sum())

    def taps_per_input(self) -> np.ndarray:
        """(n_in,) how many output positions each input reaches: the kernel taps it feeds."""
        positions = np.bincount(self._pairs[0], minlength=self.in_height * self.in_width)
        return np.repeat(positions, self.in_channels).astype(np.int64)

    def dense(self, kernel_matrix: np.ndarray) -> np.ndarray:
        """The (n_in, n_out) matrix the convolution stands for, from its (taps, out_channels) weights."""
        c_in, c_out = self.in_channels, self.out_channels
        kernel_matrix = np.asarray(kernel_matrix)
        out = np.zeros((self.n_in, self.n_out), dtype=kernel_matrix.dtype)
        blocks = kernel_matrix.reshape(self.kernel * self.kernel, c_in, c_out)
        inputs, kernels, outputs, _ = self._pairs
        rows = (inputs[:, None] * c_in + np.arange(c_in)[None, :])[:, :, None]
        cols = (outputs[:, None] * c_out + np.arange(c_out)[None, :])[:, None, :]
        out[rows, cols] = blocks[kernels]
        return out


@dataclass(frozen=True, kw_only=True)
class ConvShape:
    """A convolution layer as a network description gives it: its input size follows from the layer
    (or image) before it."""

    out_channels: int
    kernel: int
    stride: int = 1
    padding: int = 0

    def __post_init__(self) -> None:
        for name in ("out_channels", "kernel", "stride"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConvGeometryError(f"convolution {name} must be a positive int, not {value!r}")
        if not isinstance(self.padding, int) or isinstance(self.padding, bool) or self.padding < 0:
            raise ConvGeometryError(f"convolution padding must be an int >= 0, not {self.padding!r}")


def chain_geometries(image: tuple[int, int, int], shapes: tuple[ConvShape, ...]) -> list[ConvGeometry]:
    """The geometries of convolutions applied one after another to an image of (channels, height, width)."""
    channels, height, width = image
    geometries = []
    for shape in shapes:
        if not isinstance(shape, ConvShape):
            raise ConvGeometryError(f"a convolution must be a ConvShape, not {shape!r}")
        g = ConvGeometry(in_channels=channels, in_height=height, in_width=width, out_channels=shape.out_channels,
                         kernel=shape.kernel, stride=shape.stride, padding=shape.padding)
        geometries.append(g)
        channels, height, width = g.out_channels, g.out_height, g.out_width
    return geometries


def channel_first_order(channels: int, height: int, width: int) -> np.ndarray:
    """For each channel-first (torch, NIR) flat index q = (c * height + y) * width + x, the channel-last
    index (y * width + x) * channels + c: x_channel_first = x_channel_last[order]."""
    c, y, x = np.meshgrid(np.arange(channels), np.arange(height), np.arange(width), indexing="ij")
    return ((y * width + x) * channels + c).reshape(-1)
