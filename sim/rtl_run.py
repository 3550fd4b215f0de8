"""rtl_run: the generated core simulated under cocotb, as one function call."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
from cocotb_tools.runner import get_runner

from flows.tools import ToolError, log_tail, require_tool
from hw.verilog import TOP_NAME, write_core_verilog
from model.architecture import CoreArchitecture
from model.compiled import CompiledNetwork

from .rtl_observation import RtlObservation, Stimulus

SIMULATOR_TOOLS = {"icarus": ("iverilog", "vvp")}

# cocotb compiles with -g2012, under which Icarus 11 runs no `always @*` block for the time-0
# initialisers Amaranth relies on, leaving combinational outputs X until some input changes.
# A later -g2005 takes precedence and restores Verilog-2005 initialiser events.
SIMULATOR_BUILD_ARGS = {"icarus": ["-g2005"]}


def rtl_run(network: CompiledNetwork, architecture: CoreArchitecture, spikes: np.ndarray, *,
            work_dir: str | os.PathLike, simulator: str = "icarus", seed: int = 0,
            gap_probability: float = 0.0, backpressure_probability: float = 0.0,
            verilog_path: str | os.PathLike | None = None) -> RtlObservation:
    """Build the core's Verilog (or use `verilog_path`), simulate every image of `spikes` (B, T, n_in)
    and return what the monitor saw. Logs and build products stay in `work_dir`."""
    if simulator not in SIMULATOR_TOOLS:
        raise ValueError(f"simulator must be one of {sorted(SIMULATOR_TOOLS)}, not {simulator!r}")
    for tool in SIMULATOR_TOOLS[simulator]:
        require_tool(tool)
    if not architecture.trace:
        raise ValueError("verification needs the trace port: build the core with trace=True")
    work = Path(work_dir).resolve()
    work.mkdir(parents=True, exist_ok=True)
    network_path = work / "network.npz"
    network.save(network_path)
    if verilog_path is None:
        verilog_path = write_core_verilog(network, architecture, work / f"{TOP_NAME}.v")
    stimulus_path = work / "stimulus.npz"
    Stimulus(network_path=str(network_path), spikes=np.asarray(spikes, dtype=bool), lanes=architecture.lanes,
             seed=seed, gap_probability=gap_probability,
             backpressure_probability=backpressure_probability).save(stimulus_path)
    output_path = work / "observation.npz"
    output_path.unlink(missing_ok=True)

    runner = get_runner(simulator)
    build_log = work / "build.log"
    try:
        runner.build(sources=[Path(verilog_path).resolve()], hdl_toplevel=TOP_NAME, build_dir=work / "sim_build",
                     always=True, timescale=("1ns", "1ps"), log_file=build_log,
                     build_args=SIMULATOR_BUILD_ARGS[simulator])
    except SystemExit as exc:  # the runner exits on a failed compile
        raise ToolError(f"{simulator} could not build {verilog_path}; last lines of {build_log}:\n"
                        f"{log_tail(build_log)}") from exc
    sim_log = work / "simulation.log"
    try:
        runner.test(test_module="sim.core_testbench", hdl_toplevel=TOP_NAME, build_dir=work / "sim_build",
                    test_dir=work, seed=seed, results_xml=str(work / "results.xml"), log_file=sim_log,
                    extra_env={"SPIKEFAB_TB_STIMULUS": str(stimulus_path), "SPIKEFAB_TB_OUTPUT": str(output_path)})
    except SystemExit:
        # The runner exits when the cocotb test fails. A mismatch still leaves the observation,
        # which the caller compares to report every difference; without it the run itself broke.
        pass
    if not output_path.exists():
        raise ToolError(f"the {simulator} simulation ended without an observation; last lines of {sim_log}:\n"
                        f"{log_tail(sim_log)}")
    return RtlObservation.load(output_path)
