"""The bit-exact integer reference. It DEFINES the semantics the core implements
(../shared/DESIGN.md, "Integer semantics"), batch-vectorized over images with numpy.

Per layer, at every timestep t, in this order:
  leak       continuous: V -= V >> leak_shift (arithmetic); discontinuous: V = 0
             subtract_after_leak: then V -= threshold where the neuron fired at t - 1
  integrate  V = sat(V + bias); then for each input spike i, ascending: V = sat(V + W[i, :])
             (a convolution: W is the dense matrix it stands for, model/convolution.py)
  fire       s = V >= threshold                       (spiking layers)
  reset      subtract: V -= threshold where s; zero: V = 0 where s; subtract_after_leak: at the next leak
The readout is the output spike count, or the output membrane after integration (non-spiking).
Early exit: after step t (1-based) >= min_steps, stop once top1 - top2 of the readout >= margin.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.compiled import CompiledLayer, CompiledNetwork, Integration, Readout, Reset, signed_range


@dataclass(frozen=True, eq=False)
class ReferenceResult:
    """What the reference predicts for a batch of B images over T timesteps.

    spikes[l]: (B, T, n_out_l) bool, all False after an image's exit; readout: (B, C) at exit;
    readout_steps: (B, T, C) the readout after each step (held from an image's exit on);
    predicted: (B,); timesteps_used: (B,); input_spikes: (B, T) events per step (after exit: 0);
    incoming_taps: (B, T, L) weight rows the spikes entering each layer read (CompiledLayer.taps_per_input);
    tapless_spikes: (B, T, L) spikes entering a layer that reach none of its neurons (a convolution's
    inputs no output sees): the work the cycle model counts (sim/cycles.py).
    """

    spikes: tuple[np.ndarray, ...]
    readout: np.ndarray
    readout_steps: np.ndarray
    predicted: np.ndarray
    timesteps_used: np.ndarray
    input_spikes: np.ndarray
    incoming_taps: np.ndarray
    tapless_spikes: np.ndarray

    def layer_spike_counts(self) -> np.ndarray:
        """(B, T, L): spikes each layer emitted at each step."""
        return np.stack([s.sum(axis=2) for s in self.spikes], axis=2)


def start_of_step(layer: CompiledLayer, v: np.ndarray, fired: np.ndarray) -> np.ndarray:
    """The membrane a step starts from: the leak, then, for subtract_after_leak, the threshold off the
    neurons that fired (`fired`: the previous step's spikes)."""
    if layer.integration is Integration.DISCONTINUOUS:
        v = np.zeros_like(v)
    elif layer.leak_shift is not None:
        v = v - (v >> layer.leak_shift)
    if layer.reset is Reset.SUBTRACT_AFTER_LEAK:
        v = np.where(fired, v - layer.threshold, v)
    return v


def integrate(layer: CompiledLayer, v: np.ndarray, x: np.ndarray, exact_sum: bool) -> np.ndarray:
    """V = sat(V + bias), then V = sat(V + W[i]) for each spiking input i in ascending order.

    With exact_sum (no reachable state can saturate, see CompiledLayer.can_saturate) the sum is one
    matrix product; otherwise the additions are done one input at a time, as the hardware does.
    """
    lo, hi = signed_range(layer.membrane_bits)
    v = np.clip(v + neuron_bias(layer), lo, hi)
    if exact_sum:
        # float64 sums of integers are exact below 2^53, far beyond any membrane; BLAS makes it fast.
        return v + (x.astype(np.float64) @ layer.dense_weights.astype(np.float64)).astype(np.int64)
    w = layer.dense_weights.astype(np.int64)
    for i in range(layer.n_in):
        rows = x[:, i]
        if rows.any():
            v[rows] = np.clip(v[rows] + w[i], lo, hi)
    return v


def neuron_bias(layer: CompiledLayer) -> np.ndarray:
    """(n_out,) each neuron's bias: a convolution's channel biases repeated over its positions."""
    return np.tile(layer.bias, layer.n_out // layer.channels)


def fire_and_reset(layer: CompiledLayer, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if not layer.spiking:
        return np.zeros(v.shape, dtype=bool), v
    s = v >= layer.threshold
    if layer.reset is Reset.SUBTRACT:
        return s, np.where(s, v - layer.threshold, v)
    if layer.reset is Reset.SUBTRACT_AFTER_LEAK:
        return s, v  # the threshold comes off after the next leak
    return s, np.where(s, 0, v)


def top_two(readout: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(argmax with lowest index on ties, top1, top2) per row; top2 == top1 on a tie."""
    order = np.sort(readout, axis=1)
    return np.argmax(readout, axis=1), order[:, -1], order[:, -2] if readout.shape[1] > 1 else order[:, -1]


def ref_run(net: CompiledNetwork, spikes: np.ndarray) -> ReferenceResult:
    """Run the integer network on input spike frames of shape (B, T, n_inputs), bool."""
    spikes = np.asarray(spikes)
    if spikes.ndim != 3 or spikes.shape[1:] != (net.timesteps, net.n_inputs):
        raise ValueError(
            f"input spikes must have shape (images, {net.timesteps}, {net.n_inputs}), not {spikes.shape}"
        )
    if spikes.dtype != bool:
        raise ValueError(f"input spikes must be bool, not {spikes.dtype}")
    batch, steps = spikes.shape[:2]
    exact = [not layer.can_saturate(net.timesteps) for layer in net.layers]
    v = [np.zeros((batch, layer.n_out), dtype=np.int64) for layer in net.layers]
    out = [np.zeros((batch, steps, layer.n_out), dtype=bool) for layer in net.layers]
    readout = np.zeros((batch, net.n_classes), dtype=np.int64)
    readout_steps = np.zeros((batch, steps, net.n_classes), dtype=np.int64)
    active = np.ones(batch, dtype=bool)
    used = np.full(batch, steps, dtype=np.int64)
    input_spikes = np.zeros((batch, steps), dtype=np.int64)
    taps = [layer.taps_per_input() for layer in net.layers]
    incoming_taps = np.zeros((batch, steps, len(net.layers)), dtype=np.int64)
    tapless = np.zeros((batch, steps, len(net.layers)), dtype=np.int64)
    for t in range(steps):
        rows = np.flatnonzero(active)
        if rows.size == 0:
            readout_steps[:, t:] = readout[:, None, :]
            break
        x = spikes[rows, t]
        input_spikes[rows, t] = x.sum(axis=1)
        for k, layer in enumerate(net.layers):
            incoming_taps[rows, t, k] = x.astype(np.int64) @ taps[k]
            tapless[rows, t, k] = x.astype(np.int64) @ (taps[k] == 0)
            fired = out[k][rows, t - 1] if t else np.zeros(v[k][rows].shape, dtype=bool)
            vk = integrate(layer, start_of_step(layer, v[k][rows], fired), x, exact[k])
            s, v[k][rows] = fire_and_reset(layer, vk)
            out[k][rows, t] = s
            x = s
            if k == len(net.layers) - 1:
                readout[rows] = readout[rows] + s if net.readout is Readout.SPIKE_COUNT else vk
        readout_steps[:, t] = readout  # an image that exited keeps its readout
        if net.early_exit is not None and t + 1 >= net.early_exit.min_steps and t + 1 < steps:
            _, top1, top2 = top_two(readout[rows])
            done = rows[top1 - top2 >= net.early_exit.margin]
            used[done] = t + 1
            active[done] = False
    predicted, _, _ = top_two(readout)
    return ReferenceResult(
        spikes=tuple(out),
        readout=readout,
        readout_steps=readout_steps,
        predicted=predicted,
        timesteps_used=used,
        input_spikes=input_spikes,
        incoming_taps=incoming_taps,
        tapless_spikes=tapless,
    )
