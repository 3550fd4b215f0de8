"""Random compiled networks for tests, reproducible from a seed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.compiled import (CompiledLayer, CompiledNetwork, EarlyExit, Integration, Readout, Reset,
                            weight_range)
from model.export import sized_layer


@dataclass(frozen=True, kw_only=True)
class NetworkSpec:
    sizes: tuple[int, ...]
    weight_bits: int = 4
    timesteps: int = 4
    leak_shift: int | None = 2
    reset: Reset = Reset.SUBTRACT
    integration: Integration = Integration.CONTINUOUS
    readout: Readout = Readout.SPIKE_COUNT
    early_exit: EarlyExit | None = None
    membrane_bits: int | None = None  # None: sized so saturation cannot happen
    seed: int = 0


def random_network(spec: NetworkSpec) -> CompiledNetwork:
    rng = np.random.default_rng(spec.seed)
    lo, hi = weight_range(spec.weight_bits)
    layers = []
    pairs = list(zip(spec.sizes[:-1], spec.sizes[1:]))
    for k, (n_in, n_out) in enumerate(pairs):
        output = k == len(pairs) - 1
        spiking = not (output and spec.readout is Readout.MEMBRANE)
        if spec.weight_bits == 1:
            weights = rng.choice([-1, 1], size=(n_in, n_out))
        else:
            # Mostly positive weights so that spikes reach the deeper layers.
            weights = rng.integers(lo // 2, hi + 1, size=(n_in, n_out))
        bias = rng.integers(-2, 3, size=n_out)
        threshold = max(1, int(rng.integers(1, 4)) * max(1, hi // 2))
        neuron = dict(
            leak_shift=spec.leak_shift if spiking else None,
            reset=spec.reset,
            integration=spec.integration if spiking else Integration.CONTINUOUS,
            spiking=spiking,
        )
        if spec.membrane_bits is None:
            layers.append(sized_layer(weights=weights, bias=bias, weight_bits=spec.weight_bits, threshold=threshold,
                                      timesteps=spec.timesteps, **neuron))
        else:
            layers.append(CompiledLayer(weights=weights, bias=bias, weight_bits=spec.weight_bits,
                                        threshold=min(threshold, (1 << (spec.membrane_bits - 1)) - 1),
                                        membrane_bits=spec.membrane_bits, **neuron))
    return CompiledNetwork(layers=tuple(layers), timesteps=spec.timesteps, readout=spec.readout,
                           early_exit=spec.early_exit)


def random_spikes(network: CompiledNetwork, images: int, rate: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.random((images, network.timesteps, network.n_inputs)) < rate
