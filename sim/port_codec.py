"""Packing and unpacking of the core's stream payloads as the integers cocotb sees on the Verilog
ports. The bit positions come from the same Amaranth layouts the core is built from."""

from __future__ import annotations

from dataclasses import dataclass

from amaranth.lib import data

from hw.core import event_layout, result_layout, trace_layout
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
        }

    def trace(self, word: int) -> tuple[int, int, int, int]:
        """(timestep, layer, word, spike bits) of one trace entry."""
        layout = trace_layout(self.network, self.architecture)
        return tuple(_get(word, *_field(layout, name)) for name in ("timestep", "layer", "word", "spikes"))
