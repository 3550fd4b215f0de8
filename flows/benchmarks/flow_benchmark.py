"""A benchmark that is a fresh `spikefab run` of one configuration: its report's figures, each step's
time, and for the core benchmarks the reference's speed, cycles per lanes and Icarus against Verilator."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from model.architecture import CoreArchitecture
from model.compiled import CompiledNetwork
from sim.cycles import predict_cycles
from sim.reference import ref_run
from sim.rtl_run import rtl_run

from flows.engine.figures import Kind
from flows.engine.runner import RunRecords
from flows.engine.step import Artifact
from flows.report.build import run_and_report
from flows.report.figure_paths import ReportFigure, report_figure
from flows.run_config import RunConfig
from flows.steps.test_set import EncodedTestSet
from flows.steps.verify import VerifyMetrics

LANES_SWEEP = (8, 16)
ICARUS_SAMPLE_IMAGES = 20


@dataclass(frozen=True)
class FlowBenchmark:
    """A fresh `spikefab run` of one configuration: its report's figures and each step's time."""

    config: RunConfig
    until: str | None = None       # the flow's last step
    core_figures: bool = False     # reference throughput, cycles per lanes, Icarus vs Verilator
    # Figures also published under the names an issue gives them: {published key: report figure}.
    aliases: dict[str, ReportFigure] = field(default_factory=dict)
    # Another benchmark whose run folder's steps are copied in first: the steps this configuration
    # shares with it (same config, same inputs) are then reused, not redone (their time reads 0).
    reuse: str | None = None

    def run(self, name: str, work: Path, *, resume: bool = False) -> tuple[dict, dict]:
        results, kinds, _ = run_benchmark(name, self, work, resume=resume)
        return results, kinds


FIGURES = [report_figure(read) for read in (
    lambda r: r.accuracy.float_model, lambda r: r.accuracy.quantized_torch, lambda r: r.accuracy.quantized_reference,
    lambda r: r.accuracy.quantized_reference_full_timesteps, lambda r: r.accuracy.reference_images,
    lambda r: r.accuracy.reference_agrees_with_torch, lambda r: r.accuracy.rtl, lambda r: r.accuracy.rtl_images,
    lambda r: r.accuracy.float_hardware_decays, lambda r: r.accuracy.teacher_ann,
    lambda r: r.verify.images, lambda r: r.verify.mismatched_images, lambda r: r.verify.cycle_mismatches,
    lambda r: r.hardware.cycles_per_inference_mean, lambda r: r.hardware.cycles_per_inference_p99,
    lambda r: r.hardware.cycles_no_stall_floor_mean, lambda r: r.hardware.cycles_over_no_stall_floor,
    lambda r: r.hardware.cycles_sop_floor_mean, lambda r: r.hardware.cycles_over_sop_floor,
    lambda r: r.hardware.sops_per_inference_mean, lambda r: r.hardware.clock_mhz, lambda r: r.hardware.latency_us_mean,
    lambda r: r.hardware.weight_memory_bits,
    lambda r: r.area.total_um2, lambda r: r.area.logic_um2, lambda r: r.area.sram_macros_um2,
    lambda r: r.area.flip_flops,
    lambda r: r.timing.critical_path_ns, lambda r: r.timing.fmax_mhz,
    lambda r: r.energy.images, lambda r: r.energy.nj_per_inference, lambda r: r.energy.nj_per_inference_ci95,
    lambda r: r.energy.logic_nj_per_inference, lambda r: r.energy.logic_nj_per_inference_ci95,
    lambda r: r.energy.logic_pj_per_sop, lambda r: r.energy.sram_macro_nj_per_inference,
    lambda r: r.energy.nj_per_inference_spread, lambda r: r.energy.pj_per_sop,
    lambda r: r.early_exit.avg_timesteps, lambda r: r.early_exit.accuracy,
    lambda r: r.early_exit.accuracy_full_timesteps,
    lambda r: r.early_exit.calibration.min_steps, lambda r: r.early_exit.calibration.margin,
    lambda r: r.early_exit.calibration.confidence_equivalent,
)]


def _published(value):
    """A figure as results.json holds it: tuples (an interval) as lists."""
    return list(value) if isinstance(value, tuple) else value


def core_figures(name: str, records: RunRecords, lanes: int, work: Path) -> dict:
    """Reference throughput, cycles against the event-driven bound per lanes, RTL simulators compared."""
    net = CompiledNetwork.load(records.artifacts[Artifact.NETWORK])
    test = EncodedTestSet.load(records.artifacts[Artifact.TEST_SET])
    results = {}
    start = time.perf_counter()
    reference = ref_run(net, test.spikes)
    results[f"{name}.reference.images_per_s"] = round(test.spikes.shape[0] / (time.perf_counter() - start), 1)
    for lanes_setting in LANES_SWEEP:
        counts = predict_cycles(net, CoreArchitecture(lanes=lanes_setting), reference)
        mean = float(counts.cycles.mean())
        results[f"{name}.lanes{lanes_setting}.cycles_mean"] = mean
        results[f"{name}.lanes{lanes_setting}.cycles_p99"] = float(np.percentile(counts.cycles, 99))
        results[f"{name}.lanes{lanes_setting}.cycles_over_no_stall_floor"] = mean / float(counts.lower_bound.mean())
        results[f"{name}.lanes{lanes_setting}.cycles_over_sop_floor"] = mean / (
            float(counts.synaptic_ops.mean()) / lanes_setting)
    sample = test.head(ICARUS_SAMPLE_IMAGES)
    start = time.perf_counter()
    observation = rtl_run(net, CoreArchitecture(lanes=lanes, trace=True), sample.spikes, work_dir=work / "icarus",
                          simulator="icarus")
    seconds = time.perf_counter() - start
    results[f"{name}.rtl_simulation.icarus_images_per_s"] = round(sample.spikes.shape[0] / seconds, 2)
    results[f"{name}.rtl_simulation.icarus_cycles_per_s"] = round(float(observation.cycles.sum()) / seconds)
    return results


def run_benchmark(name: str, benchmark: FlowBenchmark, work: Path, *, resume: bool = False
                  ) -> tuple[dict, dict, RunRecords]:
    """The benchmark's figures {published key: value}, their kinds {published key: kind}, and the run's
    records (its steps' artifacts, for figures a caller adds). `resume`: go on from the steps an
    interrupted run of it finished (the runner reuses a step only under the key of its config, inputs,
    code and tools, and its time is the one measured when it ran); else start afresh."""
    config = benchmark.config
    run_dir = work / f"run-{name}"
    resumed = resume and run_dir.is_dir()
    if not resumed:
        shutil.rmtree(run_dir, ignore_errors=True)  # wall times must be measured, not cached
        if benchmark.reuse is not None:
            shutil.copytree(work / f"run-{benchmark.reuse}", run_dir)
    report, records = run_and_report(config, run_dir, until=benchmark.until)
    named = {f"{name}.{figure.name}": figure for figure in FIGURES} | benchmark.aliases
    values = {key: figure.read(report) for key, figure in named.items()}
    results = {key: _published(value) for key, value in values.items() if value is not None}
    kinds = {key: named[key].kind.value for key in results}
    for record in records:
        results[f"{name}.seconds.{record.id}"] = round(record.seconds, 2)
    # A resumed run's wall time is only its last part: its total is then the sum of its steps' times.
    results[f"{name}.seconds.total"] = (round(sum(record.seconds for record in records), 1) if resumed
                                        else report.total_seconds)
    kinds.update({key: Kind.MEASURED.value for key in results if key not in kinds})
    verify = records.record(VerifyMetrics)
    if verify is None:
        return results, kinds, records
    v: VerifyMetrics = verify.metrics
    speed = {f"{name}.rtl_simulation.{v.simulator}_processes": v.simulator_processes,
             f"{name}.rtl_simulation.{v.simulator}_images_per_s": round(v.images / verify.seconds, 2),
             f"{name}.rtl_simulation.{v.simulator}_cycles_per_s": round(v.images * v.rtl_cycles_mean / verify.seconds)}
    if benchmark.core_figures:
        speed.update(core_figures(name, records, config.architecture.lanes, work / f"core-{name}"))
    results.update(speed)
    kinds.update({key: Kind.MEASURED.value for key in speed})
    return results, kinds, records
