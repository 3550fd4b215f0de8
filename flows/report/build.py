"""The one report builder: the typed step records of a run (or a verification) into a RunReport,
found by their metrics' classes, never by a step's name or folder."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from flows.energy.technology_scaling import ProcessNode, scale_figures
from flows.engine.runner import RunRecords, run_flow
from flows.engine.typed_json import to_jsonable
from flows.report.render import write_report
from flows.report.schema import (SCALING_RULE, SCHEMA_VERSION, AccuracyFigures, EarlyExitFigures, HardwareFigures,
                                 RunReport, ScaledEstimate, StepTiming)
from flows.run_config import RunConfig
from flows.steps.calibrate_exit import ExitCalibrationMetrics
from flows.steps.compile import CompileMetrics
from flows.steps.encode import EncodeMetrics
from flows.steps.import_nir import ImportMetrics
from flows.steps.power import PowerMetrics
from flows.steps.quantize import QuantizeMetrics
from flows.steps.reference import ReferenceMetrics
from flows.steps.synth import SynthMetrics
from flows.steps.timing import TimingMetrics
from flows.steps.train import TrainMetrics
from flows.steps.verify import VerifyMetrics
from model.architecture import CoreArchitecture


def run_and_report(config: RunConfig, run_dir: Path, *, until: str | None = None,
                   progress: Callable | None = None) -> tuple[RunReport, RunRecords]:
    """Run the flow into `run_dir` and write its report there."""
    start = time.perf_counter()
    records = run_flow(config.steps(until=until), run_dir, progress=progress)
    report = build_run_report(config, records, total_seconds=round(time.perf_counter() - start, 1))
    write_report(run_dir, report)
    return report, records


def _accuracy(records: RunRecords) -> AccuracyFigures:
    train, quantize = records.metrics(TrainMetrics), records.metrics(QuantizeMetrics)
    imported = records.metrics(ImportMetrics)
    reference, verify = records.metrics(ReferenceMetrics), records.metrics(VerifyMetrics)
    exit_rule = records.metrics(ExitCalibrationMetrics)
    return AccuracyFigures(
        float_model=train.accuracy_float if train is not None else imported and imported.accuracy_float,
        teacher_ann=train and train.teacher_accuracy,
        float_hardware_decays=quantize and quantize.accuracy_float_hardware_decays,
        post_training_quantization=quantize and quantize.accuracy_post_training_quantization,
        quantized_torch=quantize and quantize.accuracy_quantized_torch,
        quantized_reference=reference and reference.accuracy_quantized_reference,
        quantized_reference_full_timesteps=reference and reference.accuracy_quantized_reference_full_timesteps,
        reference_images=reference and reference.images,
        deployed_with_early_exit=None if reference is None else exit_rule is not None,
        reference_agrees_with_torch=reference and reference.agreement_with_torch_quantized,
        rtl=verify and verify.accuracy_rtl,
        rtl_images=verify and verify.images,
    )


def _hardware(config: RunConfig, records: RunRecords) -> HardwareFigures | None:
    reference = records.metrics(ReferenceMetrics)
    if reference is None:
        return None
    quantize, compiled = records.metrics(QuantizeMetrics), records.metrics(CompileMetrics)
    timing = records.metrics(TimingMetrics)
    return HardwareFigures(
        lanes=config.architecture.lanes,
        weight_bits=quantize.weight_bits,
        membrane_bits=quantize.membrane_bits,
        input=_input_kind(config.encoder is not None),
        words_per_layer=compiled and compiled.words_per_layer,
        weight_memory_bits=compiled and compiled.weight_memory_bits,
        cycles_per_inference_mean=reference.cycles_per_inference_mean,
        cycles_per_inference_p99=reference.cycles_per_inference_p99,
        cycles_no_stall_floor_mean=reference.cycles_no_stall_floor_mean,
        cycles_over_no_stall_floor=reference.cycles_over_no_stall_floor,
        cycles_sop_floor_mean=reference.cycles_sop_floor_mean,
        cycles_over_sop_floor=reference.cycles_over_sop_floor,
        sops_per_inference_mean=reference.sops_per_inference_mean,
        timesteps_used_mean=reference.timesteps_used_mean,
        spike_rate_per_layer=reference.spike_rate_per_layer,
        input_spike_rate=reference.input_spike_rate,
        interface_bits_per_inference=reference.interface_bits_per_inference,
        clock_mhz=timing and timing.clock_mhz,
        latency_us_mean=timing and reference.cycles_per_inference_mean * timing.clock_period_ns / 1000,
    )


def _input_kind(on_chip_encoder: bool) -> str:
    return "on-chip rate encoder" if on_chip_encoder else "spike events"


def _early_exit(records: RunRecords) -> EarlyExitFigures | None:
    calibration, reference = records.metrics(ExitCalibrationMetrics), records.metrics(ReferenceMetrics)
    if calibration is None or reference is None:
        return None
    return EarlyExitFigures(calibration=calibration, avg_timesteps=reference.timesteps_used_mean,
                            accuracy=reference.accuracy_quantized_reference,
                            accuracy_full_timesteps=reference.accuracy_quantized_reference_full_timesteps)


def _scaled(energy: PowerMetrics | None, area: SynthMetrics | None,
            timing: TimingMetrics | None) -> ScaledEstimate | None:
    if energy is None or area is None or timing is None:
        return None
    split = energy.breakdown_nj_per_inference
    return ScaledEstimate(
        rule=SCALING_RULE, source_feature_nm=energy.feature_nm, source_supply_v=energy.supply_v,
        nodes=scale_figures(source=ProcessNode(feature_nm=energy.feature_nm, supply_v=energy.supply_v),
                            dynamic_nj=split["switching"] + split["internal"] + split.get("sram_macro_accesses", 0.0),
                            area_um2=area.total_um2, fmax_mhz=timing.fmax_mhz,
                            sops_per_inference=energy.sops_per_inference_mean))


def _layer_sizes(config: RunConfig) -> tuple[int, ...]:
    """Every layer's neurons, inputs first: a convolution's output maps count as its layer (as a compiled
    network's layer_sizes count them, so run and verify reports agree)."""
    layers = config.snn().layer_sizes()
    return (layers[0][0], *(n_out for _, n_out in layers))


def build_run_report(config: RunConfig, records: RunRecords, *, total_seconds: float | None = None) -> RunReport:
    """The run's figures; sections of steps a shortened flow (--until) did not run are None."""
    encode = records.metrics(EncodeMetrics)
    area, timing, energy = records.metrics(SynthMetrics), records.metrics(TimingMetrics), records.metrics(PowerMetrics)
    return RunReport(
        schema_version=SCHEMA_VERSION,
        kind="run",
        dataset=config.data.dataset,
        network=_layer_sizes(config),
        timesteps=config.network.timesteps,
        test_images=encode.images,
        stopped_after=records[-1].id,
        imported=records.metrics(ImportMetrics),
        accuracy=_accuracy(records),
        hardware=_hardware(config, records),
        early_exit=_early_exit(records),
        verify=records.metrics(VerifyMetrics),
        area=area,
        timing=timing,
        energy=energy,
        scaled_estimate=_scaled(energy, area, timing),
        steps={r.id: StepTiming(seconds=round(r.seconds, 2), cached=r.cached, folder=r.folder.name) for r in records},
        total_seconds=total_seconds,
        config=to_jsonable(config),
    )


def build_verify_report(*, dataset: str, network: tuple[int, ...], timesteps: int, verify: VerifyMetrics,
                        architecture: CoreArchitecture, total_seconds: float) -> RunReport:
    """`spikefab verify`'s report: the same schema, with the sections a verification fills."""
    return RunReport(
        schema_version=SCHEMA_VERSION, kind="verify", dataset=dataset, network=network, timesteps=timesteps,
        test_images=verify.images, stopped_after="verify",
        accuracy=AccuracyFigures(rtl=verify.accuracy_rtl, rtl_images=verify.images),
        verify=verify, total_seconds=total_seconds,
        config={"architecture": to_jsonable(architecture)},
    )
