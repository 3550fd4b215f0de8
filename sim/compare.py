"""The checker: what the RTL did against what the reference says it must do, exactly."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.architecture import CoreArchitecture
from model.compiled import CompiledNetwork

from .cycles import CycleCounts, predict_cycles
from .reference import ReferenceResult, ref_run
from .rtl_observation import RtlObservation


@dataclass(frozen=True, eq=False)
class Comparison:
    images: int
    mismatched_images: tuple[int, ...]
    cycle_mismatches: int
    first_mismatch: str | None
    reference: ReferenceResult
    cycles: CycleCounts


def trace_to_spikes(net: CompiledNetwork, trace: np.ndarray, images: int) -> tuple[np.ndarray, ...]:
    """Rebuild (B, T, n_out) spike arrays per layer from trace rows (image, timestep, layer, neuron)."""
    out = [np.zeros((images, net.timesteps, layer.n_out), dtype=bool) for layer in net.layers]
    for k, layer in enumerate(net.layers):
        rows = trace[trace[:, 2] == k]
        if np.any(rows[:, 3] >= layer.n_out) or np.any(rows[:, 0] >= images):
            raise ValueError(f"the trace names a neuron or image that does not exist (layer {k})")
        out[k][rows[:, 0], rows[:, 1], rows[:, 3]] = True
    return tuple(out)


def compare_with_reference(net: CompiledNetwork, arch: CoreArchitecture, spikes: np.ndarray,
                           observation: RtlObservation) -> Comparison:
    reference = ref_run(net, spikes)
    cycles = predict_cycles(net, arch, reference)
    images = spikes.shape[0]
    if observation.predicted.shape != (images,):
        return Comparison(images, tuple(range(images)), images,
                          f"the RTL returned {observation.predicted.shape[0]} results for {images} images",
                          reference, cycles)
    rtl_spikes = trace_to_spikes(net, observation.trace, images)
    bad = np.zeros(images, dtype=bool)
    first: tuple | None = None
    for image in range(images):
        for t in range(net.timesteps):
            for k in range(len(net.layers)):
                diff = np.flatnonzero(rtl_spikes[k][image, t] != reference.spikes[k][image, t])
                if diff.size:
                    bad[image] = True
                    if first is None:
                        n = int(diff[0])
                        first = (f"image {image}, timestep {t}, layer {k}, neuron {n}: RTL spike "
                                 f"{int(rtl_spikes[k][image, t, n])}, reference {int(reference.spikes[k][image, t, n])}",)
                    break
            if bad[image]:
                break
    # Spike frames are always a valid stream, so the core must never flag an input error on them.
    fields = (("predicted class", observation.predicted, reference.predicted),
              ("timesteps used", observation.timesteps, reference.timesteps_used),
              ("input error flag", observation.input_error, np.zeros(images, dtype=np.int64)))
    for name, got, want in fields:
        for image in np.flatnonzero(got != want):
            bad[image] = True
            first = first or (f"image {image}: RTL {name} {got[image]}, reference {want[image]}",)
    readout_bad = np.any(observation.readout != reference.readout, axis=1)
    for image in np.flatnonzero(readout_bad):
        bad[image] = True
        first = first or (f"image {image}: RTL readout {observation.readout[image].tolist()}, "
                          f"reference {reference.readout[image].tolist()}",)
    cycle_bad = observation.cycles != cycles.cycles
    if observation.input_gaps == 0:
        cycle_bad |= observation.observed_cycles != observation.cycles
    for image in np.flatnonzero(cycle_bad):
        first = first or (f"image {image}: RTL cycles {observation.cycles[image]} (seen by the testbench "
                          f"{observation.observed_cycles[image]}), reference {cycles.cycles[image]}",)
    return Comparison(
        images=images,
        mismatched_images=tuple(int(i) for i in np.flatnonzero(bad | cycle_bad)),
        cycle_mismatches=int(cycle_bad.sum()),
        first_mismatch=None if first is None else first[0],
        reference=reference,
        cycles=cycles,
    )
