"""Packing and unpacking of the core's stream payloads as the integers cocotb sees on the Verilog
ports. The bit positions come from the same Amaranth layouts the core is built from."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from amaranth.lib import data

from hw.core import event_layout, input_layout, result_layout, trace_layout
from model.architecture import INTENSITY_BITS
from model.architecture import CoreArchitecture
from model.compiled import CompiledNetwork


def _field(layout: data.StructLayout, name: str) -> tuple[int, int]:
    field = layout[name]
    return field.offset, field.width


def _get(word: int, offset: int, width: int) -> int:
    return (word >> offset) & ((1 << width) - 1)


def _as_signed(value: int, width: int) -> int:
    return value - (1 << width) if value >> (width - 1) else value


@dataclass(frozen=True)
class PortCodec:
    network: CompiledNetwork
    architecture: CoreArchitecture

    def event(self, *, index: int = 0, end_of_step: bool = False) -> int:
        layout = event_layout(self.network)
        index_offset, _ = _field(layout, "index")
        end_offset, _ = _field(layout, "end_of_step")
        return (index << index_offset) | (int(end_of_step) << end_offset)

    def event_stream(self, spikes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """All the entries a host sends for spike frames (B, T, n): per timestep the spike indices in
        ascending order, then an end-of-step entry. Returns (entries, index of each image's first entry)."""
        layout = event_layout(self.network)
        index_offset, _ = _field(layout, "index")
        end_offset, _ = _field(layout, "end_of_step")
        images, steps, _ = spikes.shape
        _, _, index = np.nonzero(spikes)  # ordered by image, timestep, then index
        per_step = spikes.sum(axis=2).ravel()
        step_end = np.cumsum(per_step + 1) - 1  # where each timestep's end-of-step entry goes
        entries = np.empty(int(step_end[-1]) + 1 if step_end.size else 0, dtype=np.int64)
        is_spike = np.ones(entries.size, dtype=bool)
        is_spike[step_end] = False
        entries[is_spike] = index.astype(np.int64) << index_offset
        entries[step_end] = 1 << end_offset
        first = (step_end - per_step)[::steps]
        return entries, first

    def pixel_stream(self, intensities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The pixel words a host sends to the on-chip encoder for (B, n) 8-bit intensities, as Python
        ints (a word may be wider than 64 bits), and the index of each image's first word."""
        lanes = self.architecture.encoder.lanes
        images, n = intensities.shape
        groups = self.architecture.encoder.groups(n)
        padded = np.zeros((images, groups * lanes), dtype=np.int64)
        padded[:, :n] = intensities
        words = np.empty(images * groups, dtype=object)
        for k, row in enumerate(padded.reshape(images * groups, lanes)):
            words[k] = sum(int(v) << (lane * INTENSITY_BITS) for lane, v in enumerate(row))
        return words, np.arange(images) * groups

    def input_stream(self, inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """What the host sends: events for spike frames, or pixel words with the on-chip encoder."""
        if self.architecture.encoder is None:
            return self.event_stream(inputs)
        return self.pixel_stream(inputs)

    @property
    def input_width(self) -> int:
        return input_layout(self.network, self.architecture).size

    def result(self, word: int) -> dict:
        layout = result_layout(self.network)
        readout_offset, _ = _field(layout, "readout")
        element = layout["readout"].shape
        readout_width = element.elem_shape.width
        readout = [
            _as_signed(_get(word, readout_offset + j * readout_width, readout_width), readout_width)
            for j in range(element.length)
        ]
        return {
            "predicted": _get(word, *_field(layout, "predicted")),
            "timesteps": _get(word, *_field(layout, "timesteps")),
            "cycles": _get(word, *_field(layout, "cycles")),
            "readout": readout,
            "input_error": _get(word, *_field(layout, "input_error")),
        }

    @cached_property
    def _trace_fields(self) -> tuple[tuple[int, int], ...]:
        layout = trace_layout(self.network, self.architecture)
        return tuple(_field(layout, name) for name in ("timestep", "layer", "word", "spikes"))

    def trace(self, word: int) -> tuple[int, int, int, int]:
        """(timestep, layer, word, spike bits) of one trace entry."""
        return tuple(_get(word, offset, width) for offset, width in self._trace_fields)
