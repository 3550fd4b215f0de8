"""cocotb testbench for the generated core: driver, monitor, reference model and checker.

The driver and monitor run inside the simulator (sim/harness.py) so the simulation runs free; this
module feeds them batches of images and reads back what they saw. Run by sim/rtl_run.py, which
passes the stimulus file in SPIKEFAB_TB_STIMULUS and where to write the observation in
SPIKEFAB_TB_OUTPUT.
"""

from __future__ import annotations

import os
from pathlib import Path

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge

from model.compiled import CompiledNetwork
from sim.compare import compare_with_reference
from sim.harness import EVENTS_FILE, LOG_FILE, MAX_ENTRIES
from sim.port_codec import PortCodec
from sim.rate_encoder import core_input_spikes
from sim.rtl_observation import RtlObservation, Stimulus

CLOCK_PERIOD_NS = 10
RESET_CYCLES = 3
LFSR_BYTE = 256


def probability_threshold(p: float) -> int:
    """The LFSR byte threshold that idles with probability p (in steps of 1/256)."""
    return min(LFSR_BYTE - 1, round(p * LFSR_BYTE))


def lfsr_seed(seed: int) -> int:
    """The harness LFSR's start state for a run seed: spread over 32 bits (Knuth's multiplicative
    hash) so nearby seeds give unrelated idle patterns, and never zero (an LFSR's stuck state)."""
    return (seed * 2654435761 + 0x9E3779B9) & 0xFFFFFFFF or 1


class Driver:
    """Turns images into input entries (PortCodec.input_stream), flags each image's first entry above
    the payload, and hands them to the harness in batches that fit its memory."""

    def __init__(self, codec: PortCodec, inputs: np.ndarray):
        entries, first = codec.input_stream(inputs)
        for k in first:
            entries[k] |= 1 << codec.input_width
        self.images = np.split(entries, first[1:])

    def batches(self):
        batch, size = [], 0
        for entries in self.images:
            if batch and size + entries.size > MAX_ENTRIES:
                yield batch
                batch, size = [], 0
            batch.append(entries)
            size += entries.size
        if batch:
            yield batch

    @staticmethod
    def write(batch, path: Path) -> int:
        entries = np.concatenate(batch)
        np.savetxt(path, entries, fmt="%x")
        return int(entries.size)


class Monitor:
    """Reads the harness log: trace words belong to the image whose result comes next."""

    def __init__(self, codec: PortCodec):
        self.codec = codec
        self.trace_chunks: list[np.ndarray] = []
        self.lanes = [codec.architecture.lanes_of(layer) for layer in codec.network.layers]
        self.results: list[dict] = []
        self.observed_cycles: list[int] = []

    def read(self, log: Path, offset: int) -> int:
        words: list[tuple[int, int, int, int]] = []   # (image, timestep, layer, first neuron of the word)
        bits: list[int] = []
        with open(log) as f:
            f.seek(offset)
            for line in f:
                kind, payload, *rest = line.split()
                if kind == "t":
                    timestep, layer, word, lanes = self.codec.trace(int(payload, 16))
                    words.append((len(self.results), timestep, layer, word * self.lanes[layer]))
                    bits.append(lanes)
                else:
                    self.results.append(self.codec.result(int(payload, 16)))
                    self.observed_cycles.append(int(rest[0]))
            offset = f.tell()
        if words:
            self.trace_chunks.append(self._spike_rows(np.array(words, dtype=np.int64), bits))
        return offset

    @staticmethod
    def _spike_rows(words: np.ndarray, bits: list[int]) -> np.ndarray:
        """One (image, timestep, layer, neuron) row per set bit of each word's lanes: a word of many
        lanes does not fit one integer column, and 10,000 images' spikes do not fit Python tuples."""
        width = max(1, max(bits).bit_length())
        nbytes = (width + 7) // 8
        packed = np.frombuffer(b"".join(b.to_bytes(nbytes, "little") for b in bits), dtype=np.uint8)
        lanes = np.unpackbits(packed.reshape(len(bits), nbytes), axis=1, bitorder="little")
        word, lane = np.nonzero(lanes)
        rows = words[word]
        rows[:, 3] += lane
        return rows

    @property
    def trace(self) -> np.ndarray:
        return np.concatenate(self.trace_chunks) if self.trace_chunks else np.zeros((0, 4), dtype=np.int64)


class Testbench:
    def __init__(self, dut, stimulus: Stimulus, network: CompiledNetwork):
        self.dut = dut
        self.stimulus = stimulus
        self.network = network
        self.architecture = stimulus.architecture
        codec = PortCodec(network, self.architecture)
        self.driver = Driver(codec, stimulus.inputs)
        self.monitor = Monitor(codec)

    async def run(self) -> None:
        dut = self.dut
        cocotb.start_soon(Clock(dut.clk, CLOCK_PERIOD_NS, unit="ns").start())
        dut.rst.value = 1
        await ClockCycles(dut.clk, RESET_CYCLES)
        dut.rst.value = 0
        dut.seed.value = lfsr_seed(self.stimulus.seed)
        dut.gap_threshold.value = probability_threshold(self.stimulus.gap_probability)
        dut.stall_threshold.value = probability_threshold(self.stimulus.backpressure_probability)
        offset = 0
        for batch in self.driver.batches():
            dut.n_entries.value = self.driver.write(batch, Path(EVENTS_FILE))
            dut.n_images.value = len(batch)
            dut.load.value = 1
            await RisingEdge(dut.clk)
            dut.load.value = 0
            dut.start.value = 1
            await RisingEdge(dut.clk)
            dut.start.value = 0
            await RisingEdge(dut.done)
            offset = self.monitor.read(Path(LOG_FILE), offset)

    def observation(self) -> RtlObservation:
        return RtlObservation.from_rows(trace_rows=self.monitor.trace, results=self.monitor.results,
                                        observed_cycles=self.monitor.observed_cycles,
                                        input_gaps=int(self.dut.gaps.value))


@cocotb.test()
async def core_matches_reference(dut):
    stimulus = Stimulus.load(os.environ["SPIKEFAB_TB_STIMULUS"])
    network = CompiledNetwork.load(stimulus.network_path)
    bench = Testbench(dut, stimulus, network)
    await bench.run()
    observation = bench.observation()
    observation.save(os.environ["SPIKEFAB_TB_OUTPUT"])
    spikes = core_input_spikes(network, bench.architecture, stimulus.inputs)
    report = compare_with_reference(network, bench.architecture, spikes, observation)
    assert report.first_mismatch is None, report.first_mismatch
