"""The hardware side of the flow: reference, Verilog, RTL verification, synthesis, timing, energy."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hw.core import event_layout
from hw.verilog import TOP_NAME, write_core_verilog
from model.architecture import INTENSITY_BITS, CoreArchitecture, RateEncoder
from model.compiled import CompiledNetwork
from sim.compare import compare_with_reference
from sim.cycles import predict_cycles
from sim.reference import ref_run
from sim.rtl_run import choose_simulator, rtl_run

from ..analytical_energy import analytical_energy_nj, operation_energies
from ..area_by_block import area_by_block
from ..sta_power import sta_report_power
from ..energy import INPUT_TRANSITION_NS, build_net_model, estimate_energy
from ..gate_level import simulate_netlist
from ..liberty_library import CellLibrary, read_liberty
from ..step import SPEED_ONLY, Step, StepOutcome
from ..synthesis import synthesize
from ..test_set import EncodedTestSet
from ..timing import analyse_timing
from ..vcd_activity import count_toggles


class VerificationError(RuntimeError):
    """The RTL differs from the reference."""


@dataclass(frozen=True, kw_only=True)
class CoreConfig:
    lanes: int
    encoder: RateEncoder | None = None


@dataclass(frozen=True, kw_only=True)
class VerifyStepConfig:
    lanes: int
    encoder: RateEncoder | None
    simulator: str
    images: int | None  # None: the whole test set
    seed: int
    processes: int = field(default=1, metadata=SPEED_ONLY)  # simulator processes sharing the images


@dataclass(frozen=True, kw_only=True)
class LibraryConfig:
    library: CellLibrary
    buffering: bool = True  # ABC buffering and gate sizing in synthesis (flows/synthesis.py)


@dataclass(frozen=True, kw_only=True)
class PowerStepConfig:
    lanes: int
    encoder: RateEncoder | None
    library: CellLibrary
    images: int


def _architecture(config, *, trace: bool) -> CoreArchitecture:
    return CoreArchitecture(lanes=config.lanes, trace=trace, encoder=config.encoder)


def interface_bits(net: CompiledNetwork, test: EncodedTestSet, encoder: RateEncoder) -> dict:
    """Bits a host sends per inference: spike events (every spike of all T steps and a marker per
    step, whatever early exit does) against pixel words for the on-chip encoder."""
    events = (test.spikes.sum(axis=2) + 1).sum(axis=1) * event_layout(net).size
    return {"events_mean": float(events.mean()),
            "on_chip_encoder": encoder.groups(net.n_inputs) * encoder.lanes * INTENSITY_BITS,
            "on_chip_encoder_lanes": encoder.lanes}


class ReferenceStep(Step):
    """The bit-exact integer reference on the whole encoded test set, with exact cycle counts."""

    id = "reference"
    inputs = ("network", "test_set", "torch_predictions")
    outputs = ("reference",)

    def run(self, inputs, folder: Path) -> StepOutcome:
        net = CompiledNetwork.load(inputs["network"])
        test = EncodedTestSet.load(inputs["test_set"])
        result = ref_run(net, test.spikes)
        cycles = predict_cycles(net, _architecture(self.config, trace=False), result)
        torch_predicted = np.load(inputs["torch_predictions"])
        # The quantized torch model runs every timestep: compare it with the reference at full T.
        full = result if net.early_exit is None else ref_run(dataclasses.replace(net, early_exit=None), test.spikes)
        path = folder / "reference.npz"
        np.savez_compressed(path, predicted=result.predicted, timesteps_used=result.timesteps_used,
                            cycles=cycles.cycles, lower_bound=cycles.lower_bound, synaptic_ops=cycles.synaptic_ops,
                            layer_spike_counts=result.layer_spike_counts())
        rates = [float(s.mean()) for s in result.spikes]
        return StepOutcome({"reference": path}, {
            "accuracy_quantized_reference": float((result.predicted == test.labels).mean()),
            "accuracy_quantized_reference_full_timesteps": float((full.predicted == test.labels).mean()),
            "agreement_with_torch_quantized": float((full.predicted == torch_predicted).mean()),
            "cycles_per_inference_mean": float(cycles.cycles.mean()),
            "cycles_per_inference_p99": float(np.percentile(cycles.cycles, 99)),
            "cycles_lower_bound_mean": float(cycles.lower_bound.mean()),
            "cycles_over_bound": float((cycles.cycles / np.maximum(cycles.lower_bound, 1)).mean()),
            "sops_per_inference_mean": float(cycles.synaptic_ops.mean()),
            "timesteps_used_mean": float(result.timesteps_used.mean()),
            "spike_rate_per_layer": rates,
            "input_spike_rate": float(test.spikes.mean()),
            "interface_bits_per_inference": interface_bits(net, test, self.config.encoder or RateEncoder()),
        })


class CompileStep(Step):
    """Verilog of the core: with the trace port for verification, without it for synthesis."""

    id = "compile"
    inputs = ("network",)
    outputs = ("verilog_trace", "verilog")

    def run(self, inputs, folder: Path) -> StepOutcome:
        net = CompiledNetwork.load(inputs["network"])
        traced = write_core_verilog(net, _architecture(self.config, trace=True), folder / f"{TOP_NAME}_trace.v")
        plain = write_core_verilog(net, _architecture(self.config, trace=False), folder / f"{TOP_NAME}.v")
        arch = _architecture(self.config, trace=False)
        return StepOutcome({"verilog_trace": traced, "verilog": plain}, {
            "lanes": self.config.lanes,
            "words_per_layer": list(arch.words(net)),
            "verilog_lines": len(plain.read_text().splitlines()),
        })


def verify_network(net: CompiledNetwork, test: EncodedTestSet, *, architecture: CoreArchitecture, simulator: str,
                   seed: int, work_dir: Path, verilog: Path | None = None, processes: int = 1) -> dict:
    """Run the images through the RTL under cocotb and compare with the reference, exactly."""
    simulator = choose_simulator(simulator, test.spikes.shape[0])
    observation = rtl_run(net, architecture, test.core_inputs(architecture), work_dir=work_dir, simulator=simulator,
                          seed=seed, verilog_path=verilog, processes=processes)
    comparison = compare_with_reference(net, architecture, test.spikes, observation)
    metrics = {
        "simulator": simulator,
        "simulator_processes": min(processes, comparison.images),
        "images": comparison.images,
        "mismatched_images": len(comparison.mismatched_images),
        "cycle_mismatches": comparison.cycle_mismatches,
        "first_mismatch": comparison.first_mismatch,
        "accuracy_rtl": float((observation.predicted == test.labels).mean()),
        "rtl_cycles_mean": float(observation.cycles.mean()),
    }
    (work_dir / "verify.json").write_text(json.dumps(metrics, indent=2))
    return metrics


class VerifyStep(Step):
    """cocotb on the generated Verilog against the reference: every spike, result and cycle count."""

    id = "verify"
    inputs = ("network", "test_set", "verilog_trace")
    outputs = ("verification",)

    def run(self, inputs, folder: Path) -> StepOutcome:
        cfg: VerifyStepConfig = self.config
        net = CompiledNetwork.load(inputs["network"])
        test = EncodedTestSet.load(inputs["test_set"]).head(cfg.images)
        metrics = verify_network(net, test, architecture=_architecture(cfg, trace=True), simulator=cfg.simulator,
                                 seed=cfg.seed, work_dir=folder, verilog=inputs["verilog_trace"],
                                 processes=cfg.processes)
        if metrics["mismatched_images"]:
            raise VerificationError(
                f"RTL and reference differ on {metrics['mismatched_images']} of {metrics['images']} images; "
                f"first: {metrics['first_mismatch']} (logs in {folder})")
        return StepOutcome({"verification": folder / "verify.json"}, metrics)


class SynthStep(Step):
    id = "synth"
    inputs = ("verilog",)
    outputs = ("netlist", "netlist_json")

    def run(self, inputs, folder: Path) -> StepOutcome:
        library = self.config.library
        result = synthesize(inputs["verilog"], top=TOP_NAME, library=library, out_dir=folder,
                            buffering=self.config.buffering)
        blocks = area_by_block(inputs["verilog"], top=TOP_NAME, library=library, out_dir=folder)
        return StepOutcome({"netlist": result.netlist, "netlist_json": result.netlist_json}, {
            "by_block_um2": blocks.by_block_um2,
            "by_block_share": {k: v / blocks.hierarchical_total_um2 for k, v in blocks.by_block_um2.items()},
            "hierarchical_total_um2": blocks.hierarchical_total_um2,
            "library": library.liberty_path.name,
            "buffering": self.config.buffering,
            "total_um2": result.area_um2,
            "cells": result.cells,
            "cell_count": sum(result.cells.values()),
            "flip_flops": result.flip_flops,
            "flip_flop_area_share": result.flip_flop_area_um2 / result.area_um2,
            "memory_style": "flip-flops (weight and bias ROMs become logic; membranes are registers)",
        })


class TimingStep(Step):
    id = "timing"
    inputs = ("netlist",)
    outputs = ("timing",)

    def run(self, inputs, folder: Path) -> StepOutcome:
        result = analyse_timing(inputs["netlist"], top=TOP_NAME, library=self.config.library, out_dir=folder)
        metrics = {
            "critical_path_ns": result.critical_path_ns,
            "fmax_mhz": result.fmax_mhz,
            "clock_period_ns": result.clock_period_ns,
            "clock_mhz": 1000.0 / result.clock_period_ns,
            "startpoint": result.startpoint,
            "endpoint": result.endpoint,
            "corner": f"typical ({read_liberty(self.config.library.require()).voltage_v:g} V)",
            "assumptions": "ideal clock, zero input/output delay, no wire load (none in the liberty); " + (
                "high-fanout nets buffered and gates sized by ABC (buffer -p, upsize, dnsize)" if self.config.buffering
                else "no fanout buffering (plain Yosys mapping: high-fanout nets on single small drivers)"),
        }
        path = folder / "timing.json"
        path.write_text(json.dumps(metrics, indent=2))
        return StepOutcome({"timing": path}, metrics)


def _input_port_activity(netlist_json: Path, activity, period_ns: float) -> float:
    """Toggles per clock period, averaged over the data input ports' bits (not clock or reset)."""
    ports = json.loads(Path(netlist_json).read_text())["modules"][TOP_NAME]["ports"]
    inputs = {name for name, port in ports.items() if port["direction"] == "input" and name not in ("clk", "rst")}
    columns = [i for i, (name, _) in enumerate(activity.signals) if name in inputs]
    if not columns:
        raise ValueError("the gate-level VCD has none of the core's input ports")
    toggles = (activity.rises[:, columns] + activity.falls[:, columns]).sum()
    return float(toggles) / len(columns) / ((activity.end_ns - activity.start_ns) / period_ns)


