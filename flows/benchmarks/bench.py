"""`make bench`: fresh runs of the benchmark configurations, their figures and each step's wall time,
written to <out>/results.json and <out>/results.md. Later benchmarks add their entries here."""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from model.architecture import CoreArchitecture, MemoryStyle
from model.compiled import CompiledNetwork, Integration
from model.input_codes import RegularRateCode
from model.surrogate import ArcTan
from model.distillation import DistillationConfig, HeadTailAwareKL, OutputKL
from model.train import Backprop
from sim.cycles import predict_cycles
from sim.reference import ref_run
from sim.rtl_run import rtl_run

from flows.report import run_and_report
from flows.run_config import RunConfig
from flows.steps.test_set import EncodedTestSet
from flows.benchmarks.training import measure_backprop_in_process, measure_in_process


@dataclass(frozen=True)
class FlowBenchmark:
    """A fresh `spikefab run` of one configuration: its report's figures and each step's time."""

    config: RunConfig
    until: str | None = None       # the flow's last step
    core_figures: bool = False     # reference throughput, cycles per lanes, Icarus vs Verilator
    # Figures also published under the names an issue gives them: {published key: report key}.
    aliases: dict[str, str] = field(default_factory=dict)
    # Another benchmark whose run folder's steps are copied in first: the steps this configuration
    # shares with it (same config, same inputs) are then reused, not redone (their time reads 0).
    reuse: str | None = None

    def run(self, name: str, work: Path) -> dict:
        return run_benchmark(name, self, work)


@dataclass(frozen=True)
class TrainingBenchmark:
    """spikefab's training against snnTorch's (flows/training_benchmark.py) at each thread count."""

    epochs: int
    threads: tuple[int, ...] = (1, 2)
    backprop_timesteps: tuple[int, ...] = (4, 8, 16, 32)
    backprop_images: int = 12800

    def run(self, name: str, work: Path) -> dict:
        results = {}
        for threads in self.threads:
            prefix = name if threads == 1 else f"{name}.threads{threads}"
            ours = measure_in_process("spikefab", threads=threads, epochs=self.epochs)
            theirs = measure_in_process("snntorch", threads=threads, epochs=self.epochs)
            results.update({
                f"{prefix}.images_per_s": round(ours.images_per_s, 1),
                f"{prefix}.snntorch_images_per_s": round(theirs.images_per_s, 1),
                f"{prefix}.speedup_vs_snntorch": round(ours.images_per_s / theirs.images_per_s, 2),
                f"{prefix}.peak_rss_mib": round(ours.peak_rss_mib, 1),
                f"{prefix}.snntorch_peak_rss_mib": round(theirs.peak_rss_mib, 1),
                f"{prefix}.training_memory_mib": round(ours.training_memory_mib, 1),
                f"{prefix}.snntorch_training_memory_mib": round(theirs.training_memory_mib, 1),
                f"{prefix}.accuracy": ours.test_accuracy,
                f"{prefix}.snntorch_accuracy": theirs.test_accuracy,
            })
        results[f"{name}.epochs"] = self.epochs
        for backprop in ("bptt", "rate"):
            for timesteps in self.backprop_timesteps:
                m = measure_backprop_in_process(backprop, timesteps=timesteps, images=self.backprop_images)
                prefix = f"{name}.backprop.{backprop}.t{timesteps}"
                results[f"{prefix}.images_per_s"] = round(m.images_per_s, 1)
                results[f"{prefix}.graph_mib"] = round(m.graph_mib, 2)
                results[f"{prefix}.peak_memory_growth_mib"] = round(m.training_memory_mib, 1)
        return results


MNIST_ACCURACY = RunConfig(dataset="mnist", hidden=(800,), timesteps=8, lanes=32, epochs=25, qat_epochs=3,
                           batch_size=128, shift_pixels=2, early_exit=True, verify_images=None,
                           simulator="verilator")

METHODS_BASE = RunConfig(dataset="mnist", hidden=(256,), timesteps=8, epochs=10, qat_epochs=2, batch_size=128)

