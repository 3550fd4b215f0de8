"""The hardware side of the flow: reference, Verilog, RTL verification, synthesis, timing, energy."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hw.core import core_sram_macros, event_layout
from hw.verilog import TOP_NAME, write_core_verilog
from model.architecture import INTENSITY_BITS, CoreArchitecture, MemoryStyle, RateEncoder
from model.compiled import CompiledNetwork
from sim.compare import compare_with_reference
from sim.cycles import predict_cycles
from sim.reference import ref_run
from sim.rtl_run import choose_simulator, rtl_run

from ..area_by_block import area_by_block
from ..liberty_library import CellLibrary, read_liberty
from ..sram_cost import MODEL_DESCRIPTION, MacroSet, describe_macros
from ..step import SPEED_ONLY, Step, StepOutcome
from ..synthesis import logic_verilog, synthesize
from ..test_set import EncodedTestSet
from ..timing import analyse_timing


class VerificationError(RuntimeError):
    """The RTL differs from the reference."""


@dataclass(frozen=True, kw_only=True)
class CoreConfig:
    lanes: int
    encoder: RateEncoder | None = None
    memories: MemoryStyle = MemoryStyle.FLIP_FLOPS


@dataclass(frozen=True, kw_only=True)
class VerifyStepConfig:
    lanes: int
    encoder: RateEncoder | None
    simulator: str
    images: int | None  # None: the whole test set
    seed: int
    memories: MemoryStyle = MemoryStyle.FLIP_FLOPS
    processes: int = field(default=1, metadata=SPEED_ONLY)  # simulator processes sharing the images


@dataclass(frozen=True, kw_only=True)
class LibraryConfig:
    library: CellLibrary
    buffering: bool = True  # ABC buffering and gate sizing in synthesis (flows/synthesis.py)


@dataclass(frozen=True, kw_only=True)
class SynthStepConfig:
    core: CoreConfig
    library: LibraryConfig


def core_architecture(config, *, trace: bool) -> CoreArchitecture:
    return CoreArchitecture(lanes=config.lanes, trace=trace, encoder=config.encoder, memories=config.memories)


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
        cycles = predict_cycles(net, core_architecture(self.config, trace=False), result)
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
        traced = write_core_verilog(net, core_architecture(self.config, trace=True), folder / f"{TOP_NAME}_trace.v")
        plain = write_core_verilog(net, core_architecture(self.config, trace=False), folder / f"{TOP_NAME}.v")
        arch = core_architecture(self.config, trace=False)
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
        metrics = verify_network(net, test, architecture=core_architecture(cfg, trace=True), simulator=cfg.simulator,
                                 seed=cfg.seed, work_dir=folder, verilog=inputs["verilog_trace"],
                                 processes=cfg.processes)
        if metrics["mismatched_images"]:
            raise VerificationError(
                f"RTL and reference differ on {metrics['mismatched_images']} of {metrics['images']} images; "
                f"first: {metrics['first_mismatch']} (logs in {folder})")
        return StepOutcome({"verification": folder / "verify.json"}, metrics)


class SynthStep(Step):
    id = "synth"
    inputs = ("verilog", "network")
    outputs = ("netlist", "netlist_json", "macros", "hierarchical_netlist", "hierarchical_netlist_json")

    def run(self, inputs, folder: Path) -> StepOutcome:
        cfg: SynthStepConfig = self.config
        library = cfg.library.library
        liberty = read_liberty(library.require())
        shapes = core_sram_macros(CompiledNetwork.load(inputs["network"]), core_architecture(cfg.core, trace=False))
        macros = describe_macros(shapes, feature_nm=library.feature_nm, supply_v=liberty.voltage_v, folder=folder)
        logic = logic_verilog(inputs["verilog"], macros.models, folder)
        result = synthesize(logic, top=TOP_NAME, library=library, out_dir=folder,
                            buffering=cfg.library.buffering, macro_models=macros.models)
        blocks = area_by_block(logic, top=TOP_NAME, library=library, out_dir=folder,
                               macros={name: m["area_um2"] for name, m in macros.macros.items()},
                               macro_models=macros.models)
        total = result.area_um2 + macros.area_um2
        memory_model = (MODEL_DESCRIPTION if shapes else
                        "flip-flops (weight and bias ROMs become logic; membranes are registers)")
        return StepOutcome({"netlist": result.netlist, "netlist_json": result.netlist_json,
                            "macros": macros.save(folder / "sram_macros.json"),
                            "hierarchical_netlist": blocks.netlist, "hierarchical_netlist_json": blocks.netlist_json}, {
            "by_block_um2": blocks.by_block_um2,
            "by_block_share": {k: v / blocks.hierarchical_total_um2 for k, v in blocks.by_block_um2.items()},
            "hierarchical_total_um2": blocks.hierarchical_total_um2,
            "library": library.liberty_path.name,
            "buffering": cfg.library.buffering,
            "total_um2": total,
            "logic_um2": result.area_um2,
            "sram_macros_um2": macros.area_um2,
            "sram_macros": macros.macros,
            "cells": result.cells,
            "cell_count": sum(result.cells.values()),
            "flip_flops": result.flip_flops,
            "flip_flop_area_share": result.flip_flop_area_um2 / total,
            "memory_style": cfg.core.memories.value,
            "memory_model": memory_model,
        })


class TimingStep(Step):
    id = "timing"
    inputs = ("netlist", "macros")
    outputs = ("timing",)

    def run(self, inputs, folder: Path) -> StepOutcome:
        result = analyse_timing(inputs["netlist"], top=TOP_NAME, library=self.config.library, out_dir=folder,
                                macro_liberty=MacroSet.load(inputs["macros"]).liberty)
        metrics = {
            "critical_path_ns": result.critical_path_ns,
            "fmax_mhz": result.fmax_mhz,
            "clock_period_ns": result.clock_period_ns,
            "clock_mhz": 1000.0 / result.clock_period_ns,
            "startpoint": result.startpoint,
            "endpoint": result.endpoint,
            "corner": f"typical ({read_liberty(self.config.library.require()).voltage_v:g} V)",
            "assumptions": "ideal clock, zero input/output delay, no wire load (none in the liberty); "
                           "SRAM macros (if any) with the access and setup times of flows/sram_cost.py; " + (
                "high-fanout nets buffered and gates sized by ABC (buffer -p, upsize, dnsize)" if self.config.buffering
                else "no fanout buffering (plain Yosys mapping: high-fanout nets on single small drivers)"),
        }
        path = folder / "timing.json"
        path.write_text(json.dumps(metrics, indent=2))
        return StepOutcome({"timing": path}, metrics)