def _flip_flops(netlist_json: Path) -> int:
    cells = json.loads(Path(netlist_json).read_text())["modules"][TOP_NAME]["cells"].values()
    return sum(1 for cell in cells if cell["type"].startswith("DFF"))


class PowerStep(Step):
    """Energy per inference from real activity of the mapped netlist on real test inferences."""

    id = "power"
    inputs = ("netlist", "netlist_json", "network", "test_set", "timing")
    outputs = ("energy",)

    def run(self, inputs, folder: Path) -> StepOutcome:
        cfg: PowerStepConfig = self.config
        net = CompiledNetwork.load(inputs["network"])
        test = EncodedTestSet.load(inputs["test_set"]).head(cfg.images)
        arch = _architecture(cfg, trace=False)
        period = json.loads(Path(inputs["timing"]).read_text())["clock_period_ns"]
        reference = ref_run(net, test.spikes)
        cycles = predict_cycles(net, arch, reference)
        budget = int(cycles.cycles.sum() * 2 + 1000)
        run = simulate_netlist(inputs["netlist"], net, arch, test.core_inputs(arch), library=cfg.library,
                               clock_period_ns=period, max_cycles=budget, out_dir=folder)
        gate_predicted = np.array([r["predicted"] for r in run.results])
        gate_cycles = np.array([r["cycles"] for r in run.results])
        if not (np.array_equal(gate_predicted, reference.predicted) and np.array_equal(gate_cycles, cycles.cycles)):
            raise VerificationError("the gate-level netlist disagrees with the reference on "
                                    f"{int((gate_predicted != reference.predicted).sum())} classes or cycle counts; "
                                    f"see {folder}")
        activity = count_toggles(run.vcd, run.result_times_ns)
        sta = sta_report_power(inputs["netlist"], top=TOP_NAME, library=cfg.library, clock_period_ns=period,
                               input_activity=_input_port_activity(inputs["netlist_json"], activity, period),
                               out_dir=folder)
        edges = np.concatenate([[activity.start_ns], run.result_times_ns])
        windows_ns = np.append(np.diff(edges), 0.0)
        liberty = read_liberty(cfg.library.require())
        estimate = estimate_energy(build_net_model(inputs["netlist_json"], TOP_NAME, liberty), activity, windows_ns)
        run.vcd.unlink()  # hundreds of MB; the toggle counts are what matter, and they are kept
        per_image_nj = estimate.total_pj[:-1] / 1000.0
        sops = cycles.synaptic_ops
        analytical = analytical_energy_nj(
            net, energies=operation_energies(liberty), flip_flops=_flip_flops(inputs["netlist_json"]),
            cycles=float(cycles.cycles.mean()), synaptic_ops=float(sops.mean()),
            neuron_updates=float(reference.timesteps_used.mean()) * sum(layer.n_out for layer in net.layers))
        np.savez(folder / "toggles.npz", rises=activity.rises, falls=activity.falls)
        metrics = {
            "method": "gate-level simulation (Icarus, zero delay) of the mapped netlist; per-net toggles x liberty "
                      "switching (1/2 C V^2, pin capacitances) and internal-energy tables; leakage x time",
            "activity_source": "vcd:gate-level",
            "activity_coverage": estimate.activity_coverage,
            "toggled_net_share": estimate.toggled_share,
            "images": int(test.spikes.shape[0]),
            "clock_period_ns": period,
            "input_transition_ns": INPUT_TRANSITION_NS,
            "nj_per_inference": float(per_image_nj.mean()),
            "nj_per_inference_each": per_image_nj.tolist(),
            # The sample's images grouped by their true class (classes the sample lacks are absent).
            "nj_per_inference_by_class": {
                net.class_names[c] if net.class_names else str(c): float(per_image_nj[test.labels == c].mean())
                for c in sorted(set(test.labels.tolist()))},
            "nj_per_inference_spread": float(per_image_nj.std() / per_image_nj.mean()),
            "pj_per_sop": float(estimate.total_pj[:-1].sum() / sops.sum()),
            "sops_per_inference_mean": float(sops.mean()),
            "breakdown_nj_per_inference": {
                "switching": float(estimate.switching_pj[:-1].mean() / 1000),
                "internal": float(estimate.internal_pj[:-1].mean() / 1000),
                "leakage": float(estimate.leakage_pj[:-1].mean() / 1000),
            },
            "leakage_nw": estimate.leakage_nw,
            "analytical_nj_per_inference": analytical["total"],
            "analytical_terms_nj": {k: v for k, v in analytical.items() if k != "total"},
            "analytical_over_gate_level": analytical["total"] / float(per_image_nj.mean()),
            "opensta_cross_check": {
                "method": "OpenSTA report_power with the measured mean input-port toggle rate on every input port, "
                          "activity propagated by OpenSTA (it reads no VCD); a labelled cross-check, not the estimate",
                "input_activity_per_cycle": sta.input_activity,
                "power_mw": sta.total_w * 1e3,
                "nj_per_inference": sta.total_w * float(cycles.cycles.mean()) * period,
                "over_gate_level": sta.total_w * float(cycles.cycles.mean()) * period / float(per_image_nj.mean()),
            },
            "supply_v": liberty.voltage_v,
            "feature_nm": cfg.library.feature_nm,
            "memory_model": "flip-flops (no SRAM macros)",
        }
        path = folder / "energy.json"
        path.write_text(json.dumps(metrics, indent=2))
        return StepOutcome({"energy": path}, metrics)