BENCHMARKS = {
    # The demo's configuration (make demo), with every test image through the RTL.
    "digits": FlowBenchmark(RunConfig(dataset="digits", verify_images=None)),
    # The MNIST core of the core issue: every test image through Verilator. Its 1.6 Mbit weight ROM
    # is not synthesized as flip-flops (that waits for SRAM macro models), so the flow stops at verify.
    "mnist": FlowBenchmark(RunConfig(dataset="mnist", hidden=(256,), lanes=16, epochs=15, qat_epochs=3,
                                     batch_size=128, verify_images=None, simulator="verilator"),
                           until="verify", core_figures=True),
    # The accuracy target of the training issue: 784-800-10, T=8, 8-bit weights, Bernoulli rate code,
    # training images shifted by up to 2 pixels; SEENN-I early exit calibrated on the 5,000 held-out
    # training images; every test image through the RTL (Verilator) with the exit rule.
    "mnist_accuracy": FlowBenchmark(
        MNIST_ACCURACY, until="verify",
        aliases={"mnist.accuracy_rtl_exact": "early_exit.accuracy_full_timesteps",
                 "mnist.accuracy_rtl_verified_with_exit": "accuracy.rtl",
                 "mnist.early_exit.avg_timesteps": "early_exit.avg_timesteps",
                 "mnist.early_exit.accuracy": "early_exit.accuracy"}),
    # The same float network quantized to 4-bit weights (its training steps are reused).
    "mnist_4bit": FlowBenchmark(
        dataclasses.replace(MNIST_ACCURACY, weight_bits=4), until="reference", reuse="mnist_accuracy",
        aliases={"mnist.weights4.accuracy_rtl_exact": "early_exit.accuracy_full_timesteps",
                 "mnist.weights4.early_exit.avg_timesteps": "early_exit.avg_timesteps",
                 "mnist.weights4.early_exit.accuracy": "early_exit.accuracy"}),
    # The MNIST network of the training issue (784-800-10 with its early exit) as hardware at 1, 8 and
    # 32 lanes, its 5 Mbit of weights in SRAM macros: area, Fmax, energy per inference and per SOP,
    # and each step's time; its training steps are reused. 500 test images through the RTL (a lane
    # costs 130k cycles per image), 2 inferences at gate level.
    **{f"mnist_energy_lanes{lanes}": FlowBenchmark(
        dataclasses.replace(MNIST_ACCURACY, lanes=lanes, memories=MemoryStyle.SRAM_MACROS, verify_images=500,
                            energy_images=2), reuse="mnist_accuracy",
        aliases={f"mnist.energy.lanes{lanes}.{key}": path for key, path in (
            ("nj_per_inference", "energy.nj_per_inference"), ("pj_per_sop", "energy.pj_per_sop"),
            ("area_um2", "area.total_um2"), ("fmax_mhz", "timing.fmax_mhz"),
            ("scaled_28nm.dynamic_nj_per_inference", "scaled_estimate.nodes.28nm.dynamic_nj_per_inference"),
            ("scaled_28nm.dynamic_pj_per_sop", "scaled_estimate.nodes.28nm.dynamic_pj_per_sop"),
            ("scaled_28nm.area_mm2", "scaled_estimate.nodes.28nm.area_mm2"))})
       for lanes in (32, 8, 1)},
    # Fashion-MNIST under the same constraints: 784-1000-10, T=8, 8-bit weights, the deterministic
    # (regular) rate code, training images shifted by up to a pixel and mirrored, the arctan surrogate
    # (its wider gradient fits this under-fitting network better than the fast sigmoid), HTA-KL
    # distillation from a 784-1000-10 ANN teacher trained 20 epochs, 40 epochs, and the post-training
    # quantized network exported as it is (QAT without the teacher cost 0.6 points here); 1,000 test
    # images through the RTL (Verilator), the whole test set through the hardware-exact reference.
    "fashion_mnist": FlowBenchmark(
        RunConfig(dataset="fashion_mnist", hidden=(1000,), timesteps=8, lanes=32, epochs=40, qat_epochs=0,
                  batch_size=128, input_code=RegularRateCode(), shift_pixels=1, mirror=True, verify_images=1000,
                  surrogate=ArcTan(), distillation=DistillationConfig(teacher_hidden=(1000,), teacher_epochs=20),
                  simulator="verilator"), until="verify",
        aliases={"fashion_mnist.accuracy_rtl_exact": "accuracy.quantized_reference",
                 "fashion_mnist.accuracy_rtl_verified_1000": "accuracy.rtl"}),
    # N-MNIST subset, event frames straight into the core: the two integration modes of the seeds.
    **{f"nmnist_{mode.value}": FlowBenchmark(
        RunConfig(dataset="nmnist", hidden=(256,), timesteps=8, integration=mode, epochs=30, qat_epochs=3,
                  batch_size=32, verify_images=None, simulator="verilator"), until="verify",
        aliases={f"nmnist.{mode.value}.accuracy_rtl": "accuracy.rtl",
                 f"nmnist.{mode.value}.accuracy_float": "accuracy.float"})
       for mode in Integration},
    # The training methods side by side on one MNIST network (784-256-10, T=8, 10 epochs, 8-bit):
    # accuracy in float, with DA-LIF's decays mapped to shifts, and of the hardware-exact reference.
    **{f"methods_{name}": FlowBenchmark(dataclasses.replace(METHODS_BASE, **change), until="reference")
       for name, change in {
           "lif": {},
           "da_lif": {"dual_adaptive": True},
           "distill_kl": {"distillation": DistillationConfig(output_loss=OutputKL())},
           "distill_hta_kl": {"distillation": DistillationConfig(output_loss=HeadTailAwareKL())},
           "rate_backprop": {"backprop": Backprop.RATE},
       }.items()},
    # Training throughput, memory and accuracy after the same epochs, against snnTorch 1.0.
    "training": TrainingBenchmark(epochs=2),
}
LANES_SWEEP = (8, 16)
# Published chips beside the MNIST energy figures (../shared/SEEDS.md), as their papers give them:
# measured silicon at their own nodes; compare with the scaled_28nm figures, never the 180 nm ones.
PUBLISHED_CHIPS = {
    "published.odin.pj_per_sop_28nm": 12.7,
    "published.seed_chip.nj_per_image_mnist_min": 48.4,
    "published.seed_chip.nj_per_image_mnist_max": 773.0,
}
ICARUS_SAMPLE_IMAGES = 20


