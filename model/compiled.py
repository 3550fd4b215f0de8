"""The compiled network: the single contract between training (model/) and hardware (hw/, sim/).

numpy and the standard library only: hw/ and sim/ import this module without pulling in torch.
The integer semantics it describes are defined by sim/reference.py and ../shared/DESIGN.md.
"""

from __future__ import annotations

import enum
import io
import json
import os
import zipfile
import zlib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from .atomic_file import write_atomically
from .convolution import ConvGeometry, ConvGeometryError

# Version 3 adds convolution layers; version 2 records the input code (Encoding); version 1 files
# still load, their code unrecorded.
FORMAT_VERSION = 3
READABLE_VERSIONS = (1, 2, 3)
FILE_MAGIC = "spikefab-compiled-network"

MAX_WEIGHT_BITS = 16
MAX_MEMBRANE_BITS = 32
MAX_TIMESTEPS = 1 << 16  # the core's timestep counter


class CompiledNetworkError(ValueError):
    """A compiled network that is inconsistent, or a file that does not hold one."""


class Integration(enum.Enum):
    """Whether the membrane carries over between timesteps (SEEDS: continuous/discontinuous)."""

    CONTINUOUS = "continuous"
    DISCONTINUOUS = "discontinuous"


class Reset(enum.Enum):
    """What a spike does to its neuron's membrane. SUBTRACT: V -= threshold at once, so the next leak
    decays the remainder. SUBTRACT_AFTER_LEAK: the next step's leak acts on the membrane as it was, and
    the threshold is subtracted after it (V = leak(V) - threshold): snnTorch's default Leaky
    (reset_mechanism="subtract", reset_delay=True). ZERO: V = 0."""

    SUBTRACT = "subtract"
    SUBTRACT_AFTER_LEAK = "subtract_after_leak"
    ZERO = "zero"


class Readout(enum.Enum):
    """SPIKE_COUNT: output spikes counted over time. MEMBRANE: the output layer is a non-spiking
    accumulator and its membrane is the readout."""

    SPIKE_COUNT = "spike_count"
    MEMBRANE = "membrane"


class Encoding(enum.Enum):
    """How the network's inputs are to be fed as spikes: the code it was trained with, recorded so that
    verification and a deployment repeat it. The values are the CLI's --input-code names."""

    RATE = "rate"                  # Bernoulli: input i spikes at each step with probability x[i]
    REGULAR_RATE = "regular-rate"  # deterministic: round(x[i] T) spikes spread evenly
    LATENCY = "latency"            # one spike at step round((1 - x[i]) (T - 1)) if x[i] > 0
    EVENTS = "events"              # the data are spike frames already (binned event-camera recordings)
    UNRECORDED = "unrecorded"      # a version-1 file, which did not record it: give the code explicitly


def signed_range(bits: int) -> tuple[int, int]:
    """The closed range of a two's complement number of `bits` bits."""
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


def weight_range(weight_bits: int) -> tuple[int, int]:
    """Values a weight of `weight_bits` may take. One bit means binary weights, -1 or +1."""
    if weight_bits == 1:
        return -1, 1
    return signed_range(weight_bits)


def membrane_bits_for(lo: int, hi: int) -> int:
    """The fewest two's complement bits holding every integer in [lo, hi]."""
    bits = 2
    while not (signed_range(bits)[0] <= lo and hi <= signed_range(bits)[1]):
        bits += 1
    return bits


