"""Verilog of the core, with and without the trace port."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from flows.engine.figures import measured, setting
from flows.engine.step import Artifact, Step, StepOutcome
from flows.report.waveform_plot import plot_waveform
from hw.core import input_port_name, macro_prefix
from hw.datasheet import datasheet_markdown
from hw.layer_engine import layer_memory_shapes
from hw.protocol_trace import record_inference
from hw.verilog import TOP_NAME, write_core_verilog
from model.architecture import CoreArchitecture
from model.atomic_file import write_atomically
from model.compiled import CompiledNetwork, Integration, Reset, sized_layer

# The waveform's stand-in network: small enough for Amaranth's simulator, with the architecture's
# options (lanes, encoder, readout kind) so that it shows this core's protocol.
STAND_IN_SIZES = (6, 5, 3)
STAND_IN_SPIKES = [[1, 3], [0, 4, 5]]


def stand_in_network(net: CompiledNetwork) -> CompiledNetwork:
    rng = np.random.default_rng(0)
    layers = []
    for k, (n_in, n_out) in enumerate(zip(STAND_IN_SIZES, STAND_IN_SIZES[1:])):
        last = k == len(STAND_IN_SIZES) - 2
        layers.append(sized_layer(weights=rng.integers(-3, 8, (n_in, n_out)), bias=np.zeros(n_out, np.int64),
                                  weight_bits=4, threshold=6, timesteps=len(STAND_IN_SPIKES), leak_shift=2,
                                  reset=Reset.SUBTRACT, integration=Integration.CONTINUOUS,
                                  spiking=not last or net.layers[-1].spiking))
    return CompiledNetwork(layers=tuple(layers), timesteps=len(STAND_IN_SPIKES), readout=net.readout,
                           encoding=net.encoding)


def write_datasheet(net: CompiledNetwork, arch: CoreArchitecture, folder: Path) -> Path:
    """datasheet.md and its waveform figure beside the Verilog."""
    stand_in = stand_in_network(net)
    shown = CoreArchitecture(lanes=min(arch.lanes, 2), trace=True, encoder=arch.encoder)
    inputs = STAND_IN_SPIKES if arch.encoder is None else [40, 200, 90, 255, 0, 130]
    figure = plot_waveform(
        record_inference(stand_in, shown, inputs), folder / "datasheet_waveform.png", input_port=input_port_name(arch),
        title=f"the protocol on a stand-in {'-'.join(map(str, STAND_IN_SIZES))} network, T = {stand_in.timesteps}, "
              f"{shown.lanes} lanes (simulated in Amaranth; memories as flip-flops, the protocol is the same)")
    path = folder / "datasheet.md"
    write_atomically(path, datasheet_markdown(net, arch, waveform=figure.name))
    return path


@dataclass(frozen=True, kw_only=True)
class CompileMetrics:
    lanes: int = setting("neurons updated per cycle")
    words_per_layer: tuple[int, ...] = setting("membrane words per layer, ceil(n_out / lanes)")
    weight_memory_bits: int = setting("bits of every layer's weight memory (words x word width, padding lanes "
                                      "included)", "bits")
    verilog_lines: int = measured("lines", "lines of the generated Verilog without the trace port")

def weight_memory_bits(net: CompiledNetwork, arch: CoreArchitecture) -> int:
    """What the weight memories of the core hold: a convolution stores its kernel once."""
    shapes = [layer_memory_shapes(layer, lanes=arch.lanes_of(layer), macro_prefix=macro_prefix(k))[0]
              for k, layer in enumerate(net.layers)]
    return sum(shape.width * shape.depth for shape in shapes)


class CompileStep(Step):
    """Verilog of the core: with the trace port for verification, without it for synthesis. Its config
    is the architecture (its trace setting is ignored: both are written)."""

    id = "compile"
    inputs = (Artifact.NETWORK,)
    outputs = (Artifact.VERILOG_TRACE, Artifact.VERILOG, Artifact.DATASHEET)
    Metrics = CompileMetrics

    def run(self, inputs, folder: Path) -> StepOutcome:
        arch: CoreArchitecture = self.config
        net = CompiledNetwork.load(inputs[Artifact.NETWORK])
        traced = write_core_verilog(net, dataclasses.replace(arch, trace=True), folder / f"{TOP_NAME}_trace.v")
        plain = write_core_verilog(net, dataclasses.replace(arch, trace=False), folder / f"{TOP_NAME}.v")
        datasheet = write_datasheet(net, dataclasses.replace(arch, trace=True), folder)
        return StepOutcome({Artifact.VERILOG_TRACE: traced, Artifact.VERILOG: plain, Artifact.DATASHEET: datasheet},
                           CompileMetrics(
            lanes=arch.lanes,
            words_per_layer=arch.words(net),
            weight_memory_bits=weight_memory_bits(net, arch),
            verilog_lines=len(plain.read_text().splitlines()),
        ))