def flatten(prefix: str, value, out: dict) -> dict:
    if isinstance(value, dict):
        for k, v in value.items():
            flatten(f"{prefix}.{k}" if prefix else k, v, out)
    elif isinstance(value, (int, float, str)) or value is None:
        out[prefix] = value
    return out


FIGURES = [
    "accuracy.float", "accuracy.quantized_torch", "accuracy.quantized_reference",
    "accuracy.reference_agrees_with_torch", "accuracy.rtl", "verify.images", "verify.mismatched_images",
    "verify.cycle_mismatches", "hardware.cycles_per_inference_mean", "hardware.cycles_over_bound",
    "hardware.clock_mhz", "hardware.latency_us_mean", "sops_per_inference_mean", "area.total_um2",
    "area.flip_flops", "timing.critical_path_ns", "timing.fmax_mhz", "energy.nj_per_inference",
    "energy.nj_per_inference_spread", "energy.pj_per_sop", "hardware.cycles_lower_bound_mean",
    "hardware.cycles_per_inference_p99", "early_exit.avg_timesteps", "early_exit.accuracy",
    "early_exit.accuracy_full_timesteps", "early_exit.min_steps", "early_exit.margin",
    "early_exit.confidence_equivalent", "accuracy.float_hardware_decays", "accuracy.teacher_ann",
]


def core_figures(name: str, run_dir: Path, lanes: int, work: Path) -> dict:
    """Reference throughput, cycles against the event-driven bound per lanes, RTL simulators compared."""
    net = CompiledNetwork.load(run_dir / "03-quantize" / "network.npz")
    test = EncodedTestSet.load(run_dir / "01-encode" / "test_set.npz")
    results = {}
    start = time.perf_counter()
    reference = ref_run(net, test.spikes)
    results[f"{name}.reference.images_per_s"] = round(test.spikes.shape[0] / (time.perf_counter() - start), 1)
    for lanes_setting in LANES_SWEEP:
        counts = predict_cycles(net, CoreArchitecture(lanes=lanes_setting), reference)
        ratio = counts.cycles / np.maximum(counts.lower_bound, 1)
        results[f"{name}.lanes{lanes_setting}.cycles_mean"] = float(counts.cycles.mean())
        results[f"{name}.lanes{lanes_setting}.cycles_p99"] = float(np.percentile(counts.cycles, 99))
        results[f"{name}.lanes{lanes_setting}.cycles_over_bound_mean"] = float(ratio.mean())
    sample = test.head(ICARUS_SAMPLE_IMAGES)
    start = time.perf_counter()
    observation = rtl_run(net, CoreArchitecture(lanes=lanes, trace=True), sample.spikes, work_dir=work / "icarus",
                          simulator="icarus")
    seconds = time.perf_counter() - start
    results[f"{name}.rtl_simulation.icarus_images_per_s"] = round(sample.spikes.shape[0] / seconds, 2)
    results[f"{name}.rtl_simulation.icarus_cycles_per_s"] = round(float(observation.cycles.sum()) / seconds)
    return results


