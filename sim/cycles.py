"""The core's exact cycle count per inference, predicted from the reference's spikes.

The timing contract of hw/core.py (an inference's cycles run from its first accepted input event to
the result; cycles spent waiting for input or for the result to be taken are not counted):
  per timestep and layer l with n_l words (ceil(n_out / lanes)):
    integrate   n_l cycles per input spike of the layer, + 1 (end-of-step marker / empty bitmap)
    update      n_l cycles (threshold, fire, reset, leak, bias) + 1 settle cycle
  readout check C + 1 cycles (scan of C classes, decide) at the last step and, with early exit,
                at every step t >= min_steps
  re-initialise max_l n_l cycles once, at the end of the inference
  on-chip encoder G = ceil(n_inputs / encoder lanes) cycles to load the pixel words, and G more at
                every timestep to draw the spikes (its end of step replaces the marker)
The event-driven lower bound is the sum over spikes of n_l (integrate work alone).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.architecture import CoreArchitecture
from model.compiled import CompiledNetwork

from .reference import ReferenceResult


@dataclass(frozen=True, eq=False)
class CycleCounts:
    cycles: np.ndarray        # (B,) exact cycles per inference
    lower_bound: np.ndarray   # (B,) sum over spikes of words per spike
    synaptic_ops: np.ndarray  # (B,) spikes x fan-out: weight additions done


def predict_cycles(net: CompiledNetwork, arch: CoreArchitecture, result: ReferenceResult) -> CycleCounts:
    words = np.array(arch.words(net), dtype=np.int64)
    fan_out = np.array([layer.n_out for layer in net.layers], dtype=np.int64)
    # Spikes entering layer l at each step: the input events for l = 0, layer l-1's spikes after.
    counts = result.layer_spike_counts()
    incoming = np.concatenate([result.input_spikes[:, :, None], counts[:, :, :-1]], axis=2)
    steps = np.arange(1, net.timesteps + 1)
    ran = steps[None, :] <= result.timesteps_used[:, None]
    per_step = (incoming * words).sum(axis=2) + (words + 2).sum()
    cycles = (per_step * ran).sum(axis=1)
    checked = steps == net.timesteps
    if net.early_exit is not None:
        checked = checked | (steps >= net.early_exit.min_steps)
    checks = (ran & checked[None, :]).sum(axis=1)
    cycles = cycles + checks * (net.n_classes + 1) + int(words.max())
    if arch.encoder is not None:
        # Load the pixel words once, then draw every group at every timestep.
        cycles = cycles + arch.encoder.groups(net.n_inputs) * (result.timesteps_used + 1)
    lower = (incoming * words * ran[:, :, None]).sum(axis=(1, 2))
    sops = (incoming * fan_out * ran[:, :, None]).sum(axis=(1, 2))
    return CycleCounts(cycles=cycles, lower_bound=lower, synaptic_ops=sops)
