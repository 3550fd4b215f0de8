"""What the core does with an event stream a host should not send (../shared/DESIGN.md asks for
ascending indices below n_inputs): the bad event is dropped in one cycle and the result's input_error
flag is set; the inference is the reference's on the events that remain. Simulated with Amaranth's
simulator on the same SpikingCore the Verilog comes from."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from hw.core import SpikingCore
from model.architecture import CoreArchitecture
from network_factory import NetworkSpec, random_network
from sim.cycles import predict_cycles
from sim.reference import ref_run

NET = random_network(NetworkSpec(sizes=(6, 5, 3), timesteps=2, seed=7))
ARCH = CoreArchitecture(lanes=2, trace=False)
CLEAN = [[1, 3, 4], [0, 2]]  # spike indices per timestep, ascending: what a host sends


def run_core(inferences: list[list[list[int]]]) -> list[dict]:
    """Each inference's events (a list per timestep) through the core; the results in order."""
    dut = SpikingCore(network=NET, architecture=ARCH)
    results = []

    async def send(ctx, index: int, end_of_step: int) -> None:
        ctx.set(dut.events_in.payload.index, index)
        ctx.set(dut.events_in.payload.end_of_step, end_of_step)
        ctx.set(dut.events_in.valid, 1)
        while True:
            ready = ctx.get(dut.events_in.ready)
            await ctx.tick()
            if ready:
                break
        ctx.set(dut.events_in.valid, 0)

    async def driver(ctx):
        for steps in inferences:
            for indices in steps:
                for index in indices:
                    await send(ctx, index, 0)
                await send(ctx, 0, 1)

    async def monitor(ctx):
        ctx.set(dut.result.ready, 1)
        while len(results) < len(inferences):
            if ctx.get(dut.result.valid):
                payload = ctx.get(dut.result.payload)
                results.append({"predicted": int(payload.predicted), "timesteps": int(payload.timesteps),
                                "cycles": int(payload.cycles), "input_error": int(payload.input_error),
                                "readout": [int(payload.readout[j]) for j in range(NET.n_classes)]})
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(driver)
    sim.add_testbench(monitor)
    sim.run_until(1e-8 * 5000)
    return results


def reference_of(steps: list[list[int]]) -> tuple[dict, int]:
    frames = np.zeros((1, NET.timesteps, NET.n_inputs), dtype=bool)
    for t, indices in enumerate(steps):
        frames[0, t, indices] = True
    result = ref_run(NET, frames)
    return result, int(predict_cycles(NET, ARCH, result).cycles[0])


@pytest.mark.parametrize("bad, dropped", [
    ([[1, 3, 6, 4], [0, 2]], 1),       # 6 >= n_inputs
    ([[1, 3, 7, 4], [0, 2, 2]], 2),    # 7 >= n_inputs; a duplicate
    ([[1, 3, 2, 4], [0, 2]], 1),       # 2 after 3: out of order
], ids=["index-too-large", "too-large-and-duplicate", "descending"])
def test_a_bad_event_is_dropped_flagged_and_costs_one_cycle(bad, dropped):
    flagged, after = run_core([bad, CLEAN])
    reference, cycles = reference_of(CLEAN)
    assert flagged["input_error"] == 1
    assert flagged["predicted"] == int(reference.predicted[0])
    assert flagged["readout"] == reference.readout[0].tolist()
    assert flagged["cycles"] == cycles + dropped
    # The flag belongs to one inference: the next, clean one is not flagged.
    assert after["input_error"] == 0 and after["cycles"] == cycles and after["readout"] == flagged["readout"]


def test_a_clean_stream_is_never_flagged():
    (result,) = run_core([CLEAN])
    reference, cycles = reference_of(CLEAN)
    assert result["input_error"] == 0 and result["cycles"] == cycles
    assert result["readout"] == reference.readout[0].tolist()