def run_benchmark(name: str, benchmark: FlowBenchmark, work: Path) -> dict:
    config = benchmark.config
    run_dir = work / f"run-{name}"
    shutil.rmtree(run_dir, ignore_errors=True)  # wall times must be measured, not cached
    if benchmark.reuse is not None:
        shutil.copytree(work / f"run-{benchmark.reuse}", run_dir)
    report, records = run_and_report(config, run_dir, until=benchmark.until)
    flat = flatten("", report, {})
    results = {f"{name}.{key}": flat[key] for key in FIGURES if key in flat}
    results.update({alias: flat[key] for alias, key in benchmark.aliases.items() if key in flat})
    for record in records:
        results[f"{name}.seconds.{record.id}"] = round(record.seconds, 2)
    results[f"{name}.seconds.total"] = report["total_seconds"]
    verify = next((r for r in records if r.id == "verify"), None)
    if verify is None:
        return results
    simulator = verify.metrics["simulator"]
    results[f"{name}.rtl_simulation.{simulator}_processes"] = verify.metrics["simulator_processes"]
    results[f"{name}.rtl_simulation.{simulator}_images_per_s"] = round(verify.metrics["images"] / verify.seconds, 2)
    results[f"{name}.rtl_simulation.{simulator}_cycles_per_s"] = round(
        verify.metrics["images"] * verify.metrics["rtl_cycles_mean"] / verify.seconds, 0)
    if benchmark.core_figures:
        results.update(core_figures(name, run_dir, config.lanes, work / f"core-{name}"))
    return results


def markdown(results: dict, machine: str) -> str:
    lines = ["# spikefab benchmarks", "", f"Machine: {machine}. Made by `make bench`.", "",
             "| figure | value |", "| --- | --- |"]
    for key, value in results.items():
        shown = f"{value:.4g}" if isinstance(value, float) else str(value)
        lines.append(f"| {key} | {shown} |")
    lines += ["", "Published chips, for context only (measured silicon at their own nodes, as their papers give "
              "them; set them beside the `scaled_28nm` figures, never beside the 180 nm ones):", "",
              "| figure | value |", "| --- | --- |"]
    lines += [f"| {key} | {value:g} |" for key, value in PUBLISHED_CHIPS.items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.benchmarks.bench")
    parser.add_argument("--out", type=Path, default=Path("bench"))
    parser.add_argument("--only", choices=sorted(BENCHMARKS), nargs="*")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    results_path = args.out / "results.json"
    # Keep the figures of benchmarks not run this time (--only); the ones run are replaced. `owners`
    # says which benchmark wrote each figure (aliases need not start with its name).
    previous = json.loads(results_path.read_text()) if results_path.is_file() else {}
    machine = f"{platform.node()}, {platform.processor() or platform.machine()}, Python {platform.python_version()}"
    results, owners = previous.get("results", {}), previous.get("owners", {})
    for name, benchmark in BENCHMARKS.items():
        if args.only and name not in args.only:
            continue
        print(f"benchmark {name} ...", file=sys.stderr, flush=True)
        results = {k: v for k, v in results.items() if owners.get(k, k.split(".")[0]) != name}
        fresh = benchmark.run(name, args.out)
        results.update(fresh)
        owners.update({k: name for k in fresh})
        owners = {k: v for k, v in owners.items() if k in results}
        # Written after every benchmark, so a long bench that stops keeps what it measured.
        results_path.write_text(json.dumps({"machine": machine, "results": results, "owners": owners,
                                            "published": PUBLISHED_CHIPS}, indent=2))
    (args.out / "results.md").write_text(markdown(results, machine))
    print(markdown(results, machine))
    return 0


if __name__ == "__main__":
    sys.exit(main())
