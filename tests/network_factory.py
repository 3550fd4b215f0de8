"""Random compiled networks for tests, reproducible from a seed."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from model.compiled import (CompiledLayer, CompiledNetwork, EarlyExit, Integration, Readout, Reset, sized_layer,
                            weight_range)
from model.architecture import CoreArchitecture, MemoryStyle, RateEncoder
from model.convolution import ConvGeometry, ConvShape, chain_geometries




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
    # Convolutions first, on an image of (channels, height, width); then sizes[0] is the flattened
    # output of the last convolution, and sizes[1:] the dense layers (sizes == (): the last
    # convolution is the output layer).
    image: tuple[int, int, int] | None = None
    convolutions: tuple[ConvShape, ...] = ()


def _geometries(spec: NetworkSpec) -> list[ConvGeometry]:
    return chain_geometries(spec.image, spec.convolutions) if spec.convolutions else []


def random_network(spec: NetworkSpec) -> CompiledNetwork:
    rng = np.random.default_rng(spec.seed)
    lo, hi = weight_range(spec.weight_bits)
    layers = []
    geometries = _geometries(spec)
    dense = list(zip(spec.sizes[:-1], spec.sizes[1:]))
    if geometries and spec.sizes and spec.sizes[0] != geometries[-1].n_out:
        raise ValueError(f"sizes[0] must be the last convolution's {geometries[-1].n_out} outputs, not {spec.sizes[0]}")
    shapes = [(g.taps, g.out_channels, g) for g in geometries] + [(n_in, n_out, None) for n_in, n_out in dense]
    for k, (rows, channels, geometry) in enumerate(shapes):
        output = k == len(shapes) - 1
        spiking = not (output and spec.readout is Readout.MEMBRANE)
        if spec.weight_bits == 1:
            weights = rng.choice([-1, 1], size=(rows, channels))
        else:
            # Mostly positive weights so that spikes reach the deeper layers.
            weights = rng.integers(lo // 2, hi + 1, size=(rows, channels))
        bias = rng.integers(-2, 3, size=channels)
        threshold = max(1, int(rng.integers(1, 4)) * max(1, hi // 2))
        neuron = dict(
            leak_shift=spec.leak_shift if spiking else None,
            reset=spec.reset,
            integration=spec.integration if spiking else Integration.CONTINUOUS,
            spiking=spiking,
            conv=geometry,
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


def random_inputs(network: CompiledNetwork, architecture: CoreArchitecture, images: int, rate: float,
                  seed: int) -> np.ndarray:
    """What the host sends: spike frames, or 8-bit intensities averaging `rate` for the on-chip encoder."""
    if architecture.encoder is None:
        return random_spikes(network, images, rate, seed)
    rng = np.random.default_rng(seed)
    return np.clip(rng.normal(rate * 255, 60, size=(images, network.n_inputs)), 0, 255).astype(np.int64)


@dataclass(frozen=True)
class CosimCase:
    """One randomized co-simulation: a network, an architecture and how the host drives it."""

    spec: NetworkSpec
    lanes: int
    gap_probability: float
    backpressure_probability: float
    spike_rate: float
    images: int
    encoder: RateEncoder | None
    memories: MemoryStyle
    spike_batch: int = 1
    operand_isolation: bool = False


def random_cosim_case(seed: int) -> CosimCase:
    """Every setting drawn from `seed`, so a failure is reproduced from the seed alone."""
    rng = np.random.default_rng(10_000 + seed)
    depth = int(rng.integers(1, 4))
    sizes = tuple(int(n) for n in rng.integers(2, 33, size=depth + 1))
    readout = Readout.MEMBRANE if rng.random() < 0.3 else Readout.SPIKE_COUNT
    timesteps = int(rng.integers(1, 7))
    early_exit = None
    if sizes[-1] >= 2 and rng.random() < 0.4:
        margin = int(rng.integers(1, 4)) if readout is Readout.SPIKE_COUNT else int(rng.integers(1, 60))
        early_exit = EarlyExit(min_steps=int(rng.integers(1, timesteps + 1)), margin=margin)
    weight_bits = int(rng.choice([1, 2, 3, 4, 6, 8, 12, 16]))
    leak_shift = None if rng.random() < 0.3 else int(rng.integers(1, 5))  # drawn in this order since the start
    reset = Reset.ZERO if rng.random() < 0.5 else Reset.SUBTRACT
    if reset is Reset.SUBTRACT and seed % 3 == 0:
        # Drawn without the generator, so the other settings of a seed stay what they were before
        # the mode existed.
        reset = Reset.SUBTRACT_AFTER_LEAK
    spec = NetworkSpec(
        sizes=sizes, weight_bits=weight_bits, timesteps=timesteps,
        leak_shift=leak_shift, reset=reset,
        integration=Integration.DISCONTINUOUS if rng.random() < 0.3 else Integration.CONTINUOUS,
        readout=readout, early_exit=early_exit,
        # Now and then a membrane too narrow for the sums, so saturation is exercised.
        membrane_bits=int(rng.integers(max(4, weight_bits + 1), 18)) if rng.random() < 0.15 else None,
        seed=seed)
    if seed % 4 == 2:
        spec = _with_convolutions(spec, np.random.default_rng(20_000 + seed))
    return CosimCase(spec=spec, lanes=int(rng.integers(1, max(sizes[1:]) + 1)),
                     gap_probability=float(rng.choice([0.0, 0.0, 0.2, 0.5])),
                     backpressure_probability=float(rng.choice([0.0, 0.0, 0.3, 0.7])),
                     spike_rate=float(rng.uniform(0.05, 0.7)), images=int(rng.integers(2, 7)),
                     encoder=RateEncoder(lanes=int(rng.integers(1, 17)), seed=int(rng.integers(0, 1000)))
                     if rng.random() < 0.25 else None,
                     # Odd seeds keep the memories as SRAM macros (drawn without the generator, so the
                     # other settings of a seed stay what they were before the macros existed).
                     memories=MemoryStyle.SRAM_MACROS if seed % 2 else MemoryStyle.FLIP_FLOPS,
                     # Two seeds in five batch their dense layers' spikes (their own generator again).
                     spike_batch=int(np.random.default_rng(30_000 + seed).integers(2, 10)) if seed % 5 in (1, 3) else 1,
                     operand_isolation=seed % 3 == 1)


def _with_convolutions(spec: NetworkSpec, rng: np.random.Generator) -> NetworkSpec:
    """The spec with one or two random convolutions in front (from their own generator, so that the
    rest of a seed's settings stay what they were before convolutions existed); now and then the last
    convolution is the output layer."""
    channels, height, width = int(rng.integers(1, 4)), int(rng.integers(3, 10)), int(rng.integers(3, 10))
    spec = replace(spec, image=(channels, height, width), convolutions=())
    for _ in range(int(rng.integers(1, 3))):
        padding = int(rng.integers(0, 3))
        kernel = int(rng.integers(padding + 1, min(5, min(height, width) + 2 * padding) + 1))
        shape = ConvShape(out_channels=int(rng.integers(1, 7)), kernel=kernel, stride=int(rng.integers(1, kernel + 1)),
                          padding=padding)
        spec = replace(spec, convolutions=(*spec.convolutions, shape))
        last = _geometries(spec)[-1]
        height, width = last.out_height, last.out_width
    outputs = _geometries(spec)[-1].n_out
    return replace(spec, sizes=() if rng.random() < 0.2 else (outputs, *spec.sizes[1:]))


# Networks that together cover every neuron option and the extreme weight widths.
VARIED_SPECS = [
    NetworkSpec(sizes=(12, 10, 4), seed=1),
    NetworkSpec(sizes=(12, 10, 4), leak_shift=None, reset=Reset.ZERO, seed=2),
    NetworkSpec(sizes=(16, 9, 7, 3), integration=Integration.DISCONTINUOUS, seed=3),
    NetworkSpec(sizes=(10, 12, 5), readout=Readout.MEMBRANE, weight_bits=8, timesteps=6, seed=4),
    NetworkSpec(sizes=(8, 6, 3), weight_bits=1, seed=5),
    NetworkSpec(sizes=(9, 5, 3), weight_bits=16, leak_shift=4, timesteps=3, seed=6),
    NetworkSpec(sizes=(12, 10, 4), reset=Reset.SUBTRACT_AFTER_LEAK, leak_shift=2, timesteps=6, seed=7),
    NetworkSpec(sizes=(12, 10, 4), reset=Reset.SUBTRACT_AFTER_LEAK, integration=Integration.DISCONTINUOUS, seed=8),
    NetworkSpec(sizes=(48, 5), image=(2, 7, 6), convolutions=(ConvShape(out_channels=4, kernel=3, stride=2, padding=1),),
                seed=9),
    NetworkSpec(sizes=(8, 4), image=(1, 8, 7), readout=Readout.MEMBRANE, weight_bits=6, timesteps=5,
                reset=Reset.SUBTRACT_AFTER_LEAK, integration=Integration.DISCONTINUOUS,
                convolutions=(ConvShape(out_channels=3, kernel=3, stride=1, padding=1),
                              ConvShape(out_channels=2, kernel=4, stride=3, padding=0)), seed=10),
]
