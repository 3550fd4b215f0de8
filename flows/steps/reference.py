"""The bit-exact integer reference on the encoded test set, with exact cycle counts."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from flows.engine.step import Step, StepOutcome
from flows.steps.core_config import core_architecture
from flows.steps.test_set import EncodedTestSet
from hw.core import event_layout
from model.architecture import INTENSITY_BITS, RateEncoder
from model.compiled import CompiledNetwork
from sim.cycles import predict_cycles
from sim.reference import ref_run


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

