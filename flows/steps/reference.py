"""The bit-exact integer reference on the encoded test set, with exact cycle counts."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from flows.engine.figures import measured, setting
from flows.engine.step import Artifact, Step, StepOutcome
from flows.steps.test_set import EncodedTestSet, accuracy
from hw.core import event_layout
from model.architecture import INTENSITY_BITS, CoreArchitecture, RateEncoder
from model.compiled import CompiledNetwork
from sim.cycles import predict_cycles
from sim.reference import ref_run


@dataclass(frozen=True, kw_only=True)
class InterfaceBits:
    """Bits a host sends per inference: spike events (every spike of all T steps and a marker per
    step, whatever early exit does) against pixel words for the on-chip encoder."""

    events_mean: float = measured("bits", "spike events of all T timesteps and their end-of-step markers, mean")
    on_chip_encoder: int = setting("pixel words for the on-chip encoder, once per inference", "bits")
    on_chip_encoder_lanes: int = setting("pixels per word of that comparison")

def interface_bits(net: CompiledNetwork, test: EncodedTestSet, encoder: RateEncoder) -> InterfaceBits:
    events = (test.spikes.sum(axis=2) + 1).sum(axis=1) * event_layout(net).size
    return InterfaceBits(events_mean=float(events.mean()),
                         on_chip_encoder=encoder.groups(net.n_inputs) * encoder.lanes * INTENSITY_BITS,
                         on_chip_encoder_lanes=encoder.lanes)


@dataclass(frozen=True, kw_only=True)
class ReferenceMetrics:
    images: int = measured("", "test images run through the bit-exact reference")
    accuracy_quantized_reference: float = measured(
        "fraction", "the hardware-exact reference as deployed: its early-exit rule included")
    accuracy_quantized_reference_full_timesteps: float = measured(
        "fraction", "the same integers with every timestep (equal to the above without early exit)")
    agreement_with_torch_quantized: float = measured(
        "fraction", "images on which the full-T reference and the quantized torch model agree, both on the "
        "host's events")
    cycles_per_inference_mean: float = measured("cycles", "exact cycles per inference predicted by sim/cycles.py "
                                                "(the RTL matches it: see verify), mean over the test set")
    cycles_per_inference_p99: float = measured("cycles", "99th percentile of the same")
    cycles_no_stall_floor_mean: float = measured(
        "cycles", "this architecture's no-stall floor, sum over spikes of ceil(n_out / lanes), mean")
    cycles_over_no_stall_floor: float = measured(
        "ratio", "mean cycles / mean no-stall floor: the fixed overhead of the pipeline (not a bound for other designs)")
    cycles_sop_floor_mean: float = measured(
        "cycles", "synaptic operations / lanes, mean: the floor of any design with `lanes` adders")
    cycles_over_sop_floor: float = measured(
        "ratio", "mean cycles / mean SOP floor: what idle lanes and overheads cost against any design")
    sops_per_inference_mean: float = measured("SOPs", "synaptic operations (spike x fan-out) per inference, mean")
    timesteps_used_mean: float = measured("timesteps", "timesteps an inference ran (fewer with early exit), mean")
    spike_rate_per_layer: tuple[float, ...] = measured("spikes/neuron/step", "per layer, over the test set")
    input_spike_rate: float = measured("spikes/input/step", "the core's input spikes' rate over the test set "
                                       "(the on-chip encoder's draws where it has one)")
    interface_bits_per_inference: InterfaceBits = measured("bits", "what a host sends per inference")

class ReferenceStep(Step):
    """The bit-exact integer reference on the whole encoded test set, with exact cycle counts.
    Its config is the architecture's cycle-relevant part (CoreArchitecture.cycle_relevant)."""

    id = "reference"
    inputs = (Artifact.NETWORK, Artifact.TEST_SET, Artifact.TORCH_PREDICTIONS)
    outputs = (Artifact.REFERENCE,)
    Metrics = ReferenceMetrics

    def run(self, inputs, folder: Path) -> StepOutcome:
        arch: CoreArchitecture = self.config
        net = CompiledNetwork.load(inputs[Artifact.NETWORK])
        sent = EncodedTestSet.load(inputs[Artifact.TEST_SET])
        test = sent.for_encoder(arch.encoder)
        result = ref_run(net, test.spikes)
        cycles = predict_cycles(net, arch, result)
        torch_predicted = np.load(inputs[Artifact.TORCH_PREDICTIONS])
        every_step = dataclasses.replace(net, early_exit=None)
        full = result if net.early_exit is None else ref_run(every_step, test.spikes)
        # The quantized torch model ran every timestep on the host's events: the reference is compared
        # with it on the same input (the on-chip encoder's spikes are other draws of the same rates).
        torch_input = full if test is sent else ref_run(every_step, sent.spikes)
        path = folder / "reference.npz"
        np.savez_compressed(path, predicted=result.predicted, timesteps_used=result.timesteps_used,
                            cycles=cycles.cycles, lower_bound=cycles.lower_bound, synaptic_ops=cycles.synaptic_ops,
                            layer_spike_counts=result.layer_spike_counts())
        cycles_mean = float(cycles.cycles.mean())
        sop_floor = float(cycles.synaptic_ops.mean()) / arch.lanes
        return StepOutcome({Artifact.REFERENCE: path}, ReferenceMetrics(
            images=int(test.spikes.shape[0]),
            accuracy_quantized_reference=accuracy(result.predicted, test.labels),
            accuracy_quantized_reference_full_timesteps=accuracy(full.predicted, test.labels),
            agreement_with_torch_quantized=accuracy(torch_input.predicted, torch_predicted),
            cycles_per_inference_mean=cycles_mean,
            cycles_per_inference_p99=float(np.percentile(cycles.cycles, 99)),
            cycles_no_stall_floor_mean=float(cycles.lower_bound.mean()),
            cycles_over_no_stall_floor=cycles_mean / max(float(cycles.lower_bound.mean()), 1.0),
            cycles_sop_floor_mean=sop_floor,
            cycles_over_sop_floor=cycles_mean / max(sop_floor, 1.0),
            sops_per_inference_mean=float(cycles.synaptic_ops.mean()),
            timesteps_used_mean=float(result.timesteps_used.mean()),
            spike_rate_per_layer=tuple(float(s.mean()) for s in result.spikes),
            input_spike_rate=float(test.spikes.mean()),
            interface_bits_per_inference=interface_bits(net, sent, arch.encoder or RateEncoder()),
        ))
