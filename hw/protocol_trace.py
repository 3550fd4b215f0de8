"""One short inference of a core in Amaranth's simulator, recorded cycle by cycle at its ports: the
datasheet's waveform. The same SpikingCore the Verilog comes from, from the first cycle after reset
(the simulator starts every register at its reset value) to the result taken."""

from __future__ import annotations

from dataclasses import dataclass

from amaranth.sim import Simulator

from model.architecture import CoreArchitecture
from model.compiled import CompiledNetwork

from .core import SpikingCore, input_port_name


@dataclass(frozen=True)
class PortCycle:
    """The ports' values in one clock cycle, sampled just before its rising edge."""

    in_valid: int
    in_ready: int
    in_payload: str    # "index 3", "end of step", a pixel word's group, or ""
    result_valid: int
    result_ready: int
    result_payload: str
    trace_valid: int


def record_inference(network: CompiledNetwork, architecture: CoreArchitecture, inputs, *,
                     max_cycles: int = 4000) -> list[PortCycle]:
    """inputs: per timestep a list of spike indices (events), or the pixel intensities (encoder).
    The host sends without gaps and takes the result the cycle it appears."""
    dut = SpikingCore(network=network, architecture=architecture)
    port = getattr(dut, input_port_name(architecture))
    if architecture.encoder is None:
        entries = [(index, 0) for step in inputs for index in [*step, None]]
        entries = [(0, 1) if index is None else (index, eos) for index, eos in entries]
    else:
        lanes = architecture.encoder.lanes
        entries = [list(inputs[g * lanes:(g + 1) * lanes]) + [0] * max(0, (g + 1) * lanes - len(inputs))
                   for g in range(architecture.encoder.groups(network.n_inputs))]
    cycles: list[PortCycle] = []

    def describe_input(entry) -> str:
        if architecture.encoder is not None:
            return "pixels " + ",".join(map(str, entry))
        index, eos = entry
        return "end of step" if eos else f"index {index}"

    async def bench(ctx):
        ctx.set(dut.result.ready, 1)
        position, done = 0, False
        for cycle in range(max_cycles):
            ctx.set(port.valid, int(position < len(entries)))
            if position < len(entries):
                entry = entries[position]
                if architecture.encoder is None:
                    ctx.set(port.payload.index, entry[0])
                    ctx.set(port.payload.end_of_step, entry[1])
                else:
                    ctx.set(port.payload.intensities, entry)
            valid, ready = ctx.get(port.valid), ctx.get(port.ready)
            result_valid = ctx.get(dut.result.valid)
            result = ""
            if result_valid:
                payload = ctx.get(dut.result.payload)
                result = (f"class {int(payload.predicted)}, {int(payload.timesteps)} steps, "
                          f"{int(payload.cycles)} cycles")
            cycles.append(PortCycle(
                in_valid=valid, in_ready=ready,
                in_payload=describe_input(entries[position]) if valid else "",
                result_valid=result_valid, result_ready=1, result_payload=result,
                trace_valid=ctx.get(dut.trace.valid) if architecture.trace else 0))
            await ctx.tick()
            if valid and ready:
                position += 1
            if done:
                break
            done = bool(result_valid)

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return cycles
