"""The files that pass between pytest / the flow and the cocotb testbench running in a simulator."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.architecture import CoreArchitecture, RateEncoder


NO_ENCODER = -1


@dataclass(frozen=True, eq=False)
class Stimulus:
    """One simulation's inputs and how to drive them. inputs: spike frames (B, T, n) bool, or 8-bit
    intensities (B, n) when the architecture has the on-chip encoder."""

    network_path: str
    inputs: np.ndarray
    architecture: CoreArchitecture
    seed: int = 0
    gap_probability: float = 0.0
    backpressure_probability: float = 0.0

    def save(self, path: str | os.PathLike) -> None:
        encoder = self.architecture.encoder
        np.savez(path, network_path=np.array(self.network_path), inputs=self.inputs, lanes=self.architecture.lanes,
                 encoder_lanes=NO_ENCODER if encoder is None else encoder.lanes,
                 encoder_seed=NO_ENCODER if encoder is None else encoder.seed,
                 seed=self.seed, gap_probability=self.gap_probability,
                 backpressure_probability=self.backpressure_probability)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Stimulus":
        with np.load(path) as f:
            encoder = None
            if int(f["encoder_lanes"]) != NO_ENCODER:
                encoder = RateEncoder(lanes=int(f["encoder_lanes"]), seed=int(f["encoder_seed"]))
            return cls(network_path=str(f["network_path"]), inputs=f["inputs"],
                       architecture=CoreArchitecture(lanes=int(f["lanes"]), trace=True, encoder=encoder),
                       seed=int(f["seed"]), gap_probability=float(f["gap_probability"]),
                       backpressure_probability=float(f["backpressure_probability"]))


@dataclass(frozen=True, eq=False)
class RtlObservation:
    """What the monitor saw on the core's ports.

    trace: (N, 4) int rows (image, timestep, layer, neuron), one per traced spike; predicted, timesteps, cycles:
    (B,) as the core reported them; readout: (B, C); input_error: (B,) the result's flag for dropped
    input events; observed_cycles: (B,) counted by the testbench from the first accepted entry to the
    result (equal to `cycles` when the input never idles).
    """

    trace: np.ndarray
    predicted: np.ndarray
    timesteps: np.ndarray
    cycles: np.ndarray
    readout: np.ndarray
    input_error: np.ndarray
    observed_cycles: np.ndarray
    input_gaps: int

    @classmethod
    def from_rows(cls, *, trace_rows, results, observed_cycles, input_gaps: int) -> "RtlObservation":
        return cls(
            trace=np.array(trace_rows, dtype=np.int64).reshape(-1, 4),
            predicted=np.array([r["predicted"] for r in results], dtype=np.int64),
            timesteps=np.array([r["timesteps"] for r in results], dtype=np.int64),
            cycles=np.array([r["cycles"] for r in results], dtype=np.int64),
            readout=np.array([r["readout"] for r in results], dtype=np.int64),
            input_error=np.array([r["input_error"] for r in results], dtype=np.int64),
            observed_cycles=np.array(observed_cycles, dtype=np.int64),
            input_gaps=input_gaps,
        )

    @classmethod
    def concatenate(cls, parts: "list[RtlObservation]") -> "RtlObservation":
        """The observations of consecutive runs over consecutive slices of the images, as one:
        each part's image numbers in the trace are shifted by the images before it."""
        offsets = np.cumsum([0] + [len(part.predicted) for part in parts[:-1]])
        trace = [part.trace + np.array([offset, 0, 0, 0]) for part, offset in zip(parts, offsets)]
        return cls(trace=np.concatenate(trace).reshape(-1, 4),
                   predicted=np.concatenate([part.predicted for part in parts]),
                   timesteps=np.concatenate([part.timesteps for part in parts]),
                   cycles=np.concatenate([part.cycles for part in parts]),
                   readout=np.concatenate([part.readout for part in parts]),
                   input_error=np.concatenate([part.input_error for part in parts]),
                   observed_cycles=np.concatenate([part.observed_cycles for part in parts]),
                   input_gaps=sum(part.input_gaps for part in parts))

    def save(self, path: str | os.PathLike) -> None:
        np.savez(path, trace=self.trace, predicted=self.predicted, timesteps=self.timesteps, cycles=self.cycles,
                 readout=self.readout, input_error=self.input_error, observed_cycles=self.observed_cycles,
                 input_gaps=self.input_gaps)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "RtlObservation":
        with np.load(Path(path)) as f:
            return cls(trace=f["trace"], predicted=f["predicted"], timesteps=f["timesteps"], cycles=f["cycles"],
                       readout=f["readout"], input_error=f["input_error"], observed_cycles=f["observed_cycles"],
                       input_gaps=int(f["input_gaps"]))