@dataclass(frozen=True, eq=False)
class CompiledLayer:
    """One layer of integer LIF neurons (or the non-spiking readout accumulator), fully connected or,
    with `conv`, a 2-D convolution (model/convolution.py: its layouts and weight matrix).

    Fully connected: weights[i, j] is the synapse from input i to neuron j, bias[j] neuron j's bias.
    Convolution: weights[r, o] is kernel tap r (ky, kx, input channel) of output channel o, shared by
    every output position, and bias[o] is output channel o's.
    """

    weights: np.ndarray
    bias: np.ndarray
    weight_bits: int
    threshold: int
    leak_shift: int | None
    reset: Reset
    integration: Integration
    membrane_bits: int
    spiking: bool = True
    conv: ConvGeometry | None = None

    def __post_init__(self) -> None:
        weights = np.asarray(self.weights)
        bias = np.asarray(self.bias)
        if weights.ndim != 2 or weights.shape[0] < 1 or weights.shape[1] < 1:
            raise CompiledNetworkError(f"weights must be a non-empty 2-D array (n_in, n_out), not shape {weights.shape}")
        if self.conv is not None:
            if not isinstance(self.conv, ConvGeometry):
                raise CompiledNetworkError(f"conv must be None or a ConvGeometry, not {self.conv!r}")
            if weights.shape != (self.conv.taps, self.conv.out_channels):
                raise CompiledNetworkError(
                    f"a {self.conv.kernel}x{self.conv.kernel} convolution from {self.conv.in_channels} to "
                    f"{self.conv.out_channels} channels takes a ({self.conv.taps}, {self.conv.out_channels}) weight "
                    f"matrix, not shape {weights.shape}"
                )
        if not np.issubdtype(weights.dtype, np.integer):
            raise CompiledNetworkError(f"weights must be integers, not {weights.dtype}")
        if bias.shape != (weights.shape[1],) or not np.issubdtype(bias.dtype, np.integer):
            raise CompiledNetworkError(f"bias must be {weights.shape[1]} integers, not shape {bias.shape} of {bias.dtype}")
        if not isinstance(self.weight_bits, int) or not 1 <= self.weight_bits <= MAX_WEIGHT_BITS:
            raise CompiledNetworkError(f"weight_bits must be 1..{MAX_WEIGHT_BITS}, not {self.weight_bits!r}")
        lo, hi = weight_range(self.weight_bits)
        bad = (weights < lo) | (weights > hi) | ((weights == 0) if self.weight_bits == 1 else False)
        if np.any(bad):
            i, j = np.argwhere(bad)[0]
            allowed = "-1 or +1" if self.weight_bits == 1 else f"{lo}..{hi}"
            raise CompiledNetworkError(
                f"weight [{i}, {j}] = {weights[i, j]} does not fit {self.weight_bits} bits ({allowed}); "
                "re-quantize with more weight bits or clip the weights"
            )
        if not isinstance(self.membrane_bits, int) or not 2 <= self.membrane_bits <= MAX_MEMBRANE_BITS:
            raise CompiledNetworkError(f"membrane_bits must be 2..{MAX_MEMBRANE_BITS}, not {self.membrane_bits!r}")
        v_lo, v_hi = signed_range(self.membrane_bits)
        if np.any(bias < v_lo) or np.any(bias > v_hi):
            raise CompiledNetworkError(f"a bias does not fit the {self.membrane_bits}-bit membrane ({v_lo}..{v_hi})")
        if not isinstance(self.threshold, int) or isinstance(self.threshold, bool) or not 1 <= self.threshold <= v_hi:
            raise CompiledNetworkError(f"threshold must be 1..{v_hi} for a {self.membrane_bits}-bit membrane, not {self.threshold!r}")
        if self.leak_shift is not None and (not isinstance(self.leak_shift, int) or not 1 <= self.leak_shift < self.membrane_bits):
            raise CompiledNetworkError(f"leak_shift must be None or 1..{self.membrane_bits - 1}, not {self.leak_shift!r}")
        if not isinstance(self.spiking, bool):
            raise CompiledNetworkError(f"spiking must be true or false, not {self.spiking!r}")
        if not isinstance(self.reset, Reset) or not isinstance(self.integration, Integration):
            raise CompiledNetworkError("reset and integration must be Reset and Integration members")
        if not self.spiking and self.integration is not Integration.CONTINUOUS:
            raise CompiledNetworkError(
                "a non-spiking (accumulator) layer must integrate continuously: its membrane is the readout"
            )
        # Keep the arrays immutable: the network is a frozen value.
        object.__setattr__(self, "weights", _frozen(weights, np.int32))
        object.__setattr__(self, "bias", _frozen(bias, np.int32))

    @property
    def n_in(self) -> int:
        return int(self.weights.shape[0]) if self.conv is None else self.conv.n_in

    @property
    def n_out(self) -> int:
        return int(self.weights.shape[1]) if self.conv is None else self.conv.n_out

    @property
    def channels(self) -> int:
        """Neurons that share a position: a convolution's output channels; a dense layer's n_out."""
        return int(self.weights.shape[1])

    @cached_property
    def dense_weights(self) -> np.ndarray:
        """(n_in, n_out): the synapse from every input to every neuron (a convolution expanded)."""
        if self.conv is None:
            return self.weights
        return _frozen(self.conv.dense(self.weights), np.int32)

    def taps_per_input(self) -> np.ndarray:
        """(n_in,) the weight rows one spike of each input reads: 1 for a dense layer; for a convolution
        the output positions the input reaches (0 for an input no output sees)."""
        if self.conv is None:
            return np.ones(self.n_in, dtype=np.int64)
        return self.conv.taps_per_input()

    def per_step_input_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Per neuron (per output channel for a convolution, whose interior positions see every tap), the
        most negative and most positive sum one timestep can add (bias included)."""
        w = self.weights.astype(np.int64)
        b = self.bias.astype(np.int64)
        return np.minimum(b, 0) + np.minimum(w, 0).sum(axis=0), np.maximum(b, 0) + np.maximum(w, 0).sum(axis=0)

    def membrane_bound(self, timesteps: int) -> tuple[int, int]:
        """A range the membrane cannot leave over `timesteps` steps, whatever the input spikes.

        Each step adds at most the per-step bound; reset and leak only move V towards 0. With a leak
        shift k, V' = V - floor(V / 2^k) keeps |V| below (M + 1) * 2^k for a per-step magnitude M.
        Subtracting after the leak can take a neuron that fired at V >= threshold below 0, to no less
        than leak(threshold) - threshold (the leak is monotone): the bound's low end moves down by that
        drop, which both of its parts allow for (from -drop, a leak pulls V up once |V| passes the cap).
        """
        lo, hi = self.per_step_input_bounds()
        steps = 1 if self.integration is Integration.DISCONTINUOUS else timesteps
        low, high = int(lo.min()) * steps, int(hi.max()) * steps
        if self.leak_shift is not None and self.integration is Integration.CONTINUOUS:
            cap = (max(-int(lo.min()), int(hi.max())) + 1) << self.leak_shift
            low, high = max(low, -cap), min(high, cap)
        return min(low, 0) - self.reset_drop(), max(high, self.threshold)

    def reset_drop(self) -> int:
        """How far below 0 the reset can take a membrane: threshold - leak(threshold) when it subtracts
        after the leak (the whole threshold when the membrane is cleared every step), else 0."""
        if self.reset is not Reset.SUBTRACT_AFTER_LEAK or not self.spiking:
            return 0
        if self.integration is Integration.DISCONTINUOUS:
            return self.threshold
        return 0 if self.leak_shift is None else self.threshold >> self.leak_shift

    def can_saturate(self, timesteps: int) -> bool:
        lo, hi = self.membrane_bound(timesteps)
        v_lo, v_hi = signed_range(self.membrane_bits)
        return lo < v_lo or hi > v_hi


def sized_layer(*, weights: np.ndarray, bias: np.ndarray, weight_bits: int, threshold: int, timesteps: int,
                **neuron) -> CompiledLayer:
    """A layer whose membrane has the fewest bits that provably never saturate over `timesteps`: the sizing
    rule every front end (spikefab's trainer, importers) uses, so it lives in the contract, not in torch code."""
    widest = CompiledLayer(weights=weights, bias=bias, weight_bits=weight_bits, threshold=threshold,
                           membrane_bits=MAX_MEMBRANE_BITS, **neuron)
    bits = membrane_bits_for(*widest.membrane_bound(timesteps))
    if bits > MAX_MEMBRANE_BITS:
        raise CompiledNetworkError(f"the membrane would need {bits} bits (> {MAX_MEMBRANE_BITS}); use fewer timesteps or "
                                   "a leak shift")
    # A shift must be narrower than the membrane it shifts: widen the membrane for a long leak.
    leak_shift = neuron.get("leak_shift")
    bits = max(bits, 0 if leak_shift is None else leak_shift + 1)
    return CompiledLayer(weights=weights, bias=bias, weight_bits=weight_bits, threshold=threshold,
                         membrane_bits=bits, **neuron)


@dataclass(frozen=True)
class EarlyExit:
    """SEENN-I in integer form: stop after step t (1-based) >= min_steps once top1 - top2 >= margin."""

    min_steps: int
    margin: int

    def __post_init__(self) -> None:
        if not isinstance(self.min_steps, int) or self.min_steps < 1:
            raise CompiledNetworkError(f"early exit min_steps must be >= 1, not {self.min_steps!r}")
        if not isinstance(self.margin, int) or self.margin < 1:
            raise CompiledNetworkError(f"early exit margin must be >= 1, not {self.margin!r}")


@dataclass(frozen=True, eq=False)
class CompiledNetwork:
    layers: tuple[CompiledLayer, ...]
    timesteps: int
    readout: Readout
    encoding: Encoding = Encoding.RATE
    early_exit: EarlyExit | None = None
    class_names: tuple[str, ...] = ()
    format_version: int = field(default=FORMAT_VERSION)

    def __post_init__(self) -> None:
        if not isinstance(self.encoding, Encoding):
            raise CompiledNetworkError(f"encoding must be an Encoding member, not {self.encoding!r}")
        if self.format_version != FORMAT_VERSION:
            raise CompiledNetworkError(
                f"compiled network format version {self.format_version} is not supported (this spikefab reads "
                f"version {FORMAT_VERSION}); re-export the network with this spikefab"
            )
        layers = tuple(self.layers)
        object.__setattr__(self, "layers", layers)
        if not layers or not all(isinstance(layer, CompiledLayer) for layer in layers):
            raise CompiledNetworkError("a compiled network needs at least one CompiledLayer")
        for k in range(1, len(layers)):
            if layers[k].n_in != layers[k - 1].n_out:
                raise CompiledNetworkError(
                    f"layer {k} takes {layers[k].n_in} inputs but layer {k - 1} has {layers[k - 1].n_out} neurons"
                )
        for k, layer in enumerate(layers[:-1]):
            if not layer.spiking:
                raise CompiledNetworkError(f"layer {k} is hidden and must spike; only the output layer may be non-spiking")
        if not isinstance(self.timesteps, int) or not 1 <= self.timesteps <= MAX_TIMESTEPS:
            raise CompiledNetworkError(f"timesteps must be 1..{MAX_TIMESTEPS}, not {self.timesteps!r}")
        if not isinstance(self.readout, Readout):
            raise CompiledNetworkError(f"readout must be a Readout member, not {self.readout!r}")
        if (self.readout is Readout.MEMBRANE) == layers[-1].spiking:
            raise CompiledNetworkError(
                "the output layer must be non-spiking exactly when the readout is MEMBRANE "
                f"(readout {self.readout.value}, output spiking={layers[-1].spiking})"
            )
        if self.early_exit is not None:
            if self.n_classes < 2:
                raise CompiledNetworkError("early exit needs at least two classes")
            if self.early_exit.min_steps > self.timesteps:
                raise CompiledNetworkError(
                    f"early exit min_steps {self.early_exit.min_steps} exceeds timesteps {self.timesteps}"
                )
        if self.class_names and len(self.class_names) != self.n_classes:
            raise CompiledNetworkError(f"{len(self.class_names)} class names for {self.n_classes} classes")

    @property
    def n_inputs(self) -> int:
        return self.layers[0].n_in

    @property
    def n_classes(self) -> int:
        return self.layers[-1].n_out

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        return (self.n_inputs, *(layer.n_out for layer in self.layers))

    @property
    def readout_bits(self) -> int:
        """Bits of one readout value: a spike count 0..T, or the output membrane."""
        if self.readout is Readout.SPIKE_COUNT:
            return membrane_bits_for(0, self.timesteps)
        return self.layers[-1].membrane_bits

    def can_saturate(self) -> bool:
        """Whether any membrane can reach its saturation limits (the semantics still hold if so)."""
        return any(layer.can_saturate(self.timesteps) for layer in self.layers)

    # -- one file on disk ------------------------------------------------------------------------

    def header(self) -> dict:
        """Everything but the weights and biases, as JSON-ready values (the file's "meta")."""
        return {
            "magic": FILE_MAGIC,
            "format_version": self.format_version,
            "timesteps": self.timesteps,
            "readout": self.readout.value,
            "encoding": self.encoding.value,
            "early_exit": None if self.early_exit is None else [self.early_exit.min_steps, self.early_exit.margin],
            "class_names": list(self.class_names),
            "layers": [
                {
                    "weight_bits": layer.weight_bits,
                    "threshold": layer.threshold,
                    "leak_shift": layer.leak_shift,
                    "reset": layer.reset.value,
                    "integration": layer.integration.value,
                    "membrane_bits": layer.membrane_bits,
                    "spiking": layer.spiking,
                    "conv": None if layer.conv is None else layer.conv.as_dict(),
                }
                for layer in self.layers
            ],
        }

    def save(self, path: str | os.PathLike) -> Path:
        """Write the network as one .npz file, atomically (no half-written file on failure)."""
        path = Path(path)
        arrays = {"meta": np.frombuffer(json.dumps(self.header()).encode(), dtype=np.uint8)}
        for k, layer in enumerate(self.layers):
            arrays[f"weights_{k}"] = layer.weights
            arrays[f"bias_{k}"] = layer.bias
        return write_atomically(path, lambda f: np.savez_compressed(f, **arrays))

    @classmethod
    def load(cls, path: str | os.PathLike) -> "CompiledNetwork":
        path = Path(path)
        what = f"{path} is not a spikefab compiled network"
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CompiledNetworkError(f"cannot read compiled network {path}: {exc.strerror}") from exc
        try:
            loaded = np.load(io.BytesIO(data), allow_pickle=False)
            if not isinstance(loaded, np.lib.npyio.NpzFile):
                raise CompiledNetworkError(f"{what} (a single .npy array, not an .npz archive)")
            with loaded as npz:
                arrays = {name: npz[name] for name in npz.files}
            meta = json.loads(arrays["meta"].tobytes().decode())
        # zlib.error and zipfile's NotImplementedError come from damaged compressed members (found by fuzzing).
        except (zipfile.BadZipFile, ValueError, KeyError, OSError, EOFError, UnicodeDecodeError, zlib.error,
                NotImplementedError) as exc:
            raise CompiledNetworkError(f"{what} (corrupted or truncated: {exc}); re-export it") from exc
        return cls.from_parts(meta, arrays, source=str(path))

    @classmethod
    def from_parts(cls, meta, arrays: dict[str, np.ndarray], *, source: str) -> "CompiledNetwork":
        """The network from its header (as header() writes it) and its arrays (weights_k as (n_in, n_out)
        integers, bias_k), checked as a file is: `source` names where they came from in errors."""
        what = f"{source} is not a spikefab compiled network"
        if not isinstance(meta, dict) or meta.get("magic") != FILE_MAGIC:
            raise CompiledNetworkError(f"{what} (no spikefab header)")
        version = meta.get("format_version")
        if version not in READABLE_VERSIONS:
            raise CompiledNetworkError(
                f"{source} has compiled network format version {version}; this spikefab reads versions "
                f"{', '.join(map(str, READABLE_VERSIONS))}: re-export the network with this spikefab"
            )
        try:
            layers = tuple(
                CompiledLayer(
                    weights=arrays[f"weights_{k}"],
                    bias=arrays[f"bias_{k}"],
                    weight_bits=spec["weight_bits"],
                    threshold=spec["threshold"],
                    leak_shift=spec["leak_shift"],
                    reset=Reset(spec["reset"]),
                    integration=Integration(spec["integration"]),
                    membrane_bits=spec["membrane_bits"],
                    spiking=spec["spiking"],
                    conv=None if spec.get("conv") is None else ConvGeometry(**spec["conv"]),
                )
                for k, spec in enumerate(meta["layers"])
            )
            exit_rule = meta["early_exit"]
            return cls(
                layers=layers,
                timesteps=meta["timesteps"],
                readout=Readout(meta["readout"]),
                # Version 1 wrote "rate" whatever the code was: it says nothing.
                encoding=Encoding.UNRECORDED if version == 1 else Encoding(meta["encoding"]),
                early_exit=None if exit_rule is None else EarlyExit(min_steps=exit_rule[0], margin=exit_rule[1]),
                class_names=tuple(meta["class_names"]),
            )
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            if isinstance(exc, (CompiledNetworkError, ConvGeometryError)):
                raise CompiledNetworkError(f"{source}: {exc}") from exc
            raise CompiledNetworkError(f"{what} (missing or malformed field: {exc})") from exc


def _frozen(array: np.ndarray, dtype: type) -> np.ndarray:
    out = np.array(array, dtype=dtype, copy=True)
    out.setflags(write=False)
    return out
