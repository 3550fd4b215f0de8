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


def _incoming(net: CompiledNetwork, result: ReferenceResult) -> tuple[np.ndarray, np.ndarray]:
    """Spikes entering layer l at each step (B, T, L): the input events for l = 0, layer l-1's spikes
    after; and which steps each inference ran (B, T)."""
    counts = result.layer_spike_counts()
    incoming = np.concatenate([result.input_spikes[:, :, None], counts[:, :, :-1]], axis=2)
    ran = np.arange(1, net.timesteps + 1)[None, :] <= result.timesteps_used[:, None]
    return incoming, ran


def predict_cycles(net: CompiledNetwork, arch: CoreArchitecture, result: ReferenceResult) -> CycleCounts:
    words = np.array(arch.words(net), dtype=np.int64)
    fan_out = np.array([layer.n_out for layer in net.layers], dtype=np.int64)
    incoming, ran = _incoming(net, result)
    steps = np.arange(1, net.timesteps + 1)
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


@dataclass(frozen=True, eq=False)
class MemoryAccesses:
    """Per inference and layer (B, L), the words each memory of the layer reads or writes: what a
    macro costs. Every operation of hw/layer_engine.py reads (and writes back) one membrane word;
    integrating also reads one weight word, updating and initialising one bias word."""

    weight_reads: np.ndarray
    bias_reads: np.ndarray
    membrane_reads: np.ndarray
    membrane_writes: np.ndarray


def memory_accesses(net: CompiledNetwork, arch: CoreArchitecture, result: ReferenceResult) -> MemoryAccesses:
    words = np.array(arch.words(net), dtype=np.int64)
    incoming, ran = _incoming(net, result)
    integrate = (incoming * words * ran[:, :, None]).sum(axis=1)
    # An update pass per timestep run, and one initialising pass at the end of the inference.
    update_and_init = words[None, :] * (result.timesteps_used[:, None] + 1)
    operations = integrate + update_and_init
    return MemoryAccesses(weight_reads=integrate, bias_reads=update_and_init, membrane_reads=operations,
                          membrane_writes=operations)
