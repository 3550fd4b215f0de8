"""The run report: one typed record of what a run (or a verification) measured, built from the steps'
metrics by flows/report/build.py and rendered as report.json, report.md and report.png by
flows/report/render.py. Sections embed the steps' own metrics classes, so each figure is described
once, where it is made (its unit, meaning and kind: flows/engine/figures.py); the README's schema
table is generated from these classes (flows/report/schema_doc.py).

report.json is `to_jsonable(RunReport)`; SCHEMA_VERSION changes whenever a field is renamed, removed
or changes meaning (adding a field keeps it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flows.energy.technology_scaling import ScaledFigures
from flows.engine.figures import estimated, measured, setting
from flows.steps.calibrate_exit import ExitCalibrationMetrics
from flows.steps.import_nir import ImportMetrics
from flows.steps.power import PowerMetrics
from flows.steps.reference import InterfaceBits
from flows.steps.synth import SynthMetrics
from flows.steps.timing import TimingMetrics
from flows.steps.verify import VerifyMetrics

SCHEMA_VERSION = 1


@dataclass(frozen=True, kw_only=True)
class AccuracyFigures:
    """Accuracies on the encoded test set; each names the network and the images behind it."""

    float_model: float | None = measured("fraction", "the float model (trained here, or imported), every timestep",
                                         default=None)
    teacher_ann: float | None = measured("fraction", "the ANN teacher (distillation only)", default=None)
    float_hardware_decays: float | None = measured(
        "fraction", "DA-LIF or an imported graph's decay only: the float model with its decays mapped to leak "
        "shifts", default=None)
    post_training_quantization: float | None = measured(
        "fraction", "the float weights quantized before quantization-aware training", default=None)
    quantized_torch: float | None = measured("fraction", "the exported integers in torch, every timestep",
                                             default=None)
    quantized_reference: float | None = measured(
        "fraction", "the hardware-exact reference on reference_images test images, as deployed: early exit "
        "included when deployed_with_early_exit", default=None)
    quantized_reference_full_timesteps: float | None = measured(
        "fraction", "the same reference with every timestep", default=None)
    reference_images: int | None = measured("", "test images behind the reference accuracies", default=None)
    deployed_with_early_exit: bool | None = setting("whether the deployed network exits early", default=None)
    reference_agrees_with_torch: float | None = measured(
        "fraction", "images on which the full-T reference and the torch model agree", default=None)
    rtl: float | None = measured("fraction", "the RTL on the first rtl_images test images, as deployed",
                                 default=None)
    rtl_images: int | None = measured("", "test images run through the RTL", default=None)


@dataclass(frozen=True, kw_only=True)
class HardwareFigures:
    lanes: int = setting("neurons updated per cycle")
    weight_bits: int = setting("bits per weight")
    membrane_bits: tuple[int, ...] = setting("membrane bits per layer")
    input: str = setting("spike events, or the on-chip rate encoder")
    words_per_layer: tuple[int, ...] | None = setting("membrane words per layer", default=None)
    weight_memory_bits: int | None = setting("bits of the weight memories (a convolution's kernel stored once)",
                                             "bits", default=None)
    cycles_per_inference_mean: float = measured("cycles", "exact cycles per inference (reference prediction, "
                                                "equal to the RTL's on every verified image), mean")
    cycles_per_inference_p99: float = measured("cycles", "99th percentile")
    cycles_no_stall_floor_mean: float = measured("cycles", "sum over the weight rows spikes read of the words per "
                                                 "row (ceil(n_out / lanes) for a dense layer), mean")
    cycles_over_no_stall_floor: float = measured("ratio", "mean cycles / mean no-stall floor (this architecture)")
    cycles_sop_floor_mean: float = measured("cycles", "SOPs / lanes, mean: the floor of any design with `lanes` "
                                            "adders")
    cycles_over_sop_floor: float = measured("ratio", "mean cycles / (mean SOPs / lanes)")
    sops_per_inference_mean: float = measured("SOPs", "synaptic operations per inference, mean over the test set")
    timesteps_used_mean: float = measured("timesteps", "timesteps an inference ran, mean")
    spike_rate_per_layer: tuple[float, ...] = measured("spikes/neuron/step", "per layer")
    input_spike_rate: float = measured("spikes/input/step", "input events")
    interface_bits_per_inference: InterfaceBits = measured("bits", "what a host sends per inference")
    clock_mhz: float | None = setting("the clock (from timing)", "MHz", default=None)
    latency_us_mean: float | None = measured("us", "mean cycles at that clock", default=None)


@dataclass(frozen=True, kw_only=True)
class EarlyExitFigures:
    calibration: ExitCalibrationMetrics = setting("the rule and what it did on the held-out images")
    avg_timesteps: float = measured("timesteps", "mean timesteps on the test set with the rule")
    accuracy: float = measured("fraction", "the reference on the test set with the rule")
    accuracy_full_timesteps: float = measured("fraction", "the same network with every timestep")


SCALING_RULE = ("first order from the measured figures: dynamic energy x (L_t/L_s)(V_t/V_s)^2, area x (L_t/L_s)^2, "
                "Fmax x L_s/L_t; leakage not scaled (flows/energy/technology_scaling.py). An estimate for placing "
                "the design beside published chips, not a measurement.")


@dataclass(frozen=True, kw_only=True)
class ScaledEstimate:
    rule: str = setting("the scaling rule")
    source_feature_nm: float = setting("the measured library's feature size", "nm")
    source_supply_v: float = setting("its supply", "V")
    nodes: dict[str, ScaledFigures] = estimated("", "by target node")


@dataclass(frozen=True, kw_only=True)
class StepTiming:
    seconds: float = measured("s", "wall time of the step (of the run that made it, when cached)")
    cached: bool = setting("reused from an earlier run")
    folder: str = setting("the step's folder in the run")


@dataclass(frozen=True, kw_only=True)
class RunReport:
    schema_version: int = setting("this schema's version")
    kind: str = setting("run (spikefab run) or verify (spikefab verify)")
    dataset: str = setting("the data set")
    network: tuple[int, ...] = setting("every layer's neurons, inputs first (a convolution's output maps are its layer's)")
    timesteps: int = setting("timesteps per inference")
    test_images: int = measured("", "test images encoded")
    stopped_after: str = setting("the last step the run ran (all of them, or --until's)")
    imported: ImportMetrics | None = setting("the NIR graph the network came from, and how it was discretised "
                                             "(null: spikefab trained it)", default=None)
    accuracy: AccuracyFigures = measured("", "accuracies")
    hardware: HardwareFigures | None = measured("", "the core (from the reference step on)", default=None)
    early_exit: EarlyExitFigures | None = measured("", "SEENN-I early exit (when calibrated)", default=None)
    verify: VerifyMetrics | None = measured("", "the RTL against the reference", default=None)
    area: SynthMetrics | None = measured("", "synthesis", default=None)
    timing: TimingMetrics | None = measured("", "static timing", default=None)
    energy: PowerMetrics | None = measured("", "energy per inference", default=None)
    scaled_estimate: ScaledEstimate | None = estimated("", "the energy, area and Fmax scaled to newer nodes",
                                                       default=None)
    steps: dict[str, StepTiming] = setting("each step's time and folder", default=None)
    total_seconds: float | None = measured("s", "wall time of the whole command", default=None)
    config: dict[str, Any] | None = setting("the run's configuration as given", default=None)
