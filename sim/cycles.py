"""The core's exact cycle count per inference, predicted from the reference's spikes.

The timing contract of hw/core.py (an inference's cycles run from its first accepted input event to
the result; cycles spent waiting for input or for the result to be taken are not counted):
  per timestep and layer l with n_l membrane words (ceil(n_out / lanes_of_l)) and g_l words per weight
  row (dense: g_l = n_l; convolution: g_l = out_channels / lanes_of_l, the words of one position):
    integrate   g_l cycles per weight row the layer's input spikes read (a dense layer: one row per
                spike; a convolution: one per output position the spike reaches), 1 cycle for a spike
                that reaches no output, + 1 (end-of-step marker / empty bitmap); a dense layer with a
                spike batch > 1 also spends 1 cycle per input spike taking it into the batch
    update      n_l cycles (threshold, fire, reset, leak, bias) + 1 settle cycle
  readout check C + 1 cycles (scan of C classes, decide) at the last step and, with early exit,
                at every step t >= min_steps
  re-initialise max_l n_l cycles once, at the end of the inference
  on-chip encoder G = ceil(n_inputs / encoder lanes) cycles to load the pixel words, and G more at
                every timestep to draw the spikes (its end of step replaces the marker)
The no-stall floor is the sum over weight rows read of g_l (integrate work alone); the physical floor
of any design with `lanes` adders is the synaptic operations / lanes.
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
    lower_bound: np.ndarray   # (B,) sum over weight rows read of words per row (the no-stall floor)
    synaptic_ops: np.ndarray  # (B,) weight rows read x neurons per row: weight additions done


def _ran(net: CompiledNetwork, result: ReferenceResult) -> np.ndarray:
    """(B, T) which steps each inference ran."""
    return np.arange(1, net.timesteps + 1)[None, :] <= result.timesteps_used[:, None]


def _batching(net: CompiledNetwork, arch: CoreArchitecture) -> np.ndarray:
    """(L,) 1 for a layer that takes its input spikes into a spike batch, else 0."""
    return np.array([arch.spike_batch_of(layer) > 1 for layer in net.layers], dtype=np.int64)


def predict_cycles(net: CompiledNetwork, arch: CoreArchitecture, result: ReferenceResult) -> CycleCounts:
    words = np.array(arch.words(net), dtype=np.int64)
    per_row = np.array([arch.words_per_tap(layer) for layer in net.layers], dtype=np.int64)
    neurons_per_row = np.array([layer.channels for layer in net.layers], dtype=np.int64)
    rows, ran = result.incoming_taps, _ran(net, result)
    steps = np.arange(1, net.timesteps + 1)
    per_step = (rows * (per_row + _batching(net, arch)) + result.tapless_spikes).sum(axis=2) + (words + 2).sum()
    cycles = (per_step * ran).sum(axis=1)
    checked = steps == net.timesteps
    if net.early_exit is not None:
        checked = checked | (steps >= net.early_exit.min_steps)
    checks = (ran & checked[None, :]).sum(axis=1)
    cycles = cycles + checks * (net.n_classes + 1) + int(words.max())
    if arch.encoder is not None:
        # Load the pixel words once, then draw every group at every timestep.
        cycles = cycles + arch.encoder.groups(net.n_inputs) * (result.timesteps_used + 1)
    lower = (rows * per_row * ran[:, :, None]).sum(axis=(1, 2))
    sops = (rows * neurons_per_row * ran[:, :, None]).sum(axis=(1, 2))
    return CycleCounts(cycles=cycles, lower_bound=lower, synaptic_ops=sops)


@dataclass(frozen=True, eq=False)
class MemoryAccesses:
    """Per inference and layer (B, L), the words each memory of the layer reads or writes: what a
    macro costs. Every operation of hw/layer_engine.py reads (and writes back) one membrane word,
    except within a spike batch, whose spikes share one read and one write of each word; integrating
    also reads one weight word, updating and initialising one bias word."""

    weight_reads: np.ndarray
    bias_reads: np.ndarray
    membrane_reads: np.ndarray
    membrane_writes: np.ndarray


def memory_accesses(net: CompiledNetwork, arch: CoreArchitecture, result: ReferenceResult) -> MemoryAccesses:
    words = np.array(arch.words(net), dtype=np.int64)
    per_row = np.array([arch.words_per_tap(layer) for layer in net.layers], dtype=np.int64)
    ran = _ran(net, result)
    integrate = (result.incoming_taps * per_row * ran[:, :, None]).sum(axis=1)
    # A batch of up to b spikes passes over the words once: ceil(spikes / b) passes per timestep.
    batch = np.array([arch.spike_batch_of(layer) for layer in net.layers], dtype=np.int64)
    passes = -(-result.incoming_taps // batch)
    membrane_integrate = (passes * per_row * ran[:, :, None]).sum(axis=1)
    # An update pass per timestep run, and one initialising pass at the end of the inference.
    update_and_init = words[None, :] * (result.timesteps_used[:, None] + 1)
    membrane = membrane_integrate + update_and_init
    return MemoryAccesses(weight_reads=integrate, bias_reads=update_and_init, membrane_reads=membrane,
                          membrane_writes=membrane)
