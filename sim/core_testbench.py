"""cocotb testbench for the generated core: driver, monitor, reference model and checker.

Run inside the simulator by sim/rtl_run.py, which passes the stimulus file in SPIKEFAB_TB_STIMULUS
and where to write what was observed in SPIKEFAB_TB_OUTPUT. Inputs are driven and outputs sampled on
the falling clock edge, away from the active rising edge, so every value read is settled.
"""

from __future__ import annotations

import os

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge

from model.architecture import CoreArchitecture
from model.compiled import CompiledNetwork
from sim.compare import compare_with_reference
from sim.port_codec import PortCodec
from sim.rtl_observation import RtlObservation, Stimulus

CLOCK_PERIOD_NS = 10
RESET_CYCLES = 3


class EventDriver:
    """Feeds every image's events (ascending spike indices, then an end-of-step entry per timestep),
    leaving the bus idle for a cycle with probability `gap_probability`."""

    def __init__(self, dut, codec: PortCodec, spikes: np.ndarray, rng: np.random.Generator, gap_probability: float):
        self.dut = dut
        self.rng = rng
        self.gap_probability = gap_probability
        self.entries = []
        self.first_entry_of_image = []
        for image in spikes:
            self.first_entry_of_image.append(len(self.entries))
            for frame in image:
                self.entries.extend(codec.event(index=int(i)) for i in np.flatnonzero(frame))
                self.entries.append(codec.event(end_of_step=True))
        self.position = 0
        self.driving = False
        self.gaps = 0

    def before_edge(self, ready: bool) -> int | None:
        """Called at a falling edge with the core's ready; drives the bus and returns the index of the
        entry that transfers at the coming rising edge, if one does."""
        if self.position >= len(self.entries):
            self.dut.events_in__valid.value = 0
            return None
        if self.gap_probability and self.rng.random() < self.gap_probability:
            self.dut.events_in__valid.value = 0
            self.gaps += 1
            return None
        self.dut.events_in__valid.value = 1
        self.dut.events_in__payload.value = self.entries[self.position]
        if ready:
            self.position += 1
            return self.position - 1
        return None


class Testbench:
    def __init__(self, dut, stimulus: Stimulus, network: CompiledNetwork):
        self.dut = dut
        self.stimulus = stimulus
        self.network = network
        self.architecture = CoreArchitecture(lanes=stimulus.lanes, trace=True)
        self.codec = PortCodec(network, self.architecture)
        seed = getattr(cocotb, "RANDOM_SEED", 0) ^ stimulus.seed
        self.rng = np.random.default_rng(seed)
        self.driver = EventDriver(dut, self.codec, stimulus.spikes, self.rng, stimulus.gap_probability)
        self.images = stimulus.spikes.shape[0]
        self.trace_rows: list[tuple[int, int, int, int, int]] = []
        self.results: list[dict] = []
        self.observed_cycles: list[int] = []

    async def reset(self) -> None:
        dut = self.dut
        dut.events_in__valid.value = 0
        dut.events_in__payload.value = 0
        dut.result__ready.value = 0
        dut.rst.value = 1
        for _ in range(RESET_CYCLES):
            await FallingEdge(dut.clk)
        dut.rst.value = 0

    async def run(self) -> None:
        """The monitor loop: one iteration per clock cycle until every image has a result."""
        dut, driver = self.dut, self.driver
        cycle = 0
        first_accept = None
        first_entries = set(driver.first_entry_of_image)
        waiting_result = False
        while len(self.results) < self.images:
            await FallingEdge(dut.clk)
            cycle += 1
            if int(dut.trace__valid.value):
                self.trace_rows.append((len(self.results), *self.codec.trace(int(dut.trace__payload.value))))
            accepted = driver.before_edge(bool(int(dut.events_in__ready.value)))
            # An image's cycles start at its own first entry: after an early exit the core also takes
            # (and discards) the rest of the previous image's entries.
            if accepted is not None and accepted in first_entries:
                first_accept = cycle
            if int(dut.result__valid.value):
                if not waiting_result:
                    # The core counts from its first accepted entry to the result, less input waits.
                    self.observed_cycles.append(cycle - first_accept)
                    waiting_result = True
                take = self.rng.random() >= self.stimulus.backpressure_probability
                dut.result__ready.value = int(take)
                if take:
                    self.results.append(self.codec.result(int(dut.result__payload.value)))
                    waiting_result = False
            else:
                dut.result__ready.value = 0

    def observation(self) -> RtlObservation:
        return RtlObservation.from_rows(
            trace_rows=self.trace_rows,
            results=self.results,
            observed_cycles=self.observed_cycles,
            input_gaps=self.driver.gaps,
        )


@cocotb.test()
async def core_matches_reference(dut):
    stimulus = Stimulus.load(os.environ["SPIKEFAB_TB_STIMULUS"])
    network = CompiledNetwork.load(stimulus.network_path)
    bench = Testbench(dut, stimulus, network)
    cocotb.start_soon(Clock(dut.clk, CLOCK_PERIOD_NS, unit="ns").start())
    await bench.reset()
    await bench.run()
    observation = bench.observation()
    observation.save(os.environ["SPIKEFAB_TB_OUTPUT"])
    report = compare_with_reference(network, bench.architecture, stimulus.spikes, observation)
    assert report.first_mismatch is None, report.first_mismatch
